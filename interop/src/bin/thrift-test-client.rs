//! `thrift-test-client`: the client of Apache Thrift's cross-language test,
//! on our runtime and generated code.
//!
//! ```sh
//! thrift-test-client [--host localhost] [--port 9090] \
//!     [--protocol binary|compact|json] [--transport buffered|framed|header|ttheader]
//! ```
//!
//! Calls every `ThriftTest` method (`idl/ThriftTest.thrift`) with demanding
//! values and checks each answer exactly against the semantics documented
//! there. Prints one line per method (`ok testString (6 calls)`,
//! `FAIL testI64: value #3: expected ..., got ...` or `skip testUuid: ...`),
//! and last `N passed, N failed`. The exit status is 1 when anything failed.

use clap::builder::PossibleValuesParser;
use clap::{Parser, ValueEnum};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::convert::Infallible;
use std::fmt::{self, Debug};
use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use thriftgen_interop::cli::{Protocol, Transport};
use thriftgen_interop::thrift_test::{
    Insanity, Numberz, SecondServiceClient, ThriftTestClient, ThriftTestTestExceptionError,
    ThriftTestTestMultiExceptionError, UserId, Xception, Xception2, Xtruct, Xtruct2,
};
use thriftgen_runtime::bytes::Bytes;
use thriftgen_runtime::client::{CallError, Client, ClientError, ClientOptions};
use thriftgen_runtime::protocol::{
    self, ApplicationErrorKind, ApplicationException, InputProtocol, OutputProtocol,
};
use thriftgen_runtime::service::{self, Reply};
use thriftgen_runtime::transport::Dialect;
use thriftgen_runtime::TType;

/// Runs the Apache cross-language test against a ThriftTest server.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// The server's host.
    #[arg(long, default_value = "localhost")]
    host: String,
    /// The server's port.
    #[arg(long, default_value_t = 9090)]
    port: u16,
    /// The protocol.
    #[arg(long, value_enum, default_value_t = Protocol::Binary)]
    protocol: Protocol,
    /// The transport (`header` is Apache's THeader, `ttheader` Kitex's).
    #[arg(long, value_enum, default_value_t = Transport::Buffered)]
    transport: Transport,
    /// Seconds to wait for a connection, or for an answer. At least 10:
    /// testOneway keeps some servers busy for a second on its connection.
    #[arg(long, value_name = "SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(10..))]
    timeout: u64,
    /// Run only this check (repeatable).
    #[arg(long, value_name = "METHOD", value_parser = check_names())]
    only: Vec<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    println!(
        "thrift-test-client: {}:{}, {} over {}",
        args.host,
        args.port,
        cli_name(args.protocol),
        cli_name(args.transport)
    );
    let mut session = Session::new(&args);
    let mut report = Report::default();
    // One look before the checks, so an absent server is one failure, not
    // one per method.
    if let Err(e) = session.thrift_test() {
        report.record(
            "connect",
            Err(format!("{}:{}: {e}", args.host, args.port)),
            0,
        );
    } else {
        for &(method, check) in CHECKS {
            if !args.only.is_empty() && !args.only.iter().any(|m| m == method) {
                continue;
            }
            let calls = session.calls;
            let outcome = check(&mut session);
            if outcome.is_err() {
                // The answers may be out of step: go on over a new connection.
                session.close();
            }
            report.record(method, outcome, session.calls - calls);
        }
    }
    println!("{report}");
    if report.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn cli_name(value: impl ValueEnum) -> String {
    value
        .to_possible_value()
        .map_or_else(String::new, |v| v.get_name().to_string())
}

// --- the run -------------------------------------------------------------------

/// What a check found: passed or skipped, or why it failed.
type Outcome = Result<Verdict, String>;

/// A check that did not fail.
#[derive(Debug)]
enum Verdict {
    Passed,
    /// Not run, for the reason given (the server does not know the method).
    Skipped(String),
}

/// Counts the checks and prints one line for each.
#[derive(Debug, Default)]
struct Report {
    passed: usize,
    failed: usize,
}

impl Report {
    fn record(&mut self, method: &str, outcome: Outcome, calls: usize) {
        match outcome {
            Ok(Verdict::Passed) => {
                self.passed += 1;
                let plural = if calls == 1 { "" } else { "s" };
                println!("ok {method} ({calls} call{plural})");
            }
            Ok(Verdict::Skipped(why)) => println!("skip {method}: {why}"),
            Err(why) => {
                self.failed += 1;
                println!("FAIL {method}: {why}");
            }
        }
    }
}

