struct Order {
  1: required i64 id
  // `note` was dropped and its id given to a new field of another type.
  2: optional list<string> tags
}
