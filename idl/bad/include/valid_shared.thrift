struct Shared {
  1: string name
}
