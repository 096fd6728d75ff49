struct User {
  1: required i64 id
  2: optional map<string, list<i32>> scores
}
