// The other half of `namespace rs transit`.
namespace rs transit

struct Stop {
  1: string name
  2: double lat
  3: double lon
}

const i32 VERSION = 2
