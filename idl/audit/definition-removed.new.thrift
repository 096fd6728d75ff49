struct Point {
  1: i32 x
  2: i32 y
}
