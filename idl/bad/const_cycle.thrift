const i32 LOW = HIGH
const i32 HIGH = LOW
