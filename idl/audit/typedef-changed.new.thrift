typedef i64 UserId

struct User {
  1: required UserId id
}
