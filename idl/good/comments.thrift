#!/usr/local/bin/thrift --gen rs
# A hash comment.
// A line comment.
/* A block
   comment. */
/**/
/***/

/**
 * A documented struct.
 *
 * With a second paragraph.
 */
struct Documented /* between name and brace */ {
  /** The id. */
  1: /* between id and type */ i64 /* between type and name */ id
  // Not a doc comment, so `name` has none.
  2: string name # trailing hash comment
  3: list< /* inside a container */ i32 > numbers // trailing
  4: map</* key */ string, # value:
    i32> counts
}

/** Documented enum. */
enum Kind {
  /** First. */
  A,
  B // undocumented
}

/** A service. */
service Commented {
  /**
   * Multi-line function doc.
   */
  void run(/** param doc */ 1: Kind kind)
}
/* A comment at the very end, without a newline after it. */