service Search {
  list<string> find(1: string query)
}
