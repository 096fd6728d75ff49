struct Query {
  1: list<i32> ids = {"first": 1}
}
