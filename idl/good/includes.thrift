// Includes: qualified types, constants and enum values, and an inherited service.
include "include/shared_types.thrift"

namespace rs includes

struct Invoice {
  1: required shared_types.Money total
  2: shared_types.Region region = shared_types.Region.EU
  3: i32 page_size = shared_types.DEFAULT_PAGE_SIZE
  4: optional shared_types.Page page
}

const shared_types.Region HOME = shared_types.Region.US
const i32 MAX_PAGE_SIZE = shared_types.DEFAULT_PAGE_SIZE
const list<shared_types.Money> FEES = [{"cents": 100, "currency": "USD"}]

service InvoiceService extends shared_types.BaseService {
  Invoice get(1: i64 id)
}
