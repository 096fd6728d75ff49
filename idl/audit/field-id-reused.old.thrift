struct Order {
  1: required i64 id
  2: optional string note
}
