// Enums: explicit, implicit, hex and negative values, annotations, docs.
namespace rs enums

/** The state of an order. */
enum OrderState {
  /** Not yet paid. */
  PENDING
  PAID
  SHIPPED = 10
  /** Continues from the explicit value before it. */
  DELIVERED
  CANCELLED = 0x20 (deprecated = "use REFUNDED")
  REFUNDED
  UNKNOWN = -1
}

enum Flags {
  NONE = 0x0,
  READ = 0x1;
  WRITE = 0x2,
  EXECUTE = 0x4
} (bitflags = "true")

enum Empty {}

/** Two names for one value are allowed, as in Apache. */
enum Aliased {
  OK = 0
  SUCCESS = 0
  FAILED = 1
}
