// Apache has no `;` or `,` after a namespace.
namespace py shop;

struct Order {
  1: i64 id
}
