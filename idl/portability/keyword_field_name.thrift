// Apache reads `string` as a keyword, so it cannot name a field.
struct Label {
  1: string string
}
