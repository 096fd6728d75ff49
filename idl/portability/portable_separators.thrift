// Separators Apache accepts: after constants, typedefs, fields, enum values,
// functions and annotations.
const i32 LIMIT = 100;
typedef i64 Id,

enum Color {
  RED = 1;
  GREEN = 2,
}

struct Item {
  1: Id id;
  2: string name (key = "a"; other = "b"),
}

service Items {
  Item get(1: Id id);
  void put(1: Item item),
}
