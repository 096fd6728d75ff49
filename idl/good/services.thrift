// Services: inheritance, oneway, throws, docs.
namespace rs services

struct Order {
  1: required i64 id
  2: required string customer
  3: list<string> items
}

exception OrderNotFound {
  1: required i64 id
}

exception Unauthorized {
  1: string reason
}

/** Liveness, inherited by the order service. */
service Health {
  bool ping()
  oneway void shutdown()
}

/** Places and looks up orders. */
service OrderService extends Health {
  /** Looks an order up by id. */
  Order get(
    /** The order's id. */
    1: i64 id
  ) throws (1: OrderNotFound not_found, 2: Unauthorized unauthorized)

  /** Every order of a customer, newest first. */
  list<Order> by_customer(1: string customer, 2: i32 limit = 50)

  i64 place(1: Order order) throws (1: Unauthorized unauthorized)

  void cancel(1: i64 id),

  /** Fire and forget. */
  oneway void audit(1: string event, 2: map<string, string> fields);

  map<string, i64> counts() (readonly = "true")
}

service Empty {}
