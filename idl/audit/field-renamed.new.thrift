struct User {
  1: required string full_name
}
