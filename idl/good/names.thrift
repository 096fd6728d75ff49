// Keyword boundaries, keyword and Rust-keyword names, case-conversion collisions.
namespace rs names

struct onewayvoid {
  1: i32 includes
  2: i32 constX
  3: i32 structure
  4: i32 i32x
  5: i32 listing
  6: i32 servicer
}

// Field names equal to type names and other keywords (Apache 0.18+).
struct KeywordFields {
  1: string string
  2: i32 i32
  3: list<i8> list
  4: map<string, string> map
  5: set<i64> set
  6: binary binary
  7: uuid uuid
  8: bool required
  9: bool optional
  10: bool service
  11: bool enum
  12: bool oneway
  13: bool include
}

// Names that are Rust keywords (`self` and `super`, which Apache's generators
// other than py refuse, are in beyond_apache.thrift).
struct type {
  1: i32 match
  2: i32 fn
  3: i32 crate
  4: i32 mod
  5: i32 loop
  6: i32 async_
  7: string ref
  8: string type
  9: bool struct
}

// Names that collide once converted to snake or camel case.
struct Collisions {
  1: i32 fooBar
  2: i32 foo_bar
  3: i32 FooBar
}

service match {
  void move(1: i32 where)
}
