// Service shapes the generated code must compile without a warning: only
// oneway methods, no methods, extends chains, optional and defaulted
// arguments, exceptions shared by type, and names the generated code uses
// itself.
namespace rs service_shapes

exception NotFound { 1: string what }
exception Denied { 1: string why }
typedef NotFound Missing

/** Only oneway methods: nothing is ever replied. */
service Events {
  oneway void emit(1: string name)
  oneway void flush()
}

/** No methods at all. */
service Nothing {}

/** Extends a service without methods, and adds only oneway ones. */
service MoreEvents extends Nothing {
  oneway void tick(1: i64 at)
}

/** Three deep: `Leaf` extends `Middle` extends `Events`. */
service Middle extends Events {}

service Leaf extends Middle {
  i32 count()
}

/** Arguments that may be omitted, and names the generated code uses. */
service Store {
  /** `expected_version` may be omitted: then any version matches. */
  void put(1: string key, 2: optional i64 expected_version)

  list<string> scan(1: string prefix, 2: i32 limit = 100, 3: optional string after = "")

  string names(
    1: string handler, 2: string header, 3: string input, 4: string output,
    5: string result, 6: string ctx, 7: string ctx_, 8: string self, 9: string value,
    10: string e
  )

  string get(1: string key) throws (1: NotFound not_found, 2: Denied denied)

  /** Two throws of one type: the variants are named after the fields. */
  string pick(1: string key) throws (1: NotFound primary, 2: NotFound secondary, 3: Denied denied)

  /** A typedef of an exception is the same type as the exception. */
  string alias(1: string key) throws (1: NotFound not_found, 2: Missing missing)

  /** Names the client uses for itself. */
  void connect()
  void connection()
  void new()
  void getItem()
  void get_item()
}

/** Function names clippy has expectations of. */
service Conventions {
  i32 next()
  i32 add(1: i32 a)
  string to_text(1: i32 value)
  bool is_ready()
  void into_archive()
  void from_backup(1: string path)
  i32 count_mut()
  i32 default()
}

/** Types named like what a service generates: they move aside (`StoreClient1`). */
struct StoreClient { 1: string note }
struct StorePutArgs { 1: i32 n }
union StoreGetError { 1: string text }
