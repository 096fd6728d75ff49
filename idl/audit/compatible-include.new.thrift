include "new/shared.thrift"

struct Route {
  1: required list<shared.Point> points
  2: optional shared.Unit unit
  3: optional string name
}

service Maps {
  Route route(1: shared.Point from, 2: shared.Point to)
  // A new method: old clients never call it.
  i32 distance(1: shared.Point from, 2: shared.Point to)
}
