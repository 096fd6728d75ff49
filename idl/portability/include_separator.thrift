// Apache has no `;` or `,` after an include.
include "include/shared.thrift";

struct Order {
  1: shared.Money total
}
