//! Methods of a service: their arguments and results as dynamic values,
//! and calls over a blocking [`Client`].

use crate::codec::{read_in, read_struct, write_struct, ReadAny};
use crate::json::{struct_from_json, struct_to_json, to_json};
use crate::schema::{Schema, Shape};
use crate::value::{StructValue, Value};
use crate::JsonError;
use std::cell::Cell;
use std::fmt;
use thriftgen::ir::{Def, Function, Type};
use thriftgen_runtime::client::CallError as ClientCallError;
use thriftgen_runtime::protocol::Protocols;
use thriftgen_runtime::protocol::{InputProtocol, Limits, OutputProtocol, ProtocolError, RawValue};
use thriftgen_runtime::service::{Args, Reply};
use thriftgen_runtime::transport::Transport;
use thriftgen_runtime::{ApplicationErrorKind, ApplicationException, Client, ClientError, TType};

/// One method of a service, as the service it was looked up through has it
/// (its own or inherited).
#[derive(Clone, Debug)]
pub struct Method<'s> {
    schema: &'s Schema,
    service: &'s Def,
    owner: &'s Def,
    function: &'s Function,
    /// `Service.method`, the name errors give its arguments and result.
    path: String,
}

impl<'s> Method<'s> {
    pub(crate) fn new(
        schema: &'s Schema,
        service: &'s Def,
        owner: &'s Def,
        function: &'s Function,
    ) -> Method<'s> {
        let path = format!("{}.{}", schema.def_name(service), function.name);
        Method {
            schema,
            service,
            owner,
            function,
            path,
        }
    }

    /// The method's name, as the wire carries it.
    pub fn name(&self) -> &'s str {
        &self.function.name
    }

    /// The service it was looked up through (`ThriftTest`).
    pub fn service(&self) -> String {
        self.schema.def_name(self.service)
    }

    /// The definition of the service it was looked up through (its `name`
    /// is the bare name a multiplexing server registers it under).
    pub fn service_def(&self) -> &'s Def {
        self.service
    }

    /// The service that declares it (a base service for an inherited one).
    pub fn declared_in(&self) -> String {
        self.schema.def_name(self.owner)
    }

    /// Its IDL declaration.
    pub fn function(&self) -> &'s Function {
        self.function
    }

    /// Whether it is `oneway` (no reply comes).
    pub fn is_oneway(&self) -> bool {
        self.function.oneway
    }

    /// What it returns; `None` for `void`.
    pub fn returns(&self) -> Option<&'s Type> {
        self.function.returns.as_ref()
    }

    /// The method as the IDL would declare it:
    /// `Xtruct testMulti(1: i8 arg0, 2: i32 arg1) throws (1: Xception err1)`.
    pub fn signature(&self) -> String {
        let fields = |fields: &[thriftgen::ir::Field]| {
            fields
                .iter()
                .map(|f| {
                    let req = match f.requiredness {
                        thriftgen::ir::Requiredness::Required => "required ",
                        thriftgen::ir::Requiredness::Optional => "optional ",
                        thriftgen::ir::Requiredness::Default => "",
                    };
                    format!("{}: {req}{} {}", f.id, self.schema.type_name(&f.ty), f.name)
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let returns = self
            .returns()
            .map_or("void".to_string(), |t| self.schema.type_name(t));
        let oneway = if self.is_oneway() { "oneway " } else { "" };
        let mut out = format!(
            "{oneway}{returns} {}({})",
            self.name(),
            fields(&self.function.params)
        );
        if !self.function.throws.is_empty() {
            out.push_str(&format!(" throws ({})", fields(&self.function.throws)));
        }
        out
    }

    fn args_shape(&self) -> Shape<'_> {
        Shape::args(&self.path, self.function)
    }

    fn result_shape(&self) -> Shape<'_> {
        Shape::result(&self.path, self.function)
    }

    /// The arguments from a JSON object keyed by parameter name
    /// (`{"thing": "hello"}`; `{}` or `null` for none). Arguments not given
    /// take their IDL default, if they have one.
    ///
    /// # Errors
    ///
    /// When an argument is unknown or does not fit its type, or a
    /// `required` one is missing: before anything is sent.
    pub fn args_from_json(&self, json: &serde_json::Value) -> Result<StructValue, JsonError> {
        let empty = serde_json::Value::Object(serde_json::Map::new());
        let json = if json.is_null() { &empty } else { json };
        struct_from_json(self.schema, &self.args_shape(), json, 0)
    }

    /// The arguments as a JSON object keyed by parameter name.
    ///
    /// # Errors
    ///
    /// When `args` does not fit the parameters.
    pub fn args_to_json(&self, args: &StructValue) -> Result<serde_json::Value, JsonError> {
        struct_to_json(self.schema, &self.args_shape(), args, 0)
    }

    /// Writes the arguments struct (what follows a call's message header).
    ///
    /// # Errors
    ///
    /// As [`Schema::write`].
    pub fn write_args<O: OutputProtocol>(
        &self,
        args: &StructValue,
        output: &mut O,
    ) -> Result<(), ProtocolError> {
        write_struct(self.schema, &self.args_shape(), args, output)
    }

    /// Reads the arguments struct (a server's side of a call).
    ///
    /// # Errors
    ///
    /// As [`Schema::read`].
    pub fn read_args<I: InputProtocol>(&self, input: &mut I) -> Result<StructValue, ProtocolError> {
        read_struct(self.schema, &self.args_shape(), input)
    }

    /// Writes the result struct of a reply: the returned value (field 0) or
    /// one declared exception.
    ///
    /// # Errors
    ///
    /// When the outcome does not fit the method, or the writer fails.
    pub fn write_result<O: OutputProtocol>(
        &self,
        outcome: &Outcome,
        output: &mut O,
    ) -> Result<(), ProtocolError> {
        let mut result = StructValue::new();
        match outcome {
            Outcome::Returned(Some(value)) => {
                result.insert(0, value.clone());
            }
            Outcome::Returned(None) => {}
            Outcome::Exception(thrown) => {
                result.insert(thrown.id, thrown.value.clone());
            }
        }
        write_struct(self.schema, &self.result_shape(), &result, output)
    }

    /// Reads the result struct of a reply: the returned value or a declared
    /// exception, or, when it holds neither and the method is not `void`,
    /// the `MISSING_RESULT` application exception generated clients report.
    ///
    /// # Errors
    ///
    /// When the struct is malformed.
    pub fn read_result<I: InputProtocol>(
        &self,
        input: &mut I,
    ) -> Result<Result<Outcome, ApplicationException>, ProtocolError> {
        let result = read_struct(self.schema, &self.result_shape(), input)?;
        Ok(self.outcome(result))
    }

    fn outcome(&self, mut result: StructValue) -> Result<Outcome, ApplicationException> {
        if self.returns().is_some() {
            if let Some(value) = result.remove(0) {
                return Ok(Outcome::Returned(Some(value)));
            }
        }
        for field in &self.function.throws {
            if let Some(value) = result.remove(field.id) {
                return Ok(Outcome::Exception(Thrown {
                    id: field.id,
                    field: field.name.clone(),
                    type_name: self.schema.type_name(&field.ty),
                    value,
                }));
            }
        }
        if self.returns().is_none() {
            return Ok(Outcome::Returned(None));
        }
        // What generated clients report for a reply with nothing in it.
        Err(ApplicationException::new(
            ApplicationErrorKind::MISSING_RESULT,
            format!("{} failed: unknown result", self.name()),
        ))
    }

    /// Calls the method over `client` with `args` and reads its reply; a
    /// `oneway` method returns `Returned(None)` as soon as the call is sent.
    /// The client's options (dialect, protocol, multiplexed service name,
    /// limits, timeouts) and headers apply.
    ///
    /// # Errors
    ///
    /// [`CallError::Application`] when the server answered with an
    /// application exception, [`CallError::Client`] when there was no valid
    /// answer, [`CallError::Encode`] when `args` does not fit the parameters
    /// (nothing was sent), [`CallError::Decode`] when the reply's result does
    /// not fit the IDL.
    pub fn call<T: Transport, X: Protocols>(
        &self,
        client: &mut Client<T, X>,
        args: &StructValue,
    ) -> Result<Outcome, CallError> {
        // The client encodes the call before it writes a byte, so arguments
        // that do not fit fail with nothing sent; `SendArgs` tells that
        // failure apart from the client's own.
        let send = SendArgs {
            method: self,
            args,
            failed: Cell::new(None),
        };
        let client_error = |e: ClientError| match send.failed.take() {
            Some(encode) => CallError::Encode(encode),
            None => CallError::Client(e),
        };
        if self.is_oneway() {
            client
                .send_oneway_method(self.name(), &send)
                .map_err(client_error)?;
            return Ok(Outcome::Returned(None));
        }
        let raw = match client.call_method::<RawResult, _>(self.name(), &send) {
            Ok(raw) => raw,
            Err(ClientCallError::Service(e)) => return Err(CallError::Application(e)),
            Err(ClientCallError::Client(e)) => return Err(client_error(e)),
        };
        let limits = client.options().limits;
        let result = decode_raw(self.schema, &self.result_shape(), &raw, limits)
            .map_err(CallError::Decode)?;
        self.outcome(result).map_err(CallError::Application)
    }

    /// An outcome as JSON: the returned value (`null` for `void`), or
    /// `{"exception": "Xception", "field": "err1", "value": {...}}` for a
    /// declared exception.
    ///
    /// # Errors
    ///
    /// When the outcome does not fit the method.
    pub fn outcome_to_json(&self, outcome: &Outcome) -> Result<serde_json::Value, JsonError> {
        match outcome {
            Outcome::Returned(None) => Ok(serde_json::Value::Null),
            Outcome::Returned(Some(value)) => {
                let ty = self
                    .returns()
                    .ok_or_else(|| JsonError::new("a `void` method returned a value"))?;
                to_json(self.schema, ty, value, 0)
            }
            Outcome::Exception(thrown) => {
                let field = self
                    .function
                    .throws
                    .iter()
                    .find(|f| f.id == thrown.id)
                    .ok_or_else(|| {
                        JsonError::new(format!(
                            "`{}` declares no exception #{}",
                            self.path, thrown.id
                        ))
                    })?;
                let value = to_json(self.schema, &field.ty, &thrown.value, 0)?;
                let mut out = serde_json::Map::new();
                out.insert("exception".into(), thrown.type_name.clone().into());
                out.insert("field".into(), thrown.field.clone().into());
                out.insert("value".into(), value);
                Ok(serde_json::Value::Object(out))
            }
        }
    }
}

