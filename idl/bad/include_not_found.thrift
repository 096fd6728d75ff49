include "missing/common.thrift"

struct User {
  1: string name
}
