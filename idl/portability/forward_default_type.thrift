// The type of a field with a default value must be defined before it.
struct Pixel {
  1: Color color = Color.RED
}

enum Color {
  RED = 1
}
