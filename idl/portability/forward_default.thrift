// A default value is resolved where it is written, too.
struct Page {
  1: i32 size = DEFAULT_SIZE
}

const i32 DEFAULT_SIZE = 20
