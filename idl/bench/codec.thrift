// The codec benchmark's message: the same structure, ids and types as the
// `Order` the peers in ../shared/bench measure, so results compare directly.
namespace rs codec

enum Status {
  UNKNOWN = 0
  PENDING = 1
  PAID = 2
  SHIPPED = 3
  DELIVERED = 4
  CANCELLED = 5
}

struct Address {
  1: required string street
  2: required string city
  3: required string country
  4: optional string zip
  5: optional double lat
  6: optional double lon
}

struct Customer {
  1: required i64 id
  2: required string name
  3: required string email
  4: optional string phone
  5: required bool vip
  6: optional Address address
}

struct Item {
  1: required i64 sku
  2: required string title
  3: required i32 quantity
  4: required double unit_price
  5: optional i16 discount_pct
  6: optional list<string> tags
}

struct Order {
  1: required i64 id
  2: required string order_no
  3: required Status status
  4: required Customer customer
  5: required list<Item> items
  6: required map<string, string> attributes
  7: optional binary signature
  8: required double total
  9: required i32 version
  10: required bool gift
  11: optional string note
  12: optional i8 priority
  13: optional list<i64> related_ids
  14: optional set<string> labels
  15: optional map<i32, Address> warehouses
  16: optional string coupon
  17: optional Address billing
  18: required i64 created_at_ms
  19: optional i64 updated_at_ms
}
