include "new2/geo.thrift"

struct Route {
  1: required list<geo.Point> points
}
