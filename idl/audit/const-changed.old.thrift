const i32 MAX_PAGE = 100
const string GREETING = "hello"
