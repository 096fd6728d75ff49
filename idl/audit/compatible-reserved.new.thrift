/** `fax` (id 2) was dropped; its id must never be reused. */
struct Profile {
  1: required string name
} (thriftgen.reserved = "2")
