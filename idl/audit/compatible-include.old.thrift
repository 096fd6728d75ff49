include "old/shared.thrift"

struct Route {
  1: required list<shared.Point> points
  2: optional shared.Unit unit
}

service Maps {
  Route route(1: shared.Point from, 2: shared.Point to)
}
