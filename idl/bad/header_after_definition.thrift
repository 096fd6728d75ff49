namespace rs accounts

struct Account {
  1: i64 id
}

include "include/valid_shared.thrift"
