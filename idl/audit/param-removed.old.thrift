service Search {
  list<string> find(1: string query, 2: i32 limit)
}