/// What a method answered, short of an error.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// It returned: the value, or `None` for `void` (and for `oneway`
    /// methods, once sent).
    Returned(Option<Value>),
    /// It threw one of its declared exceptions.
    Exception(Thrown),
}

/// A declared exception a method threw.
#[derive(Clone, Debug, PartialEq)]
pub struct Thrown {
    /// The id of its entry in `throws`.
    pub id: i16,
    /// The name of its entry in `throws` (`err1`).
    pub field: String,
    /// The exception type's name (`Xception`).
    pub type_name: String,
    /// The exception.
    pub value: Value,
}

/// Why a dynamic call has no [`Outcome`].
#[derive(Debug)]
#[non_exhaustive]
pub enum CallError {
    /// The arguments do not fit the parameters; nothing was sent.
    Encode(ProtocolError),
    /// The server answered with an application exception (unknown method,
    /// a handler that failed, ...).
    Application(ApplicationException),
    /// There was no valid answer: the connection, the framing, or the
    /// reply's message header failed.
    Client(ClientError),
    /// The reply's result struct does not fit the IDL.
    Decode(ProtocolError),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Encode(e) => write!(f, "the arguments cannot be sent: {e}"),
            CallError::Application(e) => write!(f, "the server answered with an error: {e}"),
            CallError::Client(e) => fmt::Display::fmt(e, f),
            CallError::Decode(e) => write!(f, "the reply does not fit the IDL: {e}"),
        }
    }
}

