struct Event {
  1: optional i64 at
}
