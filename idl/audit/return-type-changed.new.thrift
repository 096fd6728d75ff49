service Counter {
  i64 next()
}
