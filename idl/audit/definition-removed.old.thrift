struct Point {
  1: i32 x
  2: i32 y
}

struct Size {
  1: i32 w
  2: i32 h
}
