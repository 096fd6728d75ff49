struct Page {
  1: optional i32 size = 50
}