impl std::error::Error for CallError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CallError::Encode(e) | CallError::Decode(e) => Some(e),
            CallError::Application(e) => Some(e),
            CallError::Client(e) => Some(e),
        }
    }
}

/// The arguments of a call, as the client writes them; keeps the error
/// when they cannot be written.
struct SendArgs<'a, 's> {
    method: &'a Method<'s>,
    args: &'a StructValue,
    failed: Cell<Option<ProtocolError>>,
}

impl Args for SendArgs<'_, '_> {
    fn write<O: OutputProtocol>(&self, output: &mut O) -> Result<(), ProtocolError> {
        self.method
            .write_args(self.args, output)
            .inspect_err(|e| self.failed.set(Some(e.clone())))
    }
}

/// A reply's result struct kept as it arrived, to be read with the IDL once
/// the client hands it over (a [`Reply`] cannot carry the schema).
struct RawResult;

impl Reply for RawResult {
    type Ok = RawValue;
    type Err = ApplicationException;

    fn read<I: InputProtocol>(
        input: &mut I,
    ) -> Result<Result<RawValue, ApplicationException>, ProtocolError> {
        Ok(Ok(input.read_raw_value(TType::Struct)?))
    }
}

fn decode_raw(
    schema: &Schema,
    shape: &Shape<'_>,
    raw: &RawValue,
    limits: Limits,
) -> Result<StructValue, ProtocolError> {
    struct ResultStruct<'a>(&'a Schema, &'a Shape<'a>);
    impl ReadAny for ResultStruct<'_> {
        type Output = StructValue;
        fn read<I: InputProtocol>(self, input: &mut I) -> Result<StructValue, ProtocolError> {
            read_struct(self.0, self.1, input)
        }
    }
    read_in(
        raw.protocol(),
        raw.bytes().clone(),
        limits,
        ResultStruct(schema, shape),
    )
}
