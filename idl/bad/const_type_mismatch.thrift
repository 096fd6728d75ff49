// How often a failed call is retried.
const i32 MAX_RETRIES = "three"

struct RetryPolicy {
  1: i32 max_retries = MAX_RETRIES
}
