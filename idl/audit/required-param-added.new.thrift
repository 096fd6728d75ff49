service Search {
  list<string> find(1: string query, 2: required i32 limit)
}
