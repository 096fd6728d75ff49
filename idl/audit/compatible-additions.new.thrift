enum Status {
  ACTIVE = 1
  // Added values are fine: the enum is open in Rust.
  SUSPENDED = 2
}

struct Account {
  1: required string name
  // optional <-> default changes nothing on the wire or in Rust.
  2: string email
  3: optional string phone
  4: optional Status status
} (thriftgen.reserved = "9")

struct Settings {
  1: optional bool dark
}

exception Denied {
  1: string why
}

service Base {
  void ping()
  // Moved here from `Accounts`: still served by `Accounts`.
  i32 count()
}

service Accounts extends Base {
  Account get(1: string name) throws (1: Denied denied)
}

service Admin {
  void reset()
}

const i32 LIMIT = 10
