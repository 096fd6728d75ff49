// A file named after a Rust keyword that cannot be a raw identifier: the
// module is `self_`.
struct Selfie {
  1: i32 id
}

const i32 SELF = 1
