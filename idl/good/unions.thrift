// Unions of every shape, and the pairs the forward-compatibility tests use:
// the `New*` types are what a newer peer added fields to.
namespace rs unions

/** No variants: only the unknown variant. */
union Empty {}

/** A variant named like the unknown variant, which moves aside. */
union Clash {
  1: i32 unknown
  2: string Unknown_1
}

union OldChoice {
  1: i32 number
}

union NewChoice {
  1: i32 number
  2: string text
  3: bool flag
  4: list<NewInner> inners
}

struct NewInner {
  1: i64 id
  2: optional bool on
}

struct OldMessage {
  1: i32 id
  2: OldChoice choice
  3: optional i32 after
}

struct NewMessage {
  1: i32 id
  2: NewChoice choice
  3: optional i32 after
  4: bool flag
  5: bool other_flag
  6: string text
  7: list<NewInner> inners
  8: map<string, NewInner> by_name
  9: map<i32, i32> empty_map
  10: set<bool> flags
  11: double ratio
  12: uuid key
  300: binary far_away
}

/** Holds an empty union and a required struct. */
struct Holder {
  1: optional Empty nothing
  2: required OldMessage message
}
