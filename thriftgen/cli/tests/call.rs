//! `thriftgen call` against the cross-test server (`thrift-test-server`'s
//! handler, served in-process): every ThriftTest method, over every dialect
//! and protocol, with the exact JSON and exit status; and the failures:
//! arguments that do not fit (nothing is sent), application exceptions,
//! connection errors, `--list`.

use serde_json::{json, Value};
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use thriftgen_runtime::server::{RunningServer, ServerOptions};

fn idl() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../idl/ThriftTest.thrift")
}

/// One cross-test server for the whole test binary.
fn server() -> SocketAddr {
    static SERVER: OnceLock<RunningServer> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let options = ServerOptions {
                pollers: 1,
                ..ServerOptions::default()
            };
            thriftgen_interop::test_server::bind("127.0.0.1:0", options)
                .expect("the cross-test server binds")
        })
        .local_addr()
}

fn thriftgen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_thriftgen"))
        .args(args)
        .output()
        .expect("the thriftgen binary runs")
}

/// `thriftgen call --idl IDL --addr ADDR REST...`: its exit status and
/// standard error.
fn call_idl(idl: &Path, addr: &str, rest: &[&str]) -> (Option<i32>, String) {
    let idl = idl.to_str().expect("a UTF-8 path");
    let mut argv = vec!["call", "--idl", idl, "--addr", addr];
    argv.extend_from_slice(rest);
    let out = thriftgen(&argv);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const DIALECTS: &[&str] = &[
    "framed",
    "buffered",
    "header",
    "ttheader",
    "ttheader-framed",
];
const PROTOCOLS: &[&str] = &["binary", "compact", "json"];

/// Calls `method` with `args` over `transport` and `protocol`: (exit
/// status, stdout as JSON or `None` when empty, stderr).
fn call_over(
    transport: &str,
    protocol: &str,
    extra: &[&str],
    method: &str,
    args: &str,
) -> (i32, Option<Value>, String) {
    let idl = idl();
    let addr = server().to_string();
    let mut argv = vec![
        "call",
        "--idl",
        idl.to_str().expect("a UTF-8 path"),
        "--addr",
        &addr,
        "--transport",
        transport,
        "--protocol",
        protocol,
        "--compact",
    ];
    argv.extend_from_slice(extra);
    argv.push(method);
    argv.push(args);
    let out = thriftgen(&argv);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = (!stdout.trim().is_empty()).then(|| {
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("stdout is JSON ({e}): {stdout}"))
    });
    (
        out.status.code().unwrap_or(-1),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Checks that `method(args)` answers `expected` with exit status `code`
/// over every dialect and protocol, after `normalize` (for hash order).
fn check_with(
    method: &str,
    args: Value,
    code: i32,
    expected: Value,
    normalize: impl Fn(Value) -> Value,
) {
    let args = args.to_string();
    for transport in DIALECTS {
        for protocol in PROTOCOLS {
            let (status, out, err) = call_over(transport, protocol, &[], method, &args);
            let got = out.map(&normalize);
            assert_eq!(
                (status, got.as_ref()),
                (code, Some(&expected)),
                "{method} over {transport}/{protocol}; stderr: {err}"
            );
        }
    }
}

fn check(method: &str, args: Value, expected: Value) {
    check_with(method, args, 0, expected, |v| v);
}

/// Sorts an array (a set, or a map's `[key, value]` pairs) by its elements'
/// JSON text, and each pair's value with `inner`.
fn sorted(value: Value, inner: &dyn Fn(Value) -> Value) -> Value {
    let Value::Array(items) = value else {
        return value;
    };
    let mut items: Vec<Value> = items
        .into_iter()
        .map(|item| match item {
            Value::Array(pair) if pair.len() == 2 => {
                let mut pair = pair.into_iter();
                let key = pair.next().unwrap_or(Value::Null);
                let value = inner(pair.next().unwrap_or(Value::Null));
                json!([key, value])
            }
            other => inner(other),
        })
        .collect();
    items.sort_by_key(|v| v.to_string());
    Value::Array(items)
}

fn xtruct() -> Value {
    json!({"string_thing": "Zero", "byte_thing": 1, "i32_thing": -3, "i64_thing": -5})
}

#[test]
fn test_void() {
    check("ThriftTest.testVoid", json!({}), Value::Null);
}

#[test]
fn test_string() {
    check(
        "ThriftTest.testString",
        json!({"thing": "Hello, wörld ☃ \"quoted\""}),
        json!("Hello, wörld ☃ \"quoted\""),
    );
}

#[test]
fn test_bool() {
    check("ThriftTest.testBool", json!({"thing": true}), json!(true));
    check("ThriftTest.testBool", json!({"thing": false}), json!(false));
}

#[test]
fn test_byte() {
    check("ThriftTest.testByte", json!({"thing": -128}), json!(-128));
}

#[test]
fn test_i32() {
    check(
        "ThriftTest.testI32",
        json!({"thing": i32::MIN}),
        json!(i32::MIN),
    );
}

#[test]
fn test_i64() {
    check(
        "ThriftTest.testI64",
        json!({"thing": i64::MAX}),
        json!(i64::MAX),
    );
    // Quoted, as JavaScript has to for numbers beyond 2^53.
    check(
        "ThriftTest.testI64",
        json!({"thing": "-9223372036854775808"}),
        json!(i64::MIN),
    );
}

#[test]
fn test_double() {
    check(
        "ThriftTest.testDouble",
        json!({"thing": -5.25e-300}),
        json!(-5.25e-300),
    );
    check(
        "ThriftTest.testDouble",
        json!({"thing": "-Infinity"}),
        json!("-Infinity"),
    );
}

#[test]
fn test_binary() {
    // Every byte value, base64 in and out.
    let bytes: Vec<u8> = (0..=255).collect();
    let text = base64(&bytes);
    check("ThriftTest.testBinary", json!({"thing": text}), json!(text));
}

#[test]
fn test_uuid() {
    let uuid = "00112233-4455-6677-8899-aabbccddeeff";
    check("ThriftTest.testUuid", json!({"thing": uuid}), json!(uuid));
}

#[test]
fn test_struct() {
    check(
        "ThriftTest.testStruct",
        json!({"thing": xtruct()}),
        xtruct(),
    );
}

#[test]
fn test_nest() {
    let nest = json!({"byte_thing": 1, "struct_thing": xtruct(), "i32_thing": 5});
    check("ThriftTest.testNest", json!({"thing": nest}), nest);
}

#[test]
fn test_map() {
    // Given as pairs and as an object with the keys' JSON text.
    let expected = json!([[-1, 10], [0, 11], [7, 12]]);
    for thing in [
        json!([[7, 12], [0, 11], [-1, 10]]),
        json!({"7": 12, "0": 11, "-1": 10}),
    ] {
        check_with(
            "ThriftTest.testMap",
            json!({ "thing": thing }),
            0,
            sorted(expected.clone(), &|v| v),
            |v| sorted(v, &|v| v),
        );
    }
}

#[test]
fn test_string_map() {
    let thing = json!({"a": "1", "b": "", "ü": "ß"});
    check("ThriftTest.testStringMap", json!({"thing": thing}), thing);
}

#[test]
fn test_set() {
    check_with(
        "ThriftTest.testSet",
        json!({"thing": [3, -1, 2]}),
        0,
        json!([-1, 2, 3]),
        |v| {
            let Value::Array(mut items) = v else { return v };
            items.sort_by_key(|i| i.as_i64());
            Value::Array(items)
        },
    );
}

#[test]
fn test_list() {
    let thing = json!([3, -1, 2, 2]);
    check("ThriftTest.testList", json!({"thing": thing}), thing);
}

#[test]
fn test_enum() {
    check(
        "ThriftTest.testEnum",
        json!({"thing": "FIVE"}),
        json!("FIVE"),
    );
    // By number, and a number no value has (generated enums keep it).
    check("ThriftTest.testEnum", json!({"thing": 8}), json!("EIGHT"));
    check("ThriftTest.testEnum", json!({"thing": 4}), json!(4));
}

#[test]
fn test_typedef() {
    check(
        "ThriftTest.testTypedef",
        json!({"thing": 1234567890123i64}),
        json!(1234567890123i64),
    );
}

#[test]
fn test_map_map() {
    let expected = json!([
        [-4, [[-4, -4], [-3, -3], [-2, -2], [-1, -1]]],
        [4, [[1, 1], [2, 2], [3, 3], [4, 4]]]
    ]);
    let norm = |v: Value| sorted(v, &|inner| sorted(inner, &|v| v));
    check_with(
        "ThriftTest.testMapMap",
        json!({"hello": 1}),
        0,
        norm(expected),
        norm,
    );
}

#[test]
fn test_insanity() {
    let insanity = json!({
        "userMap": [["FIVE", 5], ["EIGHT", 8]],
        "xtructs": [xtruct(), {"string_thing": "Two", "byte_thing": 2, "i32_thing": 2, "i64_thing": 2}]
    });
    let normalize_insanity = |v: Value| match v {
        Value::Object(mut o) => {
            if let Some(m) = o.remove("userMap") {
                o.insert("userMap".into(), sorted(m, &|v| v));
            }
            Value::Object(o)
        }
        other => other,
    };
    let norm = move |v: Value| sorted(v, &|inner| sorted(inner, &normalize_insanity));
    let expected = json!([
        [1, [["TWO", insanity.clone()], ["THREE", insanity.clone()]]],
        [2, [["SIX", {}]]]
    ]);
    check_with(
        "ThriftTest.testInsanity",
        json!({ "argument": insanity }),
        0,
        norm(expected),
        norm,
    );
}

#[test]
fn test_multi() {
    check(
        "ThriftTest.testMulti",
        json!({"arg0": 9, "arg1": 8, "arg2": 7, "arg3": [[1, "x"]], "arg4": "TWO", "arg5": 6}),
        json!({"string_thing": "Hello2", "byte_thing": 9, "i32_thing": 8, "i64_thing": 7}),
    );
}

#[test]
fn test_exception() {
    check_with(
        "ThriftTest.testException",
        json!({"arg": "Xception"}),
        1,
        json!({"exception": "Xception", "field": "err1",
               "value": {"errorCode": 1001, "message": "Xception"}}),
        |v| v,
    );
    check(
        "ThriftTest.testException",
        json!({"arg": "fine"}),
        Value::Null,
    );
    // An application exception: a message on stderr, exit status 3.
    for transport in DIALECTS {
        let (status, out, err) = call_over(
            transport,
            "binary",
            &[],
            "ThriftTest.testException",
            r#"{"arg": "TException"}"#,
        );
        assert_eq!((status, out), (3, None), "{transport}: {err}");
        assert!(
            err.contains("application exception: This is a TException (INTERNAL_ERROR)"),
            "{err}"
        );
    }
}

#[test]
fn test_multi_exception() {
    check_with(
        "ThriftTest.testMultiException",
        json!({"arg0": "Xception", "arg1": "ignored"}),
        1,
        json!({"exception": "Xception", "field": "err1",
               "value": {"errorCode": 1001, "message": "This is an Xception"}}),
        |v| v,
    );
    check_with(
        "ThriftTest.testMultiException",
        json!({"arg0": "Xception2", "arg1": "ignored"}),
        1,
        json!({"exception": "Xception2", "field": "err2",
               "value": {"errorCode": 2002, "struct_thing": {"string_thing": "This is an Xception2"}}}),
        |v| v,
    );
    check(
        "ThriftTest.testMultiException",
        json!({"arg0": "other", "arg1": "thing"}),
        json!({"string_thing": "thing"}),
    );
}

#[test]
fn test_oneway_returns_at_once() {
    // The handler sleeps 3 s; the call returns once it is sent, printing
    // nothing. (A semantic check, not a speed measurement: waiting for a
    // reply would take the full 3 s, or hang.)
    for transport in DIALECTS {
        for protocol in PROTOCOLS {
            let started = Instant::now();
            let (status, out, err) = call_over(
                transport,
                protocol,
                &[],
                "ThriftTest.testOneway",
                r#"{"secondsToSleep": 3}"#,
            );
            assert_eq!((status, out), (0, None), "{transport}/{protocol}: {err}");
            assert!(
                started.elapsed() < Duration::from_millis(2500),
                "{transport}/{protocol}: oneway waited {:?}",
                started.elapsed()
            );
        }
    }
}

#[test]
fn second_service_multiplexed() {
    for transport in DIALECTS {
        for protocol in PROTOCOLS {
            let (status, out, err) = call_over(
                transport,
                protocol,
                &["--multiplexed"],
                "SecondService.secondtestString",
                r#"{"thing": "x"}"#,
            );
            assert_eq!(
                (status, out),
                (0, Some(json!("testString(\"x\")"))),
                "{transport}/{protocol}: {err}"
            );
        }
    }
}

#[test]
fn headers_go_out_and_reply_headers_are_shown() {
    // The cross-test server checks the interop suite's headers when it finds
    // one of them, and answers with its own and a verdict: here, that two of
    // the three are missing, listing what it got.
    for transport in ["header", "ttheader", "ttheader-framed"] {
        let (status, out, err) = call_over(
            transport,
            "binary",
            &["--header", "interop-empty=", "-v"],
            "ThriftTest.testString",
            r#"{"thing": "headers"}"#,
        );
        assert_eq!((status, out), (0, Some(json!("headers"))), "{err}");
        assert!(
            err.contains("< interop-reply-binary: \\xff\\x00\\x01\n"),
            "{transport}: {err}"
        );
        assert!(
            err.contains("< interop-reply-empty: \n"),
            "{transport}: {err}"
        );
        assert!(
            err.contains(r#"< interop-check: mismatch: no header "interop-\\xff\\xfe" (got Headers { pairs: {"interop-empty": ""} })"#),
            "{transport}: {err}"
        );
    }
}

#[test]
fn arguments_from_stdin() {
    let idl = idl();
    let addr = server().to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_thriftgen"))
        .args([
            "call",
            "--idl",
            idl.to_str().expect("a UTF-8 path"),
            "--addr",
            &addr,
            "ThriftTest.testString",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("thriftgen runs");
    child
        .stdin
        .take()
        .expect("a pipe")
        .write_all(br#"{"thing": "from stdin"}"#)
        .expect("written");
    let out = child.wait_with_output().expect("thriftgen ends");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "\"from stdin\"\n");
}

/// A listener nobody serves: a call that connected would show up in its
/// backlog.
fn silent_listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr = listener.local_addr().expect("an address").to_string();
    (listener, addr)
}

fn assert_nothing_sent(listener: &TcpListener) {
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("something connected: {other:?}"),
    }
}

fn write_idl(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("written");
    (dir, path)
}

const STRICT_IDL: &str = r#"
struct Item {
  1: required string name
  2: optional i32 count = 3
}
service Shop {
  Item put(1: required i64 id, 2: Item item, 3: i32 copies = 1)
}
"#;

#[test]
fn bad_arguments_are_refused_before_anything_is_sent() {
    let (_dir, idl) = write_idl("shop.thrift", STRICT_IDL);
    let (listener, addr) = silent_listener();
    let idl = idl.to_str().expect("a UTF-8 path");
    let cases = [
        (
            r#"{"item": {"name": "x"}}"#,
            "required argument `id` (#1, i64) of `Shop.put` is missing",
        ),
        (
            r#"{"id": 1, "item": {}}"#,
            "at `item`: required field `name` (#1, string) of `Item` is missing",
        ),
        (
            r#"{"id": 1, "colour": 2}"#,
            "`Shop.put` has no argument `colour` (it has: id, item, copies)",
        ),
        (
            r#"{"id": "one"}"#,
            "at `id`: expected an i64, found a string `\"one\"`",
        ),
        (
            r#"{"id": 1, "copies": 3000000000}"#,
            "at `copies`: 3000000000 is out of range for an i32",
        ),
        (
            r#"[1, 2]"#,
            "expected an object of arguments by name for `Shop.put`, found an array",
        ),
        ("{not json", "the arguments are not JSON"),
    ];
    for (args, message) in cases {
        let out = thriftgen(&["call", "--idl", idl, "--addr", &addr, "Shop.put", args]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args}: {err}");
        assert!(
            err.contains(message),
            "{args}: expected `{message}` in: {err}"
        );
        assert!(out.stdout.is_empty());
    }
    // Unknown services and methods, and headers over a framing without any.
    for (argv, message) in [
        (
            vec!["Shop.take"],
            "service `Shop` has no method `take` (methods: put)",
        ),
        (vec!["Store.put"], "no service `Store` (services: Shop)"),
        (
            vec!["--header", "k=v", "Shop.put", r#"{"id": 1}"#],
            "`--header` needs `--transport header`, `ttheader` or `ttheader-framed`",
        ),
    ] {
        let (status, err) = call_idl(Path::new(idl), &addr, &argv);
        assert_eq!(status, Some(2), "{err}");
        assert!(err.contains(message), "expected `{message}` in: {err}");
    }
    assert_nothing_sent(&listener);
}

#[test]
fn a_method_the_server_lacks_exits_3() {
    // The server answers with an UNKNOWN_METHOD application exception.
    let (_dir, idl) = write_idl(
        "ThriftTest.thrift",
        "service ThriftTest { string testNothing(1: i32 copies = 1) }",
    );
    let (status, err) = call_idl(&idl, &server().to_string(), &["ThriftTest.testNothing"]);
    assert_eq!(status, Some(3), "{err}");
    assert!(err.contains("UNKNOWN_METHOD"), "{err}");
}

#[test]
fn connection_failures_exit_4() {
    // A port that was free a moment ago: nothing listens.
    let addr = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
        listener.local_addr().expect("an address").to_string()
    };
    let (status, err) = call_idl(&idl(), &addr, &["ThriftTest.testVoid"]);
    assert_eq!(status, Some(4), "{err}");
    assert!(err.contains(&format!("cannot connect to {addr}")), "{err}");
}

#[test]
fn a_server_that_never_answers_times_out_with_exit_4() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
    let addr = listener.local_addr().expect("an address").to_string();
    let (status, err) = call_idl(&idl(), &addr, &["--timeout", "0.3", "ThriftTest.testVoid"]);
    assert_eq!(status, Some(4), "{err}");
    assert!(err.contains("no reply within the read timeout"), "{err}");
    drop(listener);
}

#[test]
fn idl_errors_exit_2_with_the_diagnostic() {
    let (_dir, idl) = write_idl("bad.thrift", "service S { void f(1: Nope x) }\n");
    let (status, err) = call_idl(&idl, "127.0.0.1:1", &["S.f"]);
    assert_eq!(status, Some(2), "{err}");
    assert!(err.contains("bad.thrift:1:"), "{err}");
}

#[test]
fn list_shows_every_method_with_its_signature() {
    let idl = idl();
    let out = thriftgen(&[
        "call",
        "--list",
        "--idl",
        idl.to_str().expect("a UTF-8 path"),
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for line in [
        "service ThriftTest\n",
        "  void testVoid()\n",
        "  map<UserId, map<Numberz, Insanity>> testInsanity(1: Insanity argument)\n",
        "  Xtruct testMultiException(1: string arg0, 2: string arg1) throws (1: Xception err1, 2: Xception2 err2)\n",
        "  oneway void testOneway(1: i32 secondsToSleep)\n",
        "service SecondService\n",
        "  string secondtestString(1: string thing)\n",
    ] {
        assert!(text.contains(line), "`{line}` missing from:\n{text}");
    }
    assert_eq!(text.matches("\n  ").count(), 24, "{text}");

    let (_dir, idl) = write_idl(
        "inherit.thrift",
        "service Base { void ping() }\nservice Child extends Base { i32 add(1: i32 a, 2: i32 b) }\n",
    );
    let out = thriftgen(&[
        "call",
        "--list",
        "--idl",
        idl.to_str().expect("a UTF-8 path"),
        "Child",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "service Child extends Base\n  i32 add(1: i32 a, 2: i32 b)\n  void ping()  (from Base)\n"
    );
}

/// Standard base64 with padding, written out here so the test does not
/// share the code under test.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
