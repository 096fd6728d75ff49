struct User {
  1: required string name
  2: optional i32 age
}
