//! The cross-test service's handler (`idl/ThriftTest.thrift`) with the
//! semantics Apache's cross tests expect, and the server
//! `thrift-test-server` runs: every transport and protocol (binary, compact,
//! JSON) on one port, `ThriftTest:` and `SecondService:` multiplexed names
//! served too, plain names going to `ThriftTest`. Over THeader and TTHeader
//! it answers the interop suite's header check ([`crate::headers`]).
//!
//! Tests elsewhere in the workspace (`thriftgen call`'s) serve it in-process
//! with [`bind`].

use crate::thrift_test::{
    Insanity, Numberz, SecondService, SecondServiceProcessor, ThriftTest, ThriftTestProcessor,
    ThriftTestTestExceptionError, ThriftTestTestMultiExceptionError, UserId, Xception, Xception2,
    Xtruct, Xtruct2,
};
use std::collections::HashMap;
use std::net::ToSocketAddrs;
use std::sync::Arc;
use std::time::Duration;
use thriftgen_runtime::bytes::Bytes;
use thriftgen_runtime::protocol::{ApplicationErrorKind, ApplicationException};
use thriftgen_runtime::protocol::{InputProtocol, MessageHeader, OutputProtocol};
use thriftgen_runtime::server::{Handlers, RunningServer, Server, ServerOptions};
use thriftgen_runtime::service::{CallContext, Multiplexed, ProcessError, Processed, Processor};

/// Serves the cross-test service on `addr` with `options` (handlers on
/// worker threads: `testOneway` sleeps).
///
/// # Errors
///
/// When the address cannot be bound.
pub fn bind<A: ToSocketAddrs>(addr: A, options: ServerOptions) -> std::io::Result<RunningServer> {
    let options = ServerOptions {
        handlers: match options.handlers {
            Handlers::Workers(n) => Handlers::Workers(n.max(1)),
            _ => Handlers::Workers(4),
        },
        ..options
    };
    let handler = Arc::new(TestHandler);
    let processor = Multiplexed::new("ThriftTest", ThriftTestProcessor::new(Arc::clone(&handler)))
        .with(
            "SecondService",
            SecondServiceProcessor::new(Arc::clone(&handler)),
        )
        .with_default(ThriftTestProcessor::new(handler));
    Server::new(AnswerHeaders(processor))
        .options(options)
        .bind(addr)
}

type Result<T, E = ApplicationException> = std::result::Result<T, E>;

/// The cross-test handler. Every method echoes its argument unless its
/// comment in the IDL says otherwise.
#[derive(Debug)]
pub struct TestHandler;

impl ThriftTest for TestHandler {
    fn test_void(&self, _: &CallContext) -> Result<()> {
        Ok(())
    }

    fn test_string(&self, _: &CallContext, thing: String) -> Result<String> {
        Ok(thing)
    }

    fn test_bool(&self, _: &CallContext, thing: bool) -> Result<bool> {
        Ok(thing)
    }

    fn test_byte(&self, _: &CallContext, thing: i8) -> Result<i8> {
        Ok(thing)
    }

    fn test_i32(&self, _: &CallContext, thing: i32) -> Result<i32> {
        Ok(thing)
    }

    fn test_i64(&self, _: &CallContext, thing: i64) -> Result<i64> {
        Ok(thing)
    }

    fn test_double(&self, _: &CallContext, thing: f64) -> Result<f64> {
        Ok(thing)
    }

    fn test_binary(&self, _: &CallContext, thing: Bytes) -> Result<Bytes> {
        Ok(thing)
    }

    fn test_uuid(&self, _: &CallContext, thing: [u8; 16]) -> Result<[u8; 16]> {
        Ok(thing)
    }

    fn test_struct(&self, _: &CallContext, thing: Xtruct) -> Result<Xtruct> {
        Ok(thing)
    }

    fn test_nest(&self, _: &CallContext, thing: Xtruct2) -> Result<Xtruct2> {
        Ok(thing)
    }

    fn test_map(&self, _: &CallContext, thing: HashMap<i32, i32>) -> Result<HashMap<i32, i32>> {
        Ok(thing)
    }

    fn test_string_map(
        &self,
        _: &CallContext,
        thing: HashMap<String, String>,
    ) -> Result<HashMap<String, String>> {
        Ok(thing)
    }

    fn test_set(
        &self,
        _: &CallContext,
        thing: std::collections::HashSet<i32>,
    ) -> Result<std::collections::HashSet<i32>> {
        Ok(thing)
    }

    fn test_list(&self, _: &CallContext, thing: Vec<i32>) -> Result<Vec<i32>> {
        Ok(thing)
    }

