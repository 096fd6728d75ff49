service Accounts {
  void open(1: string owner)
  void close(1: i64 id)
  void open(1: string owner, 2: i64 limit)
}
