service Base {
  void ping()
}

service Other {
  void ping()
}

service Api extends Base {
  string version()
}
