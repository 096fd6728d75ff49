// The demo's service: a small key/value store, with an exception and a
// service it extends. `cargo run --release -p demo` generates Rust from this
// file in demo/build.rs, serves it, and calls it. Methods that may run
// twice are marked `idempotent`: a fleet (`--bin fleet`) may retry them.
namespace rs store

/** Raised by `get` for a key that was never put. */
exception NotFound {
  1: string key
}

/** Every service of the demo answers `ping`. */
service Health {
  string ping() (idempotent = "true")
}

/** Keys and values, both strings. */
service Store extends Health {
  /** The value of `key`. */
  string get(1: string key) throws (1: NotFound not_found) (idempotent = "true")

  /** Sets `key` to `value`, returning the previous value if there was one. */
  string put(1: string key, 2: string value)

  /** How many keys are stored. */
  i64 size() (idempotent = "true")
}
