// What thriftgen accepts beyond Apache's compiler (0.17 to current): forward
// references, and constants that refer to struct constants.
namespace rs beyond_apache

struct Point {
  1: i32 x
  2: i32 y
}

// Apache needs a constant defined before it is used.
const i32 DOUBLED = LIMIT
const i32 LIMIT = 100

const Point ORIGIN = {"x": 0, "y": 0}
// Apache refuses a struct constant used as a value.
const list<Point> PATH = [ORIGIN, {"x": 3, "y": 4}]

// Apache needs a base service defined before the service that extends it.
service Child extends Parent {
  void play()
}

service Parent {
  void rest()
}
