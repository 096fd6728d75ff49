//! Writes the committed seed corpora under `fuzz/corpus/TARGET/`: fixture
//! values in both protocols, calls of every method, frames of every
//! dialect, and the `idl/good` files. Run with
//! `cargo run --manifest-path fuzz/Cargo.toml --example seeds` (stable is
//! enough); the output is deterministic up to hash-map order.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use thriftgen_fuzz::plain::*;
use thriftgen_fuzz::{encode, Proto, LIMITS, TRANSPORT_LIMITS};
use thriftgen_runtime::bytes::{Bytes, BytesMut};
use thriftgen_runtime::protocol::{Binary, Compact, MessageHeader, OutputProtocol, Protocol};
use thriftgen_runtime::service::Args;
use thriftgen_runtime::transport::{
    AnyTransport, Dialect, FrameInfo, Headers, ProtocolId, Transform, Transport,
};
use thriftgen_runtime::{ByteString, MessageType, Struct};

fn key(name: &str) -> Key {
    Key {
        name: name.into(),
        tag: Some(Bytes::from_static(b"\x00\xff")),
        serial: Some(i64::MIN),
        color: Some(Color::HIGHEST),
    }
}

fn tree() -> Tree {
    Tree {
        label: "root".into(),
        children: Some(vec![Tree {
            label: "child".into(),
            children: Some(vec![]),
            left: None,
            choice: Some(Choice::Keys(vec![key("k")])),
        }]),
        left: Some(Box::new(Tree {
            label: "left".into(),
            choice: Some(Choice::Flag(false)),
            ..Tree::default()
        })),
        choice: Some(Choice::Ratio(-0.5)),
    }
}

fn expr() -> Expr {
    Expr::Op(BinOp {
        lhs: Box::new(Expr::Literal(i64::MAX)),
        rhs: Box::new(Expr::Operands(vec![
            Expr::Literal(-1),
            Expr::Env(HashMap::from([("x".to_string(), Expr::Literal(0))])),
        ])),
        op: Some(b'+' as i8),
    })
}

fn everything() -> Everything {
    Everything {
        on: Some(true),
        small: Some(i8::MIN),
        short_one: Some(i16::MAX),
        int_one: Some(i32::MIN),
        long_one: Some(i64::MAX),
        ratio: Some(1.5),
        text: Some("héllo".into()),
        data: Some(Bytes::from_static(&[0, 1, 2, 0x80, 0xff])),
        id: Some([7; 16]),
        color: Some(Color::LOWEST),
        ints: Some(vec![0, -1, i32::MAX]),
        tags: Some(HashSet::from(["a".to_string(), "b".to_string()])),
        keys_by_name: Some(HashMap::from([("k".to_string(), key("k"))])),
        matrix: Some(vec![vec![], vec![1, 2], vec![i64::MIN]]),
        deep: Some(HashMap::from([(
            5,
            HashMap::from([("s".to_string(), HashSet::from([Bytes::from_static(b"x")]))]),
        )])),
        key_set: Some(HashSet::from([key("a"), key("b")])),
        key_map: Some(HashMap::from([(key("from"), key("to"))])),
        colors: Some(vec![Color::RED, Color(42)]),
        choice: Some(Choice::Text("t".into())),
        tree: Some(tree()),
        expr: Some(expr()),
        must: 7,
        bools: Some(vec![true, false, true]),
        doubles: Some(vec![0.0, -0.0, f64::INFINITY]),
        nested: Some(HashMap::from([(
            Color::GREEN,
            vec![HashSet::from([1i16, -1])],
        )])),
        nothings: Some(vec![]),
        ids: Some(HashSet::from([[0; 16], [0xff; 16]])),
        bytes_list: Some(vec![1, -1]),
        last: Some("last".into()),
        negative: Some(-1),
    }
}

struct Corpus {
    dir: PathBuf,
    n: usize,
}

impl Corpus {
    fn new(root: &Path, target: &str) -> Corpus {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).expect("creates the corpus dir");
        Corpus { dir, n: 0 }
    }

    fn add(&mut self, name: &str, bytes: &[u8]) {
        self.n += 1;
        let path = self.dir.join(format!("seed-{:02}-{name}", self.n));
        std::fs::write(path, bytes).expect("writes a seed");
    }
}

