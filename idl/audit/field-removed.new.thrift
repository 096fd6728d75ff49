struct Profile {
  1: required string name
}
