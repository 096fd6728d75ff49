//! Large messages at the socket limit: 64 KiB and 1 MiB `binary` and
//! `string` values echoed through the server over every dialect and both
//! protocols, inline and on workers, checked byte for byte against what a
//! copying writer produces; a slow reader that makes the server's vectored
//! writes stop part way; and the writers' splices, which must put on the
//! wire exactly the bytes the copying path does.

use bytes::{Bytes, BytesMut};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use thriftgen_runtime::protocol::{
    BinaryWriter, CompactWriter, InputProtocol, MessageHeader, OutputProtocol, Protocol,
    Result as ProtocolResult,
};
use thriftgen_runtime::server::{Handlers, RunningServer, Server, ServerOptions};
use thriftgen_runtime::service::{CallContext, ProcessError, Processed, Processor};
use thriftgen_runtime::transport::{
    AnyTransport, Dialect, Frame, FrameInfo, ProtocolId, Transform, Transport, TransportLimits,
};
use thriftgen_runtime::{ByteString, MessageType, Splices, TType};

const KIB: usize = 1024;
const SIZES: [usize; 2] = [64 * KIB, 1024 * KIB];
const DIALECTS: [Dialect; 4] = [
    Dialect::Buffered,
    Dialect::Framed,
    Dialect::Header,
    Dialect::TTHeader,
];
const PROTOCOLS: [ProtocolId; 2] = [ProtocolId::Binary, ProtocolId::Compact];

/// `blob(1: binary data, 2: string text)` returns `{1: data, 2: text, 3:
/// the data's length}` in field 0 of its result.
struct BlobEcho;

fn read_args<I: InputProtocol>(input: &mut I) -> ProtocolResult<(Bytes, ByteString)> {
    let mut data = Bytes::new();
    let mut text = ByteString::default();
    input.read_struct_begin()?;
    loop {
        let field = input.read_field_begin()?;
        match (field.ttype, field.id) {
            (TType::Stop, _) => break,
            (TType::String, 1) => data = input.read_binary()?,
            (TType::String, 2) => text = input.read_byte_string()?,
            (other, _) => input.skip(other)?,
        }
        input.read_field_end()?;
    }
    input.read_struct_end()?;
    input.read_message_end()?;
    Ok((data, text))
}

/// The reply, through `write_bytes` and `write_byte_string` (which a
/// splicing writer may splice).
fn write_reply<O: OutputProtocol>(
    output: &mut O,
    name: &ByteString,
    seqid: i32,
    data: &Bytes,
    text: &ByteString,
) -> ProtocolResult<()> {
    output.write_message_begin(&MessageHeader {
        name: name.clone(),
        kind: MessageType::Reply,
        seqid,
    })?;
    output.write_struct_begin("blob_result")?;
    output.write_field_begin(TType::Struct, 0)?;
    output.write_struct_begin("Blob")?;
    output.write_field_begin(TType::String, 1)?;
    output.write_bytes(data)?;
    output.write_field_end()?;
    output.write_field_begin(TType::String, 2)?;
    output.write_byte_string(text)?;
    output.write_field_end()?;
    output.write_field_begin(TType::I32, 3)?;
    output.write_i32(data.len() as i32)?;
    output.write_field_end()?;
    output.write_field_stop()?;
    output.write_struct_end()?;
    output.write_field_end()?;
    output.write_field_stop()?;
    output.write_struct_end()?;
    output.write_message_end()
}

impl Processor for BlobEcho {
    fn process<I: InputProtocol, O: OutputProtocol>(
        &self,
        ctx: &CallContext,
        header: &MessageHeader,
        input: &mut I,
        output: &mut O,
    ) -> Result<Processed, ProcessError> {
        if header.name.as_str() != "blob" {
            return Ok(Processed::UnknownMethod);
        }
        let (data, text) = read_args(input).map_err(ProcessError::Decode)?;
        if let Some(k) = ctx.headers().get_str("k") {
            // A reply header makes the server frame the reply again.
            ctx.set_reply_header("k", format!("{k}!"));
        }
        write_reply(output, &header.name, header.seqid, &data, &text)
            .map_err(ProcessError::Encode)?;
        Ok(Processed::Replied)
    }
}

