// A file named after a Rust keyword: the module is `r#type`, in `type.rs`.
enum Kind {
  TOTP = 1
  SMS = 2
}

// A type named after a Rust keyword, in a module named after one.
struct match {
  1: string fn
}
