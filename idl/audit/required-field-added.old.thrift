struct Event {
  1: required i64 at
}
