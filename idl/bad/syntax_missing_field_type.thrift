struct User {
  1: required string name
  2: email
}
