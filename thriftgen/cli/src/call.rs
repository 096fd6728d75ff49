//! `thriftgen call`: calls a method of any service from its IDL, with JSON
//! arguments and a JSON result, without generated code.

use clap::{Args, ValueEnum};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use thriftgen::diag::{Format, Renderer};
use thriftgen_dynamic::{CallError, Method, Outcome, Schema};
use thriftgen_runtime::{Client, ClientOptions, Dialect, ProtocolId};

/// Exit status: the method returned.
const OK: u8 = 0;
/// Exit status: the method threw one of its declared exceptions.
const EXCEPTION: u8 = 1;
/// Exit status: nothing was sent (a usage error, an IDL with errors, an
/// unknown method, arguments that do not fit).
const NOT_SENT: u8 = 2;
/// Exit status: the server answered with an application exception.
const APPLICATION: u8 = 3;
/// Exit status: no valid answer (connection, framing or protocol failure).
const NO_ANSWER: u8 = 4;

#[derive(Args, Debug)]
pub(crate) struct CallArgs {
    /// The IDL file that declares the service (its includes are followed).
    #[arg(long, value_name = "FILE")]
    idl: PathBuf,

    /// Add DIR to the directories searched for included files.
    #[arg(short = 'I', long = "include-dir", value_name = "DIR")]
    include_dirs: Vec<PathBuf>,

    /// The server, `HOST:PORT`.
    #[arg(long, value_name = "HOST:PORT", required_unless_present = "list")]
    addr: Option<String>,

    /// The framing the server speaks. `ttheader-framed` is TTHeader with the
    /// message framed inside (what Kitex calls TTHeaderFramed, and Volo's
    /// default codec sends).
    #[arg(long, value_enum, default_value_t = TransportArg::Framed)]
    transport: TransportArg,

    /// The protocol.
    #[arg(long, value_enum, default_value_t = ProtocolArg::Binary)]
    protocol: ProtocolArg,

    /// A header to send, `KEY=VALUE` (repeatable; THeader and TTHeader only).
    #[arg(long = "header", value_name = "KEY=VALUE", value_parser = parse_header)]
    headers: Vec<(String, String)>,

    /// Send the method name as `Service:method`, for a server of several
    /// services (Apache's `TMultiplexedProtocol`).
    #[arg(long)]
    multiplexed: bool,

    /// Seconds to wait for the connection and for the reply.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    timeout: f64,

    /// Print the result on one line instead of indented.
    #[arg(long)]
    compact: bool,

    /// Print the reply's headers (THeader, TTHeader) on standard error.
    #[arg(short, long)]
    verbose: bool,

    /// List the services and methods of the IDL (of SERVICE alone, if
    /// given) with their argument types, instead of calling.
    #[arg(long)]
    list: bool,

    /// The method, `Service.method` (`module.Service.method` for a service
    /// of an included file); with `--list`, a service.
    #[arg(value_name = "SERVICE.METHOD", required_unless_present = "list")]
    method: Option<String>,

