struct Point {
  1: i32 x
  2: i32 y
}

const Point ORIGIN = {"x": 0, y: 0}
