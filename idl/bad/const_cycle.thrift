// Bounds for a page size.
const i32 LOW = HIGH
const i32 HIGH = LOW

struct Range {
  1: i32 low = LOW
  2: i32 high = HIGH
}
