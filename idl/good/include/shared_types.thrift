// Types shared by includes.thrift; includes a file one level deeper.
namespace rs shared_types

include "deep/more.thrift"

const i32 DEFAULT_PAGE_SIZE = 20

enum Region {
  EU = 1
  US = 2
}

struct Money {
  1: required i64 cents
  2: required string currency = more.DEFAULT_CURRENCY
}

struct Page {
  1: i32 size = DEFAULT_PAGE_SIZE
  2: optional more.Cursor cursor
}

service BaseService {
  string version()
}
