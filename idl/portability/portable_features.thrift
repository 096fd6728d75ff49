// A little of everything both compilers accept.
include "include/shared.thrift"

namespace py shop.orders (note = "x")
namespace * shop

typedef i32 Count (kind = "count")

enum Status {
  OPEN = 0x1
  CLOSED = -0x2
}

const Status FIRST = Status.OPEN
const Status SECOND = 1
const i32 BIG = 0x7f
const bool YES = 1
const i64 ONE = true
const double RATE = .5e1
const list<i32> NONE = {}
const set<string> TAGS = ["a", 'b']
const shared.Money PRICE = {"cents": 100}

struct Order {
  1: required i64 id
  2: optional shared.Money total
  3: list<i32 (cpp.fixed = "1")> quantities
  4: Status status = Status.OPEN
  5: byte flags
  6: Count count = BIG
  7: i32 uuid
}

exception NotFound {
  1: string message
}

service Orders {
  Order get(1: i64 id) throws (1: NotFound missing)
  oneway void forget(1: i64 id)
}

service MoreOrders extends Orders {
  void touch()
}
