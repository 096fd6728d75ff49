struct User {
  1: slist name
}
