struct Color {
  1: i32 rgb
}
