service Users {
  string name(1: string id)
}
