service Users {
  string name(1: i64 id)
  void forget(1: i64 id)
}
