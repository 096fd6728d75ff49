// `end` is reserved in languages Apache generates (Ruby, Lua, ...).
struct Range {
  1: i64 start
  2: i64 end
}
