//! Thrift values driven by an IDL read at run time, with no generated code.
//!
//! A [`Schema`] is a checked IDL. With it, a [`Value`] of any type can be
//! read from and written to the binary, compact and JSON protocols
//! ([`Schema::read`], [`Schema::write`]) with the limits of the reader and
//! the rules and errors of generated code, and converted to and from JSON
//! ([`Schema::to_json`], [`Schema::from_json`]). A [`Method`] turns JSON
//! arguments into a call over a blocking
//! [`Client`](thriftgen_runtime::Client) and its reply into an [`Outcome`]:
//! what `thriftgen call` does.
//!
//! ```no_run
//! use thriftgen_dynamic::Schema;
//! use thriftgen_runtime::{Client, ClientOptions};
//!
//! let schema = Schema::load(&["idl/ThriftTest.thrift"], &["idl"])?;
//! let method = schema.method("ThriftTest.testStruct")?;
//! let args = method.args_from_json(&serde_json::json!({
//!     "thing": {"string_thing": "hi", "byte_thing": 1, "i32_thing": 2, "i64_thing": 3}
//! }))?;
//! let mut client = Client::connect("127.0.0.1:9090", ClientOptions::default())?;
//! let outcome = method.call(&mut client, &args)?;
//! println!("{}", method.outcome_to_json(&outcome)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The JSON mapping
//!
//! | IDL type | JSON written | JSON read |
//! |---|---|---|
//! | `bool` | `true` / `false` | the same |
//! | `i8` … `i64` | a number | a number, or a string holding one (for `i64`s beyond 2⁵³) |
//! | `double` | a number; `"NaN"`, `"Infinity"`, `"-Infinity"` | the same |
//! | `string` | a string | the same |
//! | `binary` | a base64 string (standard alphabet, padded) | base64, padded or not |
//! | `uuid` | `"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"` | that, or 32 hex digits |
//! | an enum | the value's name (`"ONE"`); a number no name has, as the number | a name (`"ONE"` or `"Numberz.ONE"`) or a number |
//! | `list`, `set` | an array | an array |
//! | `map` with `string` keys | an object | an object |
//! | other `map`s | an array of `[key, value]` pairs | pairs, or an object whose keys are the keys' JSON text (`{"1": 2}`) or enum names |
//! | struct, exception | an object of the fields that are set, by IDL name, in IDL order | an object by IDL name; `null` is the same as absent |
//! | union | an object with its one field | the same; exactly one field |
//!
//! Reading JSON, a field that is not given takes its IDL default when it
//! has one (as a generated struct's `Default` would); a `required` field
//! without a default must be given. An unknown field name is an error that
//! lists the known ones. Every error carries the path to the offending part
//! ([`JsonError::path`]: `thing.items[2].name`).
//!
//! # Reading and writing, next to generated code
//!
//! Decoding follows generated code: a field that is absent stays absent
//! (as a generated `Option` stays `None`), a field of an unknown id or of
//! another wire type is skipped, the last of repeated fields wins, a missing
//! `required` field and a union with no or several fields are errors with
//! the same messages, and the reader's limits apply. Encoding writes the
//! fields that are set, in IDL order, so a value decoded from generated code
//! encodes to the same bytes (but for the order of hash maps and sets, which
//! a dynamic value keeps as it read them). What differs:
//!
//! - set elements and map entries keep their order and their duplicates;
//! - a value that does not fit its type (a variant of another type, a field
//!   the IDL does not have, a `required` field not set) is an error when it
//!   is written, where generated types cannot express it;
//! - unknown fields are skipped, as generated code does without
//!   `keep_unknown_fields`; a union whose only field is unknown reads as an
//!   empty struct, which cannot be written back.

#![warn(missing_docs)]

mod call;
mod codec;
mod json;
mod schema;
mod value;

pub use call::{CallError, Method, Outcome, Thrown};
pub use json::JsonError;
pub use schema::{LookupError, Schema, Service};
pub use value::{StructValue, Value};

/// The IR types a [`Schema`] is made of, re-exported for naming types
/// ([`Schema::type_named`] returns a [`Type`](ir::Type)).
pub use thriftgen::ir;
