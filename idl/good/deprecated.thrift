// Valid, with warnings: `async`, fields without ids (`optional` on a parameter is fine).
namespace rs deprecated

struct NoIds {
  string first
  i32 second
  3: i32 third
}

service Old {
  async void ping()
  void call(1: optional string note)
}
