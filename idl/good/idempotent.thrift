// Methods that may run twice: `(idempotent = "true")` lets the generated
// async client's fleet retry a call after a failure that may have reached a
// server, and send backup requests (tests/tests/idempotent.rs).
namespace rs idempotent

service Reads {
  /** Marked: reading twice changes nothing. */
  string get(1: string key) (idempotent = "true")

  /** `"1"` means the same, */
  i32 count() (idempotent = "1")

  /** and so does a bare key, which Apache reads as `"1"`. */
  i64 version() (idempotent)
}

/** Inherits the marks of `Reads`. */
service Ledger extends Reads {
  /** Not marked: adding twice adds twice. */
  i64 add(1: i64 amount)

  /** Marked no, explicitly. */
  void reset() (idempotent = "false")

  /** Marked, with other annotations beside. */
  string echo(1: string text) (timeout_ms = "100", idempotent = "true")

  /** Oneway calls are never sent again once they may have arrived. */
  oneway void log(1: string line)
}
