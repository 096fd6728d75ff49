union Shape {
  1: double circle
  2: double square
}
