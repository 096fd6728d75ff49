// What thriftgen accepts beyond Apache's compiler (0.17 to current): `;` after
// an include, forward references, constants that refer to struct constants,
// and names Apache's generators reserve (accepted here with a warning).
include "include/deep/more.thrift";

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
  void play(1: more.Cursor from_cursor)
}

service Parent {
  void rest()
}

// Apache's generators (all but py) refuse these names; Rust escapes them.
struct Receiver {
  1: i32 self
  2: i32 super
}
