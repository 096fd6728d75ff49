service Accounts {
  void ping()
}

struct Holder {
  1: Accounts accounts
}