    /// The arguments as a JSON object by parameter name (`{"id": 7}`), or
    /// `-` to read them from standard input. Default: no arguments.
    #[arg(value_name = "JSON ARGS")]
    args: Option<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum TransportArg {
    Framed,
    Buffered,
    Header,
    Ttheader,
    TtheaderFramed,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ProtocolArg {
    Binary,
    Compact,
    Json,
}

fn parse_header(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

fn fail(code: u8, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}

pub(crate) fn call(args: CallArgs, renderer: &Renderer) -> ExitCode {
    let schema = match Schema::load(&[&args.idl], &args.include_dirs) {
        Ok(schema) => schema,
        Err(err) => {
            let _ = std::io::stderr()
                .lock()
                .write_all(err.render(renderer).as_bytes());
            return ExitCode::from(NOT_SENT);
        }
    };
    if args.list {
        return list(&schema, args.method.as_deref());
    }
    let (Some(path), Some(addr)) = (args.method.as_deref(), args.addr.as_deref()) else {
        return fail(NOT_SENT, "a method and `--addr` are needed to call");
    };
    let method = match schema.method(path) {
        Ok(method) => method,
        Err(e) => return fail(NOT_SENT, e),
    };
    let json = match read_args(args.args.as_deref()) {
        Ok(json) => json,
        Err(e) => return fail(NOT_SENT, e),
    };
    let call_args = match method.args_from_json(&json) {
        Ok(call_args) => call_args,
        Err(e) => {
            return fail(
                NOT_SENT,
                format!("bad arguments for `{path}`: {e}\n  {}", method.signature()),
            )
        }
    };
    let dialect = match args.transport {
        TransportArg::Framed => Dialect::Framed,
        TransportArg::Buffered => Dialect::Buffered,
        TransportArg::Header => Dialect::Header,
        TransportArg::Ttheader | TransportArg::TtheaderFramed => Dialect::TTHeader,
    };
    if !args.headers.is_empty() && !matches!(dialect, Dialect::Header | Dialect::TTHeader) {
        return fail(
            NOT_SENT,
            "`--header` needs `--transport header`, `ttheader` or `ttheader-framed`",
        );
    }
    let timeout = match Duration::try_from_secs_f64(args.timeout) {
        Ok(timeout) if !timeout.is_zero() => Some(timeout),
        _ => return fail(NOT_SENT, "`--timeout` must be a positive number of seconds"),
    };
    let protocol = match args.protocol {
        ProtocolArg::Binary => ProtocolId::Binary,
        ProtocolArg::Compact => ProtocolId::Compact,
        ProtocolArg::Json => ProtocolId::Json,
    };
    let options = ClientOptions {
        connect_timeout: timeout,
        read_timeout: timeout,
        write_timeout: timeout,
        // As the server registered it: the bare name, whatever file it is in.
        service_name: args.multiplexed.then(|| method.service_def().name.clone()),
        framed_payload: matches!(args.transport, TransportArg::TtheaderFramed),
        ..ClientOptions::new(dialect, protocol)
    };
    let mut client = match Client::connect(addr, options) {
        Ok(client) => client,
        Err(e) => return fail(NO_ANSWER, format!("cannot connect to {addr}: {e}")),
    };
    for (key, value) in &args.headers {
        client.headers_mut().insert(key.clone(), value.clone());
    }
    let outcome = method.call(&mut client, &call_args);
    if args.verbose {
        let mut stderr = std::io::stderr().lock();
        for (key, value) in client.reply_headers().iter() {
            let _ = writeln!(stderr, "< {}: {}", shown(key), shown(value));
        }
    }
    match outcome {
        Ok(outcome) => print_outcome(&method, &outcome, args.compact),
        Err(CallError::Encode(e)) => fail(NOT_SENT, format!("the arguments cannot be sent: {e}")),
        Err(CallError::Application(e)) => fail(
            APPLICATION,
            format!(
                "the server answered `{path}` with an application exception: {} ({})",
                e.message, e.kind
            ),
        ),
        // The client's own failures and replies that do not fit the IDL.
        Err(e) => fail(NO_ANSWER, e),
    }
}

/// A header's bytes as text: as they are when UTF-8, escaped otherwise.
fn shown(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => bytes.escape_ascii().to_string(),
    }
}

fn read_args(given: Option<&str>) -> Result<serde_json::Value, String> {
    let text = match given {
        None => return Ok(serde_json::Value::Null),
        Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("cannot read the arguments from standard input: {e}"))?;
            text
        }
        Some(text) => text.to_string(),
    };
    if text.trim().is_empty() {
        return Ok(serde_json::Value::Null);
    }
    serde_json::from_str(&text).map_err(|e| format!("the arguments are not JSON: {e}"))
}

fn print_outcome(method: &Method<'_>, outcome: &Outcome, compact: bool) -> ExitCode {
    // A oneway call has no result to print.
    if method.is_oneway() {
        return ExitCode::from(OK);
    }
    let json = match method.outcome_to_json(outcome) {
        Ok(json) => json,
        Err(e) => return fail(NO_ANSWER, format!("the reply cannot be shown: {e}")),
    };
    let text = if compact {
        json.to_string()
    } else {
        serde_json::to_string_pretty(&json).unwrap_or_else(|_| json.to_string())
    };
    let _ = writeln!(std::io::stdout().lock(), "{text}");
    match outcome {
        Outcome::Returned(_) => ExitCode::from(OK),
        Outcome::Exception(_) => ExitCode::from(EXCEPTION),
    }
}

fn list(schema: &Schema, only: Option<&str>) -> ExitCode {
    let services = match only {
        Some(name) => match schema.service(name) {
            Some(service) => vec![service],
            None => return fail(NOT_SENT, format!("no service `{name}`")),
        },
        None => schema.services(),
    };
    let mut out = String::new();
    for service in services {
        out.push_str(&format!("service {}", service.name()));
        if let Some(base) = service.extends() {
            out.push_str(&format!(" extends {}", base.name()));
        }
        out.push('\n');
        let own = service.name();
        for method in service.methods() {
            out.push_str(&format!("  {}", method.signature()));
            let from = method.declared_in();
            if from != own {
                out.push_str(&format!("  (from {from})"));
            }
            out.push('\n');
        }
    }
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    ExitCode::from(OK)
}

/// The renderer for IDL errors.
pub(crate) fn renderer(color: bool) -> Renderer {
    Renderer {
        format: Format::Full,
        color,
    }
}