/// The last line of the output, which scripts read.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} passed, {} failed", self.passed, self.failed)
    }
}

/// The server, and the connection to it the checks share.
#[derive(Debug)]
struct Session {
    host: String,
    port: u16,
    options: ClientOptions,
    connection: Option<Connection>,
    /// Calls made so far, for the report.
    calls: usize,
}

/// One connection.
#[derive(Debug)]
struct Connection {
    /// A second handle on the client's socket, to put another service's
    /// client on the same connection.
    stream: TcpStream,
    client: ThriftTestClient,
}

impl Session {
    fn new(args: &Args) -> Session {
        let timeout = Some(Duration::from_secs(args.timeout));
        Session {
            host: args.host.clone(),
            port: args.port,
            options: ClientOptions {
                connect_timeout: timeout,
                read_timeout: timeout,
                write_timeout: timeout,
                ..ClientOptions::new(args.transport.into(), args.protocol.into())
            },
            connection: None,
            calls: 0,
        }
    }

    /// The current connection; connects first when there is none.
    fn connection(&mut self) -> Result<&mut Connection, ClientError> {
        let connection = match self.connection.take() {
            Some(connection) => connection,
            None => {
                let stream = self.connect()?;
                let client = Client::from_stream(stream.try_clone()?, self.options.clone())?;
                Connection {
                    stream,
                    client: ThriftTestClient::new(client),
                }
            }
        };
        Ok(self.connection.insert(connection))
    }

    /// The current connection's client.
    fn thrift_test(&mut self) -> Result<&mut ThriftTestClient, ClientError> {
        Ok(&mut self.connection()?.client)
    }

    /// Each address the host resolves to in turn, every wait bounded.
    fn connect(&self) -> io::Result<TcpStream> {
        let timeout = self
            .options
            .connect_timeout
            .unwrap_or(Duration::from_secs(10));
        let mut last = None;
        for addr in (self.host.as_str(), self.port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(stream) => return Ok(stream),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address")))
    }

    /// Drops the connection; the next call opens another.
    fn close(&mut self) {
        self.connection = None;
    }

    /// Makes one call on the current connection.
    fn call<T, E>(
        &mut self,
        call: impl FnOnce(&mut ThriftTestClient) -> Result<T, CallError<E>>,
    ) -> Result<T, CallError<E>> {
        self.calls += 1;
        let result = call(self.thrift_test()?);
        self.forget_broken(result)
    }

    /// Makes one call of `SecondService` on the current connection, which
    /// serves `ThriftTest` afterwards as before.
    fn call_second_service<T, E>(
        &mut self,
        call: impl FnOnce(&mut SecondServiceClient) -> Result<T, CallError<E>>,
    ) -> Result<T, CallError<E>> {
        self.calls += 1;
        let stream = self
            .connection()?
            .stream
            .try_clone()
            .map_err(ClientError::Io)?;
        let mut client =
            SecondServiceClient::new(Client::from_stream(stream, self.options.clone())?);
        let result = call(&mut client);
        self.forget_broken(result)
    }

    /// The runtime refuses further calls on a connection after a call
    /// without a valid answer: the next call opens a new one.
    fn forget_broken<T, E>(&mut self, result: Result<T, CallError<E>>) -> Result<T, CallError<E>> {
        if let Err(CallError::Client(_)) = result {
            self.close();
        }
        result
    }
}

// --- comparing answers ---------------------------------------------------------

/// The longest `Debug` text quoted whole in a failure.
const QUOTE_LIMIT: usize = 160;

/// Fails unless `got` is `want`, quoting both (around the first difference
/// when they are long).
fn expect<T: PartialEq + Debug>(label: &str, want: &T, got: &T) -> Result<(), String> {
    if want == got {
        return Ok(());
    }
    let (want, got) = (format!("{want:?}"), format!("{got:?}"));
    if want.len() <= QUOTE_LIMIT && got.len() <= QUOTE_LIMIT {
        return Err(format!("{label}: expected {want}, got {got}"));
    }
    // Both texts are the same up to `at`, so it is a char boundary in both.
    let at = want
        .char_indices()
        .zip(got.chars())
        .find(|&((_, w), g)| w != g)
        .map_or(want.len().min(got.len()), |((at, _), _)| at);
    Err(format!(
        "{label}: expected {}, got {} (Debug texts of {} and {} bytes, first difference at byte {at})",
        excerpt(&want, at),
        excerpt(&got, at),
        want.len(),
        got.len(),
    ))
}

/// `text` around byte `at`.
fn excerpt(text: &str, at: usize) -> String {
    let mut start = at.saturating_sub(QUOTE_LIMIT / 4);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (at + QUOTE_LIMIT / 2).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    let before = if start > 0 { "..." } else { "" };
    let after = if end < text.len() { "..." } else { "" };
    format!("{before}{}{after}", &text[start..end])
}

/// `value`'s `Debug` text, cut short when long.
fn quote(value: &dyn Debug) -> String {
    let text = format!("{value:?}");
    if text.len() <= QUOTE_LIMIT {
        return text;
    }
    format!("{} ({} bytes)", excerpt(&text, 0), text.len())
}

/// What a call came back with, for a failure.
fn describe<T: Debug, E: Debug>(result: &Result<T, CallError<E>>) -> String {
    match result {
        Ok(value) => format!("got {}", quote(value)),
        Err(CallError::Service(e)) => format!("got the error {}", quote(e)),
        Err(CallError::Client(e)) => format!("got no valid answer ({e})"),
    }
}

/// The value a call returned; anything else fails.
fn value<T: Debug, E: Debug>(label: &str, result: Result<T, CallError<E>>) -> Result<T, String> {
    match result {
        Ok(value) => Ok(value),
        other => Err(format!("{label}: expected a value, {}", describe(&other))),
    }
}

/// A double compared by its bits (so -0.0 is not 0.0), every NaN equal to
/// every other.
#[derive(Clone, Copy)]
struct Bits(f64);

impl PartialEq for Bits {
    fn eq(&self, other: &Bits) -> bool {
        (self.0.is_nan() && other.0.is_nan()) || self.0.to_bits() == other.0.to_bits()
    }
}

impl Debug for Bits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} ({:#018x})", self.0, self.0.to_bits())
    }
}

