// serde on generated types (tests/tests/serde.rs): a field of every kind,
// under IDL names that differ from their Rust ones.
namespace rs serde_shapes

typedef binary Blob

enum Status {
  ACTIVE = 1
  SUSPENDED = 2
  closedForGood = 3
}

struct Address {
  1: required string streetName
  2: optional i32 zipCode
}

union Contact {
  1: string emailAddress
  2: i64 phone
  3: binary pgpKey
  4: Address postal
}

exception NotFound {
  1: required string what
  2: optional i32 errorCode = 404
}

struct Profile {
  1: required i64 userId
  2: required string displayName
  3: bool isAdmin = false
  4: i8 tiny
  5: i16 small
  6: i32 medium
  7: double score
  8: optional binary avatar
  9: optional uuid sessionId
  10: Status status = Status.ACTIVE
  11: optional list<string> tags
  12: optional set<i32> luckyNumbers
  13: optional map<string, i64> counters
  14: optional map<Status, string> notesByStatus
  15: optional list<Blob> attachments
  16: optional map<string, binary> keysByName
  17: optional Address home
  18: optional list<Contact> contacts
  19: optional Profile manager
  20: optional NotFound lastError
  21: string motto = "carpe diem"
  22: optional map<i32, list<set<binary>>> deep
  23: required binary token
  24: optional map<double, binary> byScore
}

/** Struct keys: serde_json refuses them (it needs string or number keys). */
struct Keyed {
  1: map<Address, i32> byAddress
}
