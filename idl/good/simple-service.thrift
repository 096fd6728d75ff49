// A file name that is not a Rust identifier: the module is `simple_service`.
include "include/include-child.thrift"

struct Ping {
  1: i64 at
}

service SimpleService {
  Ping ping(1: Ping ping)
}