fn start(handlers: Handlers) -> RunningServer {
    let options = ServerOptions {
        pollers: 1,
        handlers,
        ..ServerOptions::default()
    };
    Server::new(BlobEcho)
        .options(options)
        .bind("127.0.0.1:0")
        .expect("bind on loopback")
}

/// A payload whose every byte depends on its place and on `seed`, so a
/// byte out of place shows. Printable ASCII, so it is also valid text.
fn payload(len: usize, seed: u8) -> Bytes {
    (0..len)
        .map(|i| b'!' + ((i / 7 + i * 13 + usize::from(seed)) % 90) as u8)
        .collect::<Vec<u8>>()
        .into()
}

fn text(len: usize, seed: u8) -> ByteString {
    ByteString::from_utf8(payload(len, seed.wrapping_add(1))).unwrap()
}

/// One call as a copying writer encodes it.
fn call_message(protocol: ProtocolId, seqid: i32, data: &Bytes, text: &ByteString) -> BytesMut {
    let mut out = BytesMut::new();
    fn write<O: OutputProtocol>(o: &mut O, seqid: i32, data: &Bytes, text: &ByteString) {
        o.write_message_begin(&MessageHeader {
            name: "blob".into(),
            kind: MessageType::Call,
            seqid,
        })
        .unwrap();
        o.write_struct_begin("blob_args").unwrap();
        o.write_field_begin(TType::String, 1).unwrap();
        o.write_binary(data).unwrap();
        o.write_field_begin(TType::String, 2).unwrap();
        o.write_string(text).unwrap();
        o.write_field_stop().unwrap();
        o.write_struct_end().unwrap();
    }
    match protocol {
        ProtocolId::Binary => write(&mut BinaryWriter::new(&mut out), seqid, data, text),
        _ => write(&mut CompactWriter::new(&mut out), seqid, data, text),
    }
    out
}

/// The reply message as a copying writer encodes it.
fn expected_reply(protocol: ProtocolId, seqid: i32, data: &Bytes, text: &ByteString) -> Bytes {
    let mut out = BytesMut::new();
    let name = ByteString::from("blob");
    match protocol {
        ProtocolId::Binary => {
            write_reply(&mut BinaryWriter::new(&mut out), &name, seqid, data, text)
        }
        _ => write_reply(&mut CompactWriter::new(&mut out), &name, seqid, data, text),
    }
    .unwrap();
    out.freeze()
}

/// Frames `message` as `info` says.
fn frame(info: &FrameInfo, message: &[u8]) -> BytesMut {
    let mut transport = AnyTransport::new(info.dialect, TransportLimits::DEFAULT);
    let mut out = BytesMut::new();
    let start = transport.begin(&mut out, info).unwrap();
    out.extend_from_slice(message);
    transport.finish(&mut out, start, info).unwrap();
    out
}

/// A connection that reads replies with the dialect's transport.
struct Conn {
    stream: TcpStream,
    transport: AnyTransport,
    input: BytesMut,
}

impl Conn {
    fn open(addr: SocketAddr, dialect: Dialect) -> Conn {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        Conn {
            stream,
            transport: AnyTransport::new(dialect, TransportLimits::DEFAULT),
            input: BytesMut::new(),
        }
    }

    /// The next reply frame, reading at most `chunk` bytes at a time and
    /// pausing `pause` between reads.
    fn reply(&mut self, chunk: usize, pause: Duration) -> Frame {
        let mut buf = vec![0u8; chunk];
        loop {
            if let Some(frame) = self.transport.decode(&mut self.input).unwrap() {
                return frame;
            }
            let n = self.stream.read(&mut buf).unwrap();
            assert!(n > 0, "the server closed the connection");
            self.input.extend_from_slice(&buf[..n]);
            if !pause.is_zero() {
                std::thread::sleep(pause);
            }
        }
    }
}

