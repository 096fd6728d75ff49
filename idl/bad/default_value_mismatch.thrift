// A lookup of rows by id.
struct Query {
  1: string table
  2: list<i32> ids = {"first": 1}
}
