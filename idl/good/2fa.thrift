// A file name that starts with a digit: the module is `_2fa`. It includes a
// file whose module is the raw identifier `r#type`.
include "type.thrift"

struct Challenge {
  1: required string code
  2: type.Kind kind = type.Kind.TOTP
  3: optional type.match via
}
