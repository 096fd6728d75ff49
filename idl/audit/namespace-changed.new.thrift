namespace rs users.v2

struct User {
  1: required string name
}
