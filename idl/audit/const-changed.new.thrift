const i32 MAX_PAGE = 200
const string GREETING = "hello"
