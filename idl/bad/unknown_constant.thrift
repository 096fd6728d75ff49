const i32 DEFAULT_TIMEOUT_MS = 5000

struct Request {
  1: string path
  2: i32 timeout_ms = DEFAULT_TIMEOUT
}
