enum Status {
  ACTIVE = 1
  INACTIVE = 2
  ACTIVE = 3
}
