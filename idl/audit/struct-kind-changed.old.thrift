struct Shape {
  1: optional double circle
  2: optional double square
}
