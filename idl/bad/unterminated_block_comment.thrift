struct User {
  1: string name
}

/* The order type, to be added later.
struct Order {
  1: i64 id
}
