// Apache needs a constant defined before it is used.
const i32 DOUBLE_LIMIT = LIMIT
const i32 LIMIT = 100
