struct Problem {
  1: string message
}

service Accounts {
  void close(1: i64 id) throws (1: Problem problem)
}
