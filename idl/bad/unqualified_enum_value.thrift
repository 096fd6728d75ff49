enum Color {
  RED = 1
  GREEN = 2
}

const Color DEFAULT_COLOR = GREEN
