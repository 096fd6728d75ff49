struct accounts.Account {
  1: i64 id
}
