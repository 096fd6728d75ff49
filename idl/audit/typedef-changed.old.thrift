typedef i32 UserId

struct User {
  1: required UserId id
}
