//! A realistic IDL of any size, for benchmarks: repeated units of enums,
//! typedefs, constants, structs, a union, an exception and a service, each
//! unit with its own names.

/// An IDL of at least `lines` lines.
pub fn generate(lines: usize) -> String {
    let mut out = String::from("namespace rs bench.large\nnamespace * bench.large\n\n");
    let mut i = 0;
    while out.lines().count() < lines {
        out.push_str(&unit(i));
        i += 1;
    }
    out
}

fn unit(i: usize) -> String {
    format!(
        r#"/** Doc comment of unit {i}. */
enum Status{i} {{ ACTIVE = 1, INACTIVE = 2, BANNED = 0x10 }}
typedef i64 UserId{i}
const i32 MAX_ITEMS_{i} = 100
const map<string, Status{i}> STATUS_NAMES_{i} = {{"active": Status{i}.ACTIVE, "inactive": Status{i}.INACTIVE}}
struct Address{i} {{
  1: required string street
  2: optional string city = "Berlin"
  3: optional i32 zip
}}
/**
 * A user, with addresses and tags.
 */
struct User{i} {{
  1: required UserId{i} id
  2: required string name (go.tag = "json:\"name\"")
  3: optional list<Address{i}> addresses
  4: optional map<string, set<i64>> tags
  5: Status{i} status = Status{i}.ACTIVE
  6: optional binary avatar
  7: optional double score = 1.5
}}
union Contact{i} {{
  1: string email
  2: string phone
}}
exception NotFound{i} {{
  1: string message
  2: i64 id
}}
service UserService{i} {{
  /** Looks a user up. */
  User{i} get(1: UserId{i} id) throws (1: NotFound{i} nf)
  list<User{i}> find(1: i32 limit = MAX_ITEMS_{i}, 2: string cursor)
  void put(1: User{i} user)
  oneway void touch(1: UserId{i} id)
}}

"#
    )
}
