typedef i64 UserId
typedef list<i32> Scores

/** The same wire shape, spelled with typedefs. */
struct User {
  1: required UserId id
  2: optional map<string, Scores> scores
}
