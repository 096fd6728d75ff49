struct Other {
  1: i32 x
}
