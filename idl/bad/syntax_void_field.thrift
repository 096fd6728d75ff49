struct Response {
  1: i32 code
  2: void body
}
