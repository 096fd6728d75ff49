service Base {
  void ping()
}

service Other {
  void ping()
}

service Api extends Other {
  string version()
}