/// `value` with `proto`.
fn enc<T: Struct>(proto: Proto, value: &T) -> Vec<u8> {
    encode(proto, value).expect("fixture encodes").to_vec()
}

/// A whole call message of `method` with `args`, in protocol `P`.
fn message<P: Protocol>(method: &str, kind: MessageType, args: &impl Args) -> Bytes {
    let mut out = BytesMut::new();
    let mut w = P::writer(&mut out, LIMITS);
    w.write_message_begin(&MessageHeader {
        name: ByteString::from(method.to_string()),
        kind,
        seqid: 42,
    })
    .expect("header");
    args.write(&mut w).expect("args");
    w.write_message_end().expect("end");
    drop(w);
    out.freeze()
}

fn calls<P: Protocol>() -> Vec<(&'static str, Bytes)> {
    let e = everything();
    let t = tree();
    let x = expr();
    let env = HashMap::from([("y".to_string(), Expr::Literal(3))]);
    let keys = HashSet::from(["a".to_string()]);
    vec![
        (
            "ping",
            message::<P>("ping", MessageType::Call, &BasePingArgs),
        ),
        (
            "echo",
            message::<P>("echo", MessageType::Call, &FuzzedEchoArgs { e: &e }),
        ),
        (
            "grow",
            message::<P>(
                "grow",
                MessageType::Call,
                &FuzzedGrowArgs {
                    t: &t,
                    c: &Choice::Flag(true),
                },
            ),
        ),
        (
            "eval",
            message::<P>(
                "eval",
                MessageType::Call,
                &FuzzedEvalArgs { e: &x, env: &env },
            ),
        ),
        (
            "fire",
            message::<P>("fire", MessageType::Oneway, &FuzzedFireArgs { e: &x }),
        ),
        (
            "nothing",
            message::<P>("nothing", MessageType::Call, &FuzzedNothingArgs),
        ),
        (
            "lookup",
            message::<P>(
                "Fuzzed:lookup",
                MessageType::Call,
                &FuzzedLookupArgs {
                    keys: &keys,
                    color: Some(Color::RED),
                },
            ),
        ),
    ]
}

/// `payload` framed as `info` says.
fn frame(info: &FrameInfo, payload: &[u8]) -> Vec<u8> {
    let mut t = AnyTransport::new(info.dialect, TRANSPORT_LIMITS);
    let mut out = BytesMut::new();
    let start = t.begin(&mut out, info).expect("begin");
    out.extend_from_slice(payload);
    t.finish(&mut out, start, info).expect("finish");
    out.to_vec()
}

