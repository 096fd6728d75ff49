struct Order {
  1: i64 id
  2: common.Money total
}
