include "../include_cycle.thrift"

struct A {
  1: i32 value
}
