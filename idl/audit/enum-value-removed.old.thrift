enum Status {
  ACTIVE = 1
  SUSPENDED = 2
  CLOSED = 3
}
