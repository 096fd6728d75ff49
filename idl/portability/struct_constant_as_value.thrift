// Apache accepts only a `{...}` literal where a struct is expected.
struct Point {
  1: i32 x
  2: i32 y
}

const Point ORIGIN = {"x": 0, "y": 0}
const list<Point> PATH = [ORIGIN, {"x": 3, "y": 4}]
