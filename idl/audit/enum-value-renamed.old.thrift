enum Status {
  ACTIVE = 1
  GONE = 2
}