fn bits(value: &f64) -> Bits {
    Bits(*value)
}

/// Maps and sets in order, so that a failure quotes them readably.
fn sorted_map<K: Ord + Clone, V: Clone>(map: &HashMap<K, V>) -> BTreeMap<K, V> {
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn sorted_set<T: Ord + Clone>(set: &HashSet<T>) -> BTreeSet<T> {
    set.iter().cloned().collect()
}

/// Calls `method` with each of `values` and checks that it comes back
/// unchanged, compared as `view` shows it.
fn echo<T: Debug, V: PartialEq + Debug>(
    session: &mut Session,
    values: &[T],
    method: impl Fn(&mut ThriftTestClient, &T) -> Result<T, CallError<ApplicationException>>,
    view: fn(&T) -> V,
) -> Outcome {
    for (i, sent) in values.iter().enumerate() {
        let label = format!("value #{i}");
        let got = value(&label, session.call(|c| method(c, sent)))?;
        expect(&label, &view(sent), &view(&got))?;
    }
    Ok(Verdict::Passed)
}

/// An Xtruct built from a string alone: servers whose structs always write
/// default-requiredness fields send zeros for the others, which is accepted.
fn expect_string_only(label: &str, string_thing: &str, got: Option<&Xtruct>) -> Result<(), String> {
    let Some(got) = got else {
        return Err(format!("{label}: expected an Xtruct, got none"));
    };
    let unset = |n: Option<i64>| matches!(n, None | Some(0));
    if got.string_thing.as_deref() != Some(string_thing)
        || !unset(got.byte_thing.map(i64::from))
        || !unset(got.i32_thing.map(i64::from))
        || !unset(got.i64_thing)
    {
        return Err(format!(
            "{label}: expected Xtruct {{ string_thing: {}, no other field }}, got {}",
            quote(&string_thing),
            quote(got)
        ));
    }
    Ok(())
}

// --- values --------------------------------------------------------------------

const MIB: usize = 1 << 20;

/// Text from several scripts, left-to-right and right-to-left, characters
/// outside the Basic Multilingual Plane (4 bytes of UTF-8, surrogate pairs
/// in UTF-16), a NUL and other controls.
const UNICODE: &str = "ASCII, Ünïcödé, Ελληνικά, Русский, עברית, العربية, हिन्दी, 日本語, \
    한국어, 中文; non-BMP: 𝄞 😀 🏳️‍🌈 𠜎 𐍈; controls: \0\u{1}\t\n\r\u{7f}; \u{2028}\u{feff}\u{ffff}";

/// Exactly 1 MiB of UTF-8, characters of 1 to 4 bytes.
fn big_string() -> String {
    let unit = "a€😀ß"; // 1 + 3 + 4 + 2 bytes
    let mut text = unit.repeat(MIB / unit.len());
    text.extend(std::iter::repeat_n('x', MIB - text.len()));
    text
}

/// 1 MiB of bytes that repeat only every 251 * 256 bytes.
fn big_binary() -> Bytes {
    (0..MIB).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn xtruct(string_thing: &str, byte_thing: i8, i32_thing: i32, i64_thing: i64) -> Xtruct {
    Xtruct {
        string_thing: Some(string_thing.to_string()),
        byte_thing: Some(byte_thing),
        i32_thing: Some(i32_thing),
        i64_thing: Some(i64_thing),
    }
}

fn strings<const N: usize>(pairs: [(&str, &str); N]) -> HashMap<String, String> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The arguments of a call with none set.
#[derive(Debug)]
struct NoArguments;

impl service::Args for NoArguments {
    fn write<O: OutputProtocol>(&self, output: &mut O) -> protocol::Result<()> {
        output.write_struct_begin("args")?;
        output.write_field_stop()?;
        output.write_struct_end()
    }
}

/// A reply whatever it holds, read past.
#[derive(Debug)]
struct AnyReply;

impl Reply for AnyReply {
    type Ok = ();
    type Err = ApplicationException;

    fn read<I: InputProtocol>(input: &mut I) -> protocol::Result<Result<(), ApplicationException>> {
        input.skip(TType::Struct)?;
        Ok(Ok(()))
    }
}

// --- the checks, one per method ------------------------------------------------

/// Every check in the order they run, with the method it is named after.
/// One check: runs its calls on the session and says how they went.
type Check = fn(&mut Session) -> Outcome;

const CHECKS: &[(&str, Check)] = &[
    ("testVoid", check_void),
    ("testString", check_string),
    ("testBool", check_bool),
    ("testByte", check_byte),
    ("testI32", check_i32),
    ("testI64", check_i64),
    ("testDouble", check_double),
    ("testBinary", check_binary),
    ("testUuid", check_uuid),
    ("testStruct", check_struct),
    ("testNest", check_nest),
    ("testMap", check_map),
    ("testStringMap", check_string_map),
    ("testSet", check_set),
    ("testList", check_list),
    ("testEnum", check_enum),
    ("testTypedef", check_typedef),
    ("testMapMap", check_map_map),
    ("testInsanity", check_insanity),
    ("testMulti", check_multi),
    ("testException", check_exception),
    ("testMultiException", check_multi_exception),
    ("testOneway", check_oneway),
    ("unknown method", check_unknown_method),
    ("headers", check_headers),
];

fn check_names() -> PossibleValuesParser {
    PossibleValuesParser::new(CHECKS.iter().map(|&(method, _)| method))
}

fn check_void(s: &mut Session) -> Outcome {
    value("testVoid()", s.call(|c| c.test_void()))?;
    Ok(Verdict::Passed)
}

fn check_string(s: &mut Session) -> Outcome {
    let mut values: Vec<String> = ["", "Test", UNICODE, "\0", "𝄞", "مرحبا بالعالم", "漢字"]
        .map(String::from)
        .into();
    values.push(big_string());
    echo(s, &values, |c, v| c.test_string(v), Clone::clone)
}

fn check_bool(s: &mut Session) -> Outcome {
    echo(s, &[true, false], |c, v| c.test_bool(*v), Clone::clone)
}

fn check_byte(s: &mut Session) -> Outcome {
    let values = [0, 1, -1, 42, i8::MAX, i8::MIN];
    echo(s, &values, |c, v| c.test_byte(*v), Clone::clone)
}

fn check_i32(s: &mut Session) -> Outcome {
    // 63/64 and -64/-65 straddle the compact protocol's one-byte varints.
    let values = [0, 1, -1, 63, 64, -64, -65, i32::MIN, i32::MAX, i32::MIN + 1];
    echo(s, &values, |c, v| c.test_i32(*v), Clone::clone)
}

fn check_i64(s: &mut Session) -> Outcome {
    let values = [
        0,
        1,
        -1,
        1 << 32,
        -(1 << 32),
        (1 << 53) + 1, // not a double
        -(1 << 53) - 1,
        i64::MIN,
        i64::MAX,
        i32::MIN.into(),
        i64::from(i32::MAX) + 1,
    ];
    echo(s, &values, |c, v| c.test_i64(*v), Clone::clone)
}

fn check_double(s: &mut Session) -> Outcome {
    let values = [
        0.0,
        -0.0,
        1.0,
        1.5,
        -5.2098523,
        std::f64::consts::PI,
        -3.25e100,
        1e-300,
        f64::from_bits(1),                     // the smallest subnormal, 5e-324
        f64::from_bits(0x000f_ffff_ffff_ffff), // the largest subnormal
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::MIN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ];
    echo(s, &values, |c, v| c.test_double(*v), bits)
}

fn check_binary(s: &mut Session) -> Outcome {
    let values = [
        Bytes::new(),
        (0..=255).collect(),
        (0..=255).rev().collect(),
        Bytes::from_static(b"\xff\xfe\xc0\x80 not UTF-8 \xed\xa0\x80"),
        big_binary(),
    ];
    echo(s, &values, |c, v| c.test_binary(v), Clone::clone)
}

fn check_uuid(s: &mut Session) -> Outcome {
    // Reversed or byte-swapped halves would not compare equal.
    let values = [
        [
            0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
            0xee, 0xff,
        ],
        [
            0xf4, 0x7a, 0xc1, 0x0b, 0x58, 0xcc, 0x43, 0x72, 0xa5, 0x67, 0x0e, 0x02, 0xb2, 0xc3,
            0xd4, 0x79,
        ],
        [0; 16],
        [0xff; 16],
    ];
    // A server built from an IDL without uuid (Apache's Python, say) knows
    // no testUuid.
    let probe = values[0];
    match s.call(|c| c.test_uuid(probe)) {
        Err(CallError::Service(e)) if e.kind == ApplicationErrorKind::UNKNOWN_METHOD => {
            return Ok(Verdict::Skipped("server does not know it".to_string()));
        }
        // Such a server may not even skip a uuid (Apache's Python library
        // closes the connection): ask again, with the argument left out.
        Err(CallError::Client(e)) => {
            let again = s.call(|c| c.connection().call::<AnyReply, _>("testUuid", &NoArguments));
            return match again {
                Err(CallError::Service(a)) if a.kind == ApplicationErrorKind::UNKNOWN_METHOD => {
                    Ok(Verdict::Skipped("server does not know it".to_string()))
                }
                _ => Err(format!(
                    "probe: expected a value, got no valid answer ({e})"
                )),
            };
        }
        result => {
            let got = value("probe", result)?;
            expect(
                "probe",
                &thriftgen_runtime::wire::uuid_to_string(&probe),
                &thriftgen_runtime::wire::uuid_to_string(&got),
            )?;
        }
    }
    echo(
        s,
        &values,
        |c, v| c.test_uuid(*v),
        thriftgen_runtime::wire::uuid_to_string,
    )
}

fn check_struct(s: &mut Session) -> Outcome {
    let values = [
        xtruct("Zero", 1, -3, -5),
        xtruct(UNICODE, i8::MIN, i32::MAX, i64::MIN),
        xtruct("", 0, 0, 0),
        // No field set: none may appear in the answer.
        Xtruct::default(),
        Xtruct {
            i64_thing: Some(i64::MAX),
            ..Xtruct::default()
        },
    ];
    echo(s, &values, |c, v| c.test_struct(v), Clone::clone)
}

fn check_nest(s: &mut Session) -> Outcome {
    let values = [
        Xtruct2 {
            byte_thing: Some(1),
            struct_thing: Some(xtruct("Zero", 1, -3, -5)),
            i32_thing: Some(5),
        },
        Xtruct2 {
            byte_thing: Some(i8::MAX),
            struct_thing: Some(Xtruct::default()),
            i32_thing: Some(i32::MIN),
        },
        Xtruct2 {
            struct_thing: Some(Xtruct {
                string_thing: Some(UNICODE.to_string()),
                ..Xtruct::default()
            }),
            ..Xtruct2::default()
        },
        Xtruct2::default(),
    ];
    echo(s, &values, |c, v| c.test_nest(v), Clone::clone)
}

fn check_map(s: &mut Session) -> Outcome {
    let values = [
        HashMap::new(),
        (0..5).map(|i| (i, i - 10)).collect(),
        HashMap::from([(i32::MIN, i32::MAX), (i32::MAX, i32::MIN), (0, 0), (-1, 1)]),
        (0..10_000).map(|i| (i * 7919 - 5_000_000, -i)).collect(),
    ];
    echo(s, &values, |c, v| c.test_map(v), sorted_map)
}

fn check_string_map(s: &mut Session) -> Outcome {
    let values = [
        HashMap::new(),
        strings([("a", "2"), ("b", "blah"), ("some", "thing")]),
        strings([
            ("", "empty key"),
            ("empty value", ""),
            (UNICODE, "𝄞"),
            ("😀", UNICODE),
            ("עברית", "日本語"),
        ]),
        (0..5_000)
            .map(|i| (format!("key {i} 😀"), format!("value {} ß", i * i)))
            .collect(),
    ];
    echo(s, &values, |c, v| c.test_string_map(v), sorted_map)
}

fn check_set(s: &mut Session) -> Outcome {
    let values = [
        HashSet::new(),
        HashSet::from([-2, -1, 0, 1, 2]),
        HashSet::from([i32::MIN, i32::MAX]),
        (-5_000..5_000).step_by(3).collect(),
    ];
    echo(s, &values, |c, v| c.test_set(v), sorted_set)
}

fn check_list(s: &mut Session) -> Outcome {
    let values = [
        vec![],
        vec![-2, -1, 0, 1, 2],
        vec![3, 1, 2, 3, 3, -1], // order and duplicates kept
        vec![i32::MIN, i32::MAX, 0],
        // Knuth's multiplicative hash: every sign and size.
        (0..50_000u32)
            .map(|i| i.wrapping_mul(2_654_435_761) as i32)
            .collect(),
    ];
    echo(s, &values, |c, v| c.test_list(v), Clone::clone)
}

fn check_enum(s: &mut Session) -> Outcome {
    let mut values = Numberz::VALUES.to_vec();
    // Values the IDL does not declare survive as numbers (open enums).
    values.extend([7, 0, -1, i32::MAX, i32::MIN].map(Numberz));
    echo(s, &values, |c, v| c.test_enum(*v), Clone::clone)
}

fn check_typedef(s: &mut Session) -> Outcome {
    let values: [UserId; 5] = [0, 309_858_235_082_523, i64::MIN, i64::MAX, -1];
    echo(s, &values, |c, v| c.test_typedef(*v), Clone::clone)
}

fn check_map_map(s: &mut Session) -> Outcome {
    let want = BTreeMap::from([
        (-4, BTreeMap::from([(-4, -4), (-3, -3), (-2, -2), (-1, -1)])),
        (4, BTreeMap::from([(1, 1), (2, 2), (3, 3), (4, 4)])),
    ]);
    for hello in [1, -1, i32::MAX] {
        let label = format!("testMapMap({hello})");
        let got = value(&label, s.call(|c| c.test_map_map(hello)))?;
        let got: BTreeMap<_, _> = got.iter().map(|(&k, v)| (k, sorted_map(v))).collect();
        expect(&label, &want, &got)?;
    }
    Ok(Verdict::Passed)
}

fn check_insanity(s: &mut Session) -> Outcome {
    let arguments = [
        Insanity {
            user_map: Some(HashMap::from([
                (Numberz::FIVE, 5),
                (Numberz::EIGHT, 8),
                (Numberz::ONE, i64::MIN),
                (Numberz(-1), i64::MAX),
            ])),
            xtructs: Some(vec![
                xtruct("Goodbye4", 4, 4, 4),
                xtruct("Hello2", 2, 2, 2),
                Xtruct {
                    string_thing: Some(UNICODE.to_string()),
                    ..Xtruct::default()
                },
                Xtruct::default(),
            ]),
        },
        Insanity {
            user_map: Some(HashMap::new()),
            xtructs: Some(vec![]),
        },
        Insanity::default(),
    ];
    for (i, argument) in arguments.iter().enumerate() {
        let label = format!("argument #{i}");
        let got = value(&label, s.call(|c| c.test_insanity(argument)))?;
        let keys: BTreeSet<UserId> = got.keys().copied().collect();
        expect(
            &format!("{label}: the keys"),
            &BTreeSet::from([1, 2]),
            &keys,
        )?;
        let want = HashMap::from([
            (Numberz::TWO, argument.clone()),
            (Numberz::THREE, argument.clone()),
        ]);
        expect(&format!("{label}: [1]"), &want, &got[&1])?;
        let inner = &got[&2];
        let keys: BTreeSet<Numberz> = inner.keys().copied().collect();
        expect(
            &format!("{label}: [2]'s keys"),
            &BTreeSet::from([Numberz::SIX]),
            &keys,
        )?;
        // "An Insanity with no field set": unset, or written as empty
        // containers.
        let empty = &inner[&Numberz::SIX];
        if !empty.user_map.as_ref().is_none_or(HashMap::is_empty)
            || !empty.xtructs.as_ref().is_none_or(Vec::is_empty)
        {
            return Err(format!(
                "{label}: [2][SIX]: expected an empty Insanity, got {}",
                quote(empty)
            ));
        }
    }
    Ok(Verdict::Passed)
}

fn check_multi(s: &mut Session) -> Outcome {
    let cases = [
        (
            1,
            2,
            3,
            HashMap::from([(1, "one"), (2, "two")]),
            Numberz::FIVE,
            5,
        ),
        (
            i8::MIN,
            i32::MAX,
            i64::MIN,
            HashMap::from([(i16::MIN, ""), (i16::MAX, UNICODE), (0, "𝄞")]),
            Numberz::EIGHT,
            i64::MAX,
        ),
        (0, 0, 0, HashMap::new(), Numberz(7), 0),
    ];
    for (i, (arg0, arg1, arg2, arg3, arg4, arg5)) in cases.into_iter().enumerate() {
        let label = format!("case #{i}");
        let arg3: HashMap<i16, String> =
            arg3.into_iter().map(|(k, v)| (k, v.to_string())).collect();
        let got = value(
            &label,
            s.call(|c| c.test_multi(arg0, arg1, arg2, &arg3, arg4, arg5)),
        )?;
        expect(&label, &xtruct("Hello2", arg0, arg1, arg2), &got)?;
    }
    Ok(Verdict::Passed)
}

fn check_exception(s: &mut Session) -> Outcome {
    let label = r#"testException("Xception")"#;
    match s.call(|c| c.test_exception("Xception")) {
        Err(CallError::Service(ThriftTestTestExceptionError::Xception(e))) => {
            let want = Xception {
                error_code: Some(1001),
                message: Some("Xception".to_string()),
            };
            expect(label, &want, &e)?;
        }
        other => return Err(format!("{label}: expected Xception, {}", describe(&other))),
    }

    // Any application error will do: its kind is the server's choice.
    let label = r#"testException("TException")"#;
    match s.call(|c| c.test_exception("TException")) {
        Err(CallError::Service(ThriftTestTestExceptionError::Application(_))) => {}
        other => {
            return Err(format!(
                "{label}: expected an application exception, {}",
                describe(&other)
            ))
        }
    }

    // The connection survives both.
    for arg in ["other", "", "Xception2", "xception"] {
        let label = format!("testException({arg:?})");
        value(&label, s.call(|c| c.test_exception(arg)))?;
    }
    Ok(Verdict::Passed)
}

fn check_multi_exception(s: &mut Session) -> Outcome {
    let label = r#"testMultiException("Xception", _)"#;
    match s.call(|c| c.test_multi_exception("Xception", "test 1")) {
        Err(CallError::Service(ThriftTestTestMultiExceptionError::Xception(e))) => {
            let want = Xception {
                error_code: Some(1001),
                message: Some("This is an Xception".to_string()),
            };
            expect(label, &want, &e)?;
        }
        other => return Err(format!("{label}: expected Xception, {}", describe(&other))),
    }

    let label = r#"testMultiException("Xception2", _)"#;
    match s.call(|c| c.test_multi_exception("Xception2", "test 2")) {
        Err(CallError::Service(ThriftTestTestMultiExceptionError::Xception2(e))) => {
            let Xception2 {
                error_code,
                struct_thing,
            } = &e;
            expect(&format!("{label}.errorCode"), &Some(2002), error_code)?;
            expect_string_only(
                &format!("{label}.struct_thing"),
                "This is an Xception2",
                struct_thing.as_ref(),
            )?;
        }
        other => return Err(format!("{label}: expected Xception2, {}", describe(&other))),
    }

    for (arg0, arg1) in [("other", "x"), ("TException", UNICODE), ("", "")] {
        let label = format!("testMultiException({arg0:?}, _)");
        let got = value(&label, s.call(|c| c.test_multi_exception(arg0, arg1)))?;
        expect_string_only(&label, arg1, Some(&got))?;
    }
    Ok(Verdict::Passed)
}

/// How long sending a oneway call may take. The server sleeps a second
/// after reading it, and a client that waited for it would take that long.
const ONEWAY_LIMIT: Duration = Duration::from_millis(500);

fn check_oneway(s: &mut Session) -> Outcome {
    // Connected before the clock starts.
    s.thrift_test().map_err(|e| format!("connect: {e}"))?;
    let started = Instant::now();
    let sent = s.call(|c| c.test_oneway(1).map_err(CallError::<Infallible>::Client));
    let took = started.elapsed();
    value("testOneway(1)", sent)?;
    if took >= ONEWAY_LIMIT {
        return Err(format!("testOneway(1) blocked the client for {took:?}"));
    }
    // No reply may come: the next answers on the connection are the next
    // calls'.
    let got = value("testI32(-17)", s.call(|c| c.test_i32(-17)))?;
    expect("testI32 after testOneway", &-17, &got)?;
    let got = value(
        r#"testString("after oneway")"#,
        s.call(|c| c.test_string("after oneway")),
    )?;
    expect(
        "testString after testOneway",
        &"after oneway",
        &got.as_str(),
    )?;
    Ok(Verdict::Passed)
}

fn check_unknown_method(s: &mut Session) -> Outcome {
    // A server of ThriftTest alone knows no `secondtestString`: it must say
    // UNKNOWN_METHOD and keep the connection.
    let label = r#"secondtestString("x")"#;
    match s.call_second_service(|c| c.secondtest_string("x")) {
        Err(CallError::Service(e)) if e.kind == ApplicationErrorKind::UNKNOWN_METHOD => {}
        other => {
            return Err(format!(
                "{label}: expected an UNKNOWN_METHOD application exception, {}",
                describe(&other)
            ))
        }
    }
    let got = value("testI32(9) after it", s.call(|c| c.test_i32(9)))?;
    expect("testI32 after an unknown method", &9, &got)?;
    Ok(Verdict::Passed)
}

/// The header check of the interop suite (`thriftgen_interop::headers`):
/// byte-string headers to the server with `testString("headers")`, which
/// says whether they came through exactly and answers with headers of its
/// own, which must come back exactly.
fn check_headers(s: &mut Session) -> Outcome {
    use thriftgen_interop::headers::{compare, CHECK_KEY, REPLY, REQUEST};
    if !matches!(s.options.dialect, Dialect::Header | Dialect::TTHeader) {
        return Ok(Verdict::Skipped(
            "the transport carries no headers".to_string(),
        ));
    }
    let label = r#"testString("headers")"#;
    let got = value(
        label,
        s.call(|c| {
            let headers = c.connection().headers_mut();
            for &(key, value) in REQUEST {
                headers.insert(key, value);
            }
            c.test_string("headers")
        }),
    )?;
    expect(label, &"headers", &got.as_str())?;
    let reply = s
        .thrift_test()
        .map_err(|e| format!("{label}: {e}"))?
        .connection()
        .reply_headers()
        .clone();
    match reply.get(CHECK_KEY) {
        Some(b"ok") => {}
        Some(verdict) => {
            return Err(format!(
                "the server saw other headers: {}",
                verdict.escape_ascii()
            ))
        }
        None => {
            return Err(format!(
                "the reply has no {} header: {reply:?}",
                CHECK_KEY.escape_ascii()
            ))
        }
    }
    compare(&reply, REPLY, &[CHECK_KEY]).map_err(|why| format!("reply headers: {why}"))?;
    Ok(Verdict::Passed)
}
