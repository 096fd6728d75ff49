const string GREETING = "hello, world
const i32 ANSWER = 42
