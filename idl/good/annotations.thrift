// Annotations on everything Apache allows them on.
namespace java com.example (package.annotation = "x")
namespace rs annotations

typedef i64 (cpp.type = "int64_t") Timestamp (serde = "ts")

struct Annotated {
  1: string (rust.type = "Box<str>") name (serde.rename = "Name", deprecated)
  2: list<string> (python.immutable = "") tags ()
  3: Timestamp at (a = "1"; b = '2', c)
} (final, rust.derive = "Hash")

enum Level {
  LOW (weight = "1")
  HIGH (weight = "10"; alias = "max";)
} (enum.annotation = "yes")

exception Failure {
  1: string message
} (message = "message")

service AnnotatedService {
  void run() (idempotent = "true", timeout_ms = "500")
  i32 count(1: string prefix (max_length = "32")) throws (1: Failure failure (retry = "no")) (cached)
} (service.version = "2")

union Choice {
  1: i32 a
} (strict)
