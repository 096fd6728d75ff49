struct Base {
  1: i32 version
}

service Accounts extends Base {
  void ping()
}