/// One frame info per dialect and shape.
fn infos(protocol: ProtocolId) -> Vec<(&'static str, FrameInfo)> {
    let mut headers = Headers::new();
    headers.insert("key", "value");
    let mut zlib = FrameInfo::new(Dialect::Header, protocol);
    zlib.transforms = vec![Transform::Zlib];
    zlib.headers = headers.clone();
    zlib.seq_id = 9;
    let mut tth = FrameInfo::new(Dialect::TTHeader, protocol);
    tth.headers.insert_int(1, "method");
    tth.headers.insert("k", "v");
    let mut tth_framed = tth.clone();
    tth_framed.framed_payload = true;
    vec![
        ("buffered", FrameInfo::new(Dialect::Buffered, protocol)),
        ("framed", FrameInfo::new(Dialect::Framed, protocol)),
        ("header", FrameInfo::new(Dialect::Header, protocol)),
        ("header-zlib", zlib),
        ("ttheader", tth),
        ("ttheader-framed", tth_framed),
    ]
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let values: Vec<(&str, usize, Vec<u8>, Vec<u8>)> = vec![
        (
            "key",
            0,
            enc(Proto::Binary, &key("k")),
            enc(Proto::Compact, &key("k")),
        ),
        (
            "choice",
            2,
            enc(Proto::Binary, &Choice::Number(1)),
            enc(Proto::Compact, &Choice::Id([1; 16])),
        ),
        (
            "tree",
            3,
            enc(Proto::Binary, &tree()),
            enc(Proto::Compact, &tree()),
        ),
        (
            "expr",
            4,
            enc(Proto::Binary, &expr()),
            enc(Proto::Compact, &expr()),
        ),
        (
            "everything",
            6,
            enc(Proto::Binary, &everything()),
            enc(Proto::Compact, &everything()),
        ),
        (
            "oops",
            7,
            enc(
                Proto::Binary,
                &Oops {
                    why: Some("w".into()),
                    code: Some(1),
                },
            ),
            vec![0],
        ),
    ];

    // skip_*: bare values.
    let mut skip_binary = Corpus::new(&root, "skip_binary");
    let mut skip_compact = Corpus::new(&root, "skip_compact");
    for (name, _, binary, compact) in &values {
        skip_binary.add(name, binary);
        skip_compact.add(name, compact);
    }

    // decode_generated and roundtrip: type and protocol byte, then the value;
    // each value also as its keep_unknown_fields twin (type + 8).
    for target in ["decode_generated", "roundtrip"] {
        let mut c = Corpus::new(&root, target);
        for (name, index, binary, compact) in &values {
            for (twin, index) in [("plain", *index), ("keep", index + 8)] {
                let tag = (index as u8) << 1;
                c.add(
                    &format!("{name}-{twin}-binary"),
                    &[&[tag][..], binary].concat(),
                );
                c.add(
                    &format!("{name}-{twin}-compact"),
                    &[&[tag | 1][..], compact].concat(),
                );
            }
        }
    }

    // server_call: bare calls in both protocols, and framed in every dialect.
    let mut c = Corpus::new(&root, "server_call");
    for (proto_bit, protocol, list) in [
        (0u8, ProtocolId::Binary, calls::<Binary>()),
        (1, ProtocolId::Compact, calls::<Compact>()),
    ] {
        for (i, (name, msg)) in list.iter().enumerate() {
            let method_bits = (i as u8 % 6) << 2;
            c.add(
                &format!("{name}-bare"),
                &[&[method_bits | proto_bit][..], msg].concat(),
            );
            let (dialect, info) = &infos(protocol)[i % 6];
            c.add(
                &format!("{name}-{dialect}"),
                &[&[method_bits | 2][..], &frame(info, msg)].concat(),
            );
        }
    }

    // framing: every dialect (and detection), both protocols, two frames
    // per stream, cut in chunks of 1, 3 and 64 bytes.
    let mut c = Corpus::new(&root, "framing");
    let sizes = [3u8, 1, 3, 64];
    for (protocol, msgs) in [
        (ProtocolId::Binary, calls::<Binary>()),
        (ProtocolId::Compact, calls::<Compact>()),
    ] {
        for (i, (dialect, info)) in infos(protocol).into_iter().enumerate() {
            let kind = match info.dialect {
                Dialect::Buffered => 0,
                Dialect::Framed => 1,
                Dialect::Header => 2,
                Dialect::TTHeader => 3,
            };
            let stream = [frame(&info, &msgs[i].1), frame(&info, &msgs[0].1)].concat();
            for kind in [kind, 5] {
                c.add(
                    &format!("{dialect}-{protocol:?}-{kind}"),
                    &[&[kind][..], &sizes, &stream].concat(),
                );
            }
            if info.dialect == Dialect::Buffered {
                // The scanner on its own.
                c.add(
                    &format!("scanner-{protocol:?}"),
                    &[&[4][..], &sizes, &stream].concat(),
                );
            }
        }
    }

    // idl_check: the good IDL files and the fixture.
    let mut c = Corpus::new(&root, "idl_check");
    let good = Path::new(env!("CARGO_MANIFEST_DIR")).join("../idl/good");
    let mut files: Vec<_> = std::fs::read_dir(&good)
        .expect("idl/good")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "thrift"))
        .collect();
    files.sort();
    files.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("idl/fuzz.thrift"));
    for file in files {
        let name = file
            .file_stem()
            .expect("a file")
            .to_string_lossy()
            .into_owned();
        c.add(&name, &std::fs::read(&file).expect("reads"));
    }

    // idl_structured: raw bytes for `arbitrary` (any bytes are a document).
    let mut c = Corpus::new(&root, "idl_structured");
    for seed in 0u32..8 {
        let bytes: Vec<u8> = (0..256u32)
            .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed * 97) >> 13) as u8)
            .collect();
        c.add(&format!("bytes{seed}"), &bytes);
    }
}
