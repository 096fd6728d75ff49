service Counter {
  i32 next()
}
