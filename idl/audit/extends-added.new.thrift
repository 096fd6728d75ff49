service Base {
  void ping()
}

service Api extends Base {
  string version()
}
