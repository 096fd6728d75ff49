service Base {
  void ping()
}

service Api {
  string version()
}
