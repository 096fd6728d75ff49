enum Status {
  ACTIVE = 1
  CLOSED = 3
}
