struct Point {
  1: required i32 x
  2: required i32 y
}

enum Unit {
  METRE = 1
  FOOT = 2
}
