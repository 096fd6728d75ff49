const i32 MAX_PAGE = 100
