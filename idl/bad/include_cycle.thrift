include "include/cycle_a.thrift"

struct Root {
  1: cycle_a.A a
}
