struct Profile {
  1: required string name
  2: optional string fax
}
