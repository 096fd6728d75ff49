// Apache takes only `Enum.VALUE` where an enum is expected.
enum Color {
  RED = 1
}

const Color DEFAULT_COLOR = Color.RED
const Color FALLBACK_COLOR = DEFAULT_COLOR
