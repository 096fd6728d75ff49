include "include/valid_shared.thrift"
include "include/other/valid_shared.thrift"

struct User {
  1: valid_shared.Shared shared
}
