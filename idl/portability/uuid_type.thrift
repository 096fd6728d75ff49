// Apache Thrift 0.17 has no `uuid` type (it came in 0.18).
struct Session {
  1: uuid id
}
