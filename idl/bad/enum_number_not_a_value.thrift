enum Color {
  RED = 1
  GREEN = 2
}

struct Paint {
  1: Color color = 7
}
