// Every base type, with each kind of requiredness.
namespace rs basic_types

struct Everything {
  1: required bool flag
  2: required byte small_legacy
  3: required i8 small
  4: optional i16 medium
  5: optional i32 regular
  6: optional i64 large
  7: double ratio
  8: string name
  9: binary payload
  10: uuid id
}

struct Defaults {
  1: bool enabled = true
  2: i8 level = -128
  3: i16 port = 8080
  4: i32 retries = 3
  5: i64 deadline_ms = 9223372036854775807
  6: double factor = 0.75
  7: string greeting = "hello"
  8: binary magic = "THRIFT"
}
