// A base service must be defined before the service that extends it.
service Child extends Parent {
  void play()
}

service Parent {
  void rest()
}
