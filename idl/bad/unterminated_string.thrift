// Text shown on the welcome screen.
const string GREETING = "hello, world
const i32 ANSWER = 42

struct Reply {
  1: string text = GREETING
}
