// Reached only through shared_types.thrift.
namespace rs more

const string DEFAULT_CURRENCY = "EUR"

struct Cursor {
  1: binary token
}
