struct Event {
  1: required i64 at
  2: optional string source
}
