struct Money {
  1: i64 cents
}
