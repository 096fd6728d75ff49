enum Limits {
  MAX = 2147483647
  BEYOND
}