#[test]
fn large_payloads_echo_byte_for_byte_over_every_dialect_and_protocol() {
    for handlers in [Handlers::Inline, Handlers::Workers(2)] {
        let server = start(handlers);
        for dialect in DIALECTS {
            for protocol in PROTOCOLS {
                let mut conn = Conn::open(server.local_addr(), dialect);
                let headers = matches!(dialect, Dialect::Header | Dialect::TTHeader);
                // Plain frames, then (where the dialect has headers) a
                // reply header, then (THeader) zlib.
                let mut shapes = vec![(false, false)];
                if headers {
                    shapes.push((true, false));
                }
                if dialect == Dialect::Header {
                    shapes.push((false, true));
                }
                let mut seqid = 0;
                for (with_header, zlib) in shapes {
                    for (i, &size) in SIZES.iter().enumerate() {
                        seqid += 1;
                        let what = format!(
                            "{handlers:?} {dialect:?} {protocol:?} {size} bytes, \
                             header {with_header}, zlib {zlib}"
                        );
                        let data = payload(size, i as u8);
                        let text = text(size / 2, i as u8);
                        let mut info = FrameInfo::new(dialect, protocol);
                        if with_header {
                            info.headers.insert("k", "v");
                        }
                        if zlib {
                            info.transforms.push(Transform::Zlib);
                        }
                        let message = call_message(protocol, seqid, &data, &text);
                        conn.stream.write_all(&frame(&info, &message)).unwrap();
                        let reply = conn.reply(256 * KIB, Duration::ZERO);
                        assert_eq!(reply.info.dialect, dialect, "{what}");
                        assert_eq!(reply.info.protocol, protocol, "{what}");
                        assert_eq!(reply.info.transforms, info.transforms, "{what}");
                        let expected = expected_reply(protocol, seqid, &data, &text);
                        assert!(reply.payload == expected, "{what}: the reply differs");
                        if with_header {
                            assert_eq!(reply.info.headers.get_str("k"), Some("v!"), "{what}");
                        }
                    }
                }
            }
        }
        server.shutdown(Duration::from_secs(5));
    }
}

#[test]
fn a_slow_reader_gets_every_reply_byte_for_byte() {
    // The reader takes nothing at first and then little at a time: the
    // server's writes stop part way, inside a spliced value or between
    // them, and go on from there; its input stops being read while the
    // replies wait (back-pressure), so the calls go from another thread.
    let server = start(Handlers::Inline);
    for (dialect, protocol) in [
        (Dialect::Framed, ProtocolId::Binary),
        (Dialect::TTHeader, ProtocolId::Compact),
    ] {
        let mut conn = Conn::open(server.local_addr(), dialect);
        let calls: Vec<(i32, Bytes, ByteString)> = (0..12)
            .map(|i| {
                let size = SIZES[i % 2] + i;
                (i as i32, payload(size, i as u8), text(size / 3, i as u8))
            })
            .collect();
        let mut sender = conn.stream.try_clone().unwrap();
        let frames: Vec<BytesMut> = calls
            .iter()
            .map(|(seqid, data, text)| {
                frame(
                    &FrameInfo::new(dialect, protocol),
                    &call_message(protocol, *seqid, data, text),
                )
            })
            .collect();
        let sending = std::thread::spawn(move || {
            for frame in frames {
                sender.write_all(&frame).unwrap();
            }
        });
        std::thread::sleep(Duration::from_millis(300));
        for (seqid, data, text) in &calls {
            let what = format!("{dialect:?} {protocol:?} call {seqid}");
            let (chunk, pause) = if *seqid < 4 {
                (1000, Duration::from_micros(50))
            } else {
                (64 * KIB, Duration::ZERO)
            };
            let reply = conn.reply(chunk, pause);
            let expected = expected_reply(protocol, *seqid, data, text);
            assert!(reply.payload == expected, "{what}: the reply differs");
        }
        sending.join().unwrap();
    }
    server.shutdown(Duration::from_secs(5));
}

/// Writes the reply with `P`'s splicing writer, then frames it with
/// `dialect` and puts the splices in: the bytes that go on the wire.
fn spliced_wire<P: Protocol>(
    info: &FrameInfo,
    data: &Bytes,
    text: &ByteString,
) -> (Vec<u8>, usize) {
    let mut transport = AnyTransport::new(info.dialect, TransportLimits::DEFAULT);
    let mut out = BytesMut::new();
    let mut splices = Splices::new();
    out.extend_from_slice(b"earlier reply");
    let start = transport.begin(&mut out, info).unwrap();
    assert!(transport.can_splice(info));
    let name = ByteString::from("blob");
    write_reply(
        &mut P::splicing_writer(&mut out, &mut splices, Default::default()),
        &name,
        7,
        data,
        text,
    )
    .unwrap();
    let start = start.with_spliced(splices.bytes());
    transport.finish(&mut out, start, info).unwrap();
    let count = splices.count();
    splices.flatten_into(&mut out);
    (out[b"earlier reply".len()..].to_vec(), count)
}

