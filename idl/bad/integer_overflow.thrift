// The largest order number handed out so far.
const i64 BIG = 9876543210987654321

struct Counter {
  1: i64 value = BIG
}
