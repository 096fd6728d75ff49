// Lists, sets and maps, nested, with cpp_type in both positions and annotations.
namespace rs containers

struct Item {
  1: string sku
}

struct Containers {
  1: list<i32> numbers
  2: set<string> tags
  3: map<string, i64> counters
  4: list<list<i32>> matrix
  5: map<string, list<Item>> items_by_category
  6: map<i32, map<string, set<binary>>> deep
  7: set<Item> unique_items
  8: map<Item, Item> replacements
  9: list<map<string, string>> rows
}

struct CppTypes {
  1: map cpp_type "std::unordered_map<int32_t, int32_t>" <i32, i32> fast_map
  2: set cpp_type "std::unordered_set<std::string>" <string> fast_set
  3: list cpp_type "std::deque<int64_t>" <i64> deque
  // The old position after `>`, still read by Apache's compiler.
  4: list<double> cpp_type "std::vector<double>" old_style
}

struct Annotated {
  1: list<i32> (python.immutable = "") frozen
  2: map<string, string> (rust.map = "btree") ordered
  3: set<i16> (java.set = "TreeSet", go.type = "sorted") sorted
}
