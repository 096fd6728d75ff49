struct Profile {
  1: required string name
} (thriftgen.reserved = "2")
