struct User {
  1: string name
}

struct Order {
  1: i64 id
  2: Usr owner
}
