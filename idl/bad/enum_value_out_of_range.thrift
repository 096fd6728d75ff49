enum Size {
  SMALL = 1
  HUGE = 4294967296
}
