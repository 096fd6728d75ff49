const i32 MAX_PAGE = 100
const i32 MIN_PAGE = 1
