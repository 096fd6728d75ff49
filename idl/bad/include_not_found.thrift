// A missing include is a warning, as in Apache's compiler; using a name from
// it is the error.
include "missing/common.thrift"

struct User {
  1: string name
  2: common.Money balance
}