fn copied_wire(info: &FrameInfo, data: &Bytes, text: &ByteString) -> Vec<u8> {
    frame(info, &expected_reply(info.protocol, 7, data, text)).to_vec()
}

#[test]
fn splicing_writers_put_on_the_wire_what_copying_writers_do() {
    let min = Splices::MIN_LEN;
    for size in [0, 10, min - 1, min, min + 1, 100_000, 1 << 20] {
        let data = payload(size, 3);
        let text = text(size / 2, 4);
        let spliceable = usize::from(size >= min) + usize::from(size / 2 >= min);
        for dialect in DIALECTS {
            for protocol in PROTOCOLS {
                let mut info = FrameInfo::new(dialect, protocol);
                if dialect == Dialect::TTHeader {
                    info.framed_payload = size % 2 == 0;
                }
                let what = format!("{dialect:?} {protocol:?} {size} bytes");
                let (wire, count) = match protocol {
                    ProtocolId::Binary => {
                        spliced_wire::<thriftgen_runtime::protocol::Binary>(&info, &data, &text)
                    }
                    _ => spliced_wire::<thriftgen_runtime::protocol::Compact>(&info, &data, &text),
                };
                assert_eq!(count, spliceable, "{what}: values spliced");
                assert!(
                    wire == copied_wire(&info, &data, &text),
                    "{what}: the bytes differ"
                );
            }
        }
    }
}

#[test]
fn transports_that_transform_take_no_splices() {
    let mut info = FrameInfo::new(Dialect::Header, ProtocolId::Binary);
    info.transforms.push(Transform::Zlib);
    assert!(!AnyTransport::new(Dialect::Header, TransportLimits::DEFAULT).can_splice(&info));
    info.dialect = Dialect::TTHeader;
    assert!(!AnyTransport::new(Dialect::TTHeader, TransportLimits::DEFAULT).can_splice(&info));
}

#[test]
fn announcing_large_frames_does_not_take_the_partial_frame_budget() {
    // Peers that send only the start of a large frame get no room reserved
    // for it (only one that has sent a share of its frame does), so they do
    // not use up the budget that real large frames need.
    let options = ServerOptions {
        pollers: 1,
        handlers: Handlers::Inline,
        max_partial_bytes: 4 << 20,
        ..ServerOptions::default()
    };
    let server = Server::new(BlobEcho)
        .options(options)
        .bind("127.0.0.1:0")
        .expect("bind on loopback");
    let announcers: Vec<TcpStream> = (0..8)
        .map(|_| {
            let mut stream = TcpStream::connect(server.local_addr()).unwrap();
            let mut start = (1u32 << 20).to_be_bytes().to_vec();
            start.extend_from_slice(&[0x80, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04]);
            stream.write_all(&start).unwrap();
            stream
        })
        .collect();
    // A second read of each: where the server would make room for the frame.
    std::thread::sleep(Duration::from_millis(100));
    for mut stream in &announcers {
        stream.write_all(b"blob").unwrap();
    }
    std::thread::sleep(Duration::from_millis(100));
    let mut conn = Conn::open(server.local_addr(), Dialect::Framed);
    let info = FrameInfo::new(Dialect::Framed, ProtocolId::Binary);
    for seqid in 1..=3 {
        let data = payload(SIZES[1], seqid as u8);
        let text = text(SIZES[1], seqid as u8);
        let message = call_message(ProtocolId::Binary, seqid, &data, &text);
        conn.stream.write_all(&frame(&info, &message)).unwrap();
        let reply = conn.reply(256 * KIB, Duration::ZERO);
        let expected = expected_reply(ProtocolId::Binary, seqid, &data, &text);
        assert!(reply.payload == expected, "call {seqid}: the reply differs");
    }
    drop(announcers);
    server.shutdown(Duration::from_secs(5));
}