    fn test_enum(&self, _: &CallContext, thing: Numberz) -> Result<Numberz> {
        Ok(thing)
    }

    fn test_typedef(&self, _: &CallContext, thing: UserId) -> Result<UserId> {
        Ok(thing)
    }

    /// `{-4: {-4: -4, -3: -3, -2: -2, -1: -1}, 4: {1: 1, 2: 2, 3: 3, 4: 4}}`.
    fn test_map_map(
        &self,
        _: &CallContext,
        _hello: i32,
    ) -> Result<HashMap<i32, HashMap<i32, i32>>> {
        Ok(HashMap::from([
            (-4, (1..=4).map(|i| (-i, -i)).collect()),
            (4, (1..=4).map(|i| (i, i)).collect()),
        ]))
    }

    /// `{1: {TWO: argument, THREE: argument}, 2: {SIX: an empty Insanity}}`.
    fn test_insanity(
        &self,
        _: &CallContext,
        argument: Insanity,
    ) -> Result<HashMap<UserId, HashMap<Numberz, Insanity>>> {
        let first = HashMap::from([(Numberz::TWO, argument.clone()), (Numberz::THREE, argument)]);
        let second = HashMap::from([(Numberz::SIX, Insanity::default())]);
        Ok(HashMap::from([(1, first), (2, second)]))
    }

    /// `Xtruct { string_thing: "Hello2", byte_thing: arg0, i32_thing: arg1,
    /// i64_thing: arg2 }`.
    fn test_multi(
        &self,
        _: &CallContext,
        arg0: i8,
        arg1: i32,
        arg2: i64,
        _arg3: HashMap<i16, String>,
        _arg4: Numberz,
        _arg5: UserId,
    ) -> Result<Xtruct> {
        Ok(Xtruct {
            string_thing: Some("Hello2".to_string()),
            byte_thing: Some(arg0),
            i32_thing: Some(arg1),
            i64_thing: Some(arg2),
        })
    }

    /// `"Xception"` throws `Xception(1001, arg)`; `"TException"` fails with an
    /// application error; anything else returns.
    fn test_exception(
        &self,
        _: &CallContext,
        arg: String,
    ) -> Result<(), ThriftTestTestExceptionError> {
        match arg.as_str() {
            "Xception" => Err(Xception {
                error_code: Some(1001),
                message: Some(arg),
            }
            .into()),
            "TException" => Err(ApplicationException::new(
                ApplicationErrorKind::INTERNAL_ERROR,
                "This is a TException",
            )
            .into()),
            _ => Ok(()),
        }
    }

    /// `"Xception"` throws `Xception(1001, "This is an Xception")`,
    /// `"Xception2"` throws `Xception2(2002, Xtruct("This is an Xception2"))`;
    /// anything else returns `Xtruct { string_thing: arg1 }`.
    fn test_multi_exception(
        &self,
        _: &CallContext,
        arg0: String,
        arg1: String,
    ) -> Result<Xtruct, ThriftTestTestMultiExceptionError> {
        match arg0.as_str() {
            "Xception" => Err(Xception {
                error_code: Some(1001),
                message: Some("This is an Xception".to_string()),
            }
            .into()),
            "Xception2" => Err(Xception2 {
                error_code: Some(2002),
                struct_thing: Some(Xtruct {
                    string_thing: Some("This is an Xception2".to_string()),
                    ..Xtruct::default()
                }),
            }
            .into()),
            _ => Ok(Xtruct {
                string_thing: Some(arg1),
                ..Xtruct::default()
            }),
        }
    }

    /// Sleeps, on a worker; the caller gets no reply.
    fn test_oneway(&self, _: &CallContext, seconds_to_sleep: i32) -> Result<()> {
        let seconds = u64::try_from(seconds_to_sleep).unwrap_or(0).min(5);
        std::thread::sleep(Duration::from_secs(seconds));
        Ok(())
    }
}

impl SecondService for TestHandler {
    fn secondtest_string(&self, _: &CallContext, thing: String) -> Result<String> {
        Ok(format!("testString(\"{thing}\")"))
    }
}

/// Answers the interop suite's header check ([`crate::headers`])
/// on every call, then hands the call on.
struct AnswerHeaders<P>(P);

impl<P: Processor> Processor for AnswerHeaders<P> {
    fn process<I: InputProtocol, O: OutputProtocol>(
        &self,
        ctx: &CallContext,
        header: &MessageHeader,
        input: &mut I,
        output: &mut O,
    ) -> std::result::Result<Processed, ProcessError> {
        crate::headers::answer(ctx);
        self.0.process(ctx, header, input, output)
    }
}
