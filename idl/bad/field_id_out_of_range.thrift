struct Metrics {
  1: i64 count
  70000: i64 total
}
