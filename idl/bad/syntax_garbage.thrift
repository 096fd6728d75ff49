struct User {
  1: string name @deprecated
}
