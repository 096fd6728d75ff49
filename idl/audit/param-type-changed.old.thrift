service Users {
  string name(1: i64 id)
}
