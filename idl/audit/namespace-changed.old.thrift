namespace rs users.v1

struct User {
  1: required string name
}
