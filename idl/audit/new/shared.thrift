struct Point {
  1: required i32 x
  2: required i32 y
  // Added: optional, so old readers skip it and old writers leave it unset.
  3: optional i32 z
}

enum Unit {
  METRE = 1
  FOOT = 2
  INCH = 3
}

typedef i32 Coordinate
