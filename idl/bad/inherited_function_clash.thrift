service Base {
  string version()
}

service Accounts extends Base {
  i32 version()
}
