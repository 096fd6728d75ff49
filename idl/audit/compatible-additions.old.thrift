enum Status {
  ACTIVE = 1
}

struct Account {
  1: required string name
  2: optional string email
  3: string phone
}

exception Denied {
  1: string why
}

service Base {
  void ping()
}

service Accounts extends Base {
  Account get(1: string name) throws (1: Denied denied)
  i32 count()
}
