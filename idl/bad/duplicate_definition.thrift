struct User {
  1: string name
}

enum User {
  ADMIN = 1
}
