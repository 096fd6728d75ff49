// Neither compiler accepts annotations on a named type (only on base and
// container types).
struct Money {
  1: i64 cents
}

struct Order {
  1: Money (python.immutable = "") total
}
