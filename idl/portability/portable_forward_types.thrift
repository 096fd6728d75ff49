// Apache resolves plain field, parameter, return and typedef types lazily:
// these forward references are portable.
typedef Later Alias

struct Holder {
  1: Later later
  2: list<Later> many
  3: map<string, Later> named
}

service Lookup {
  Later find(1: Later key)
}

struct Later {
  1: i32 x
}
