// The type of a constant must be defined before the constant.
const Point ORIGIN = {"x": 0, "y": 0}

struct Point {
  1: i32 x
  2: i32 y
}
