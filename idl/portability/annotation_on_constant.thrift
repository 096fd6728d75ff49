// Neither compiler accepts annotations on a constant.
const i32 LIMIT = 100 (deprecated = "yes")
