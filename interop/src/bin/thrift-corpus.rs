//! `thrift-corpus`: the Rust side of the differential checks against Apache
//! Thrift's Python library (`interop/differential.sh`).
//!
//! ```sh
//! thrift-corpus write --seed N --count K --protocol binary|compact DIR
//! thrift-corpus check DIR
//! thrift-corpus skip  --seed N --count K --protocol binary|compact DIR
//! ```
//!
//! - `write`: K values of the ThriftTest types (cycling through every type
//!   Python can represent), built deterministically from the seed, encoded
//!   by our generated code: `DIR/NNNN-Type.bin`, and `DIR/manifest.tsv` with
//!   a header line `seed N count K protocol P` and one line per value
//!   `file<TAB>Type<TAB>canonical form`.
//! - `check`: reads a directory written by `interop/python/differential.py`
//!   (same manifest, files re-encoded by Python), decodes each file with our
//!   generated code and compares it with the value regenerated from the seed.
//! - `skip`: K byte strings (valid encodings of random schemaless structs,
//!   mutated: flipped bytes, truncations, length tweaks, insertions, deep
//!   nesting, random bytes) and `DIR/skip.tsv` with our verdict for
//!   `skip(TType::Struct)` on each: `file<TAB>ok<TAB>consumed` or
//!   `file<TAB>err<TAB>kind<TAB>message`.
//!
//! The canonical form is a schemaless rendering of an encoding that both
//! sides compute the same way: struct `{id:v,...}` by field id, list
//! `[v,...]`, set `<v,...>` and map `(k=v,...)` sorted (so that the
//! iteration order of hash containers does not matter), `T`/`F`, `b5`
//! (i8), `h5` (i16), `i5` (i32), `l5` (i64), `d` + the 16 hex digits of a
//! double's bits, `s` + the hex of a string's or binary's bytes, `u` + hex
//! (uuid).

use clap::{Parser, Subcommand, ValueEnum};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use thriftgen_interop::thrift_test::*;
use thriftgen_runtime::bytes::{Bytes, BytesMut};
use thriftgen_runtime::protocol::{
    self, BinaryReader, BinaryWriter, CompactReader, CompactWriter, InputProtocol, Limits,
    OutputProtocol,
};
use thriftgen_runtime::{Struct, TType};

/// Writes and checks the differential corpus.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Writes K encoded values and a manifest into DIR.
    Write {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 100)]
        count: usize,
        #[arg(long, value_enum)]
        protocol: Proto,
        dir: PathBuf,
    },
    /// Decodes the files in DIR (written by Python) and compares them with
    /// the values regenerated from the manifest's seed.
    Check { dir: PathBuf },
    /// Writes K byte strings and our skip verdicts into DIR.
    Skip {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 1000)]
        count: usize,
        #[arg(long, value_enum)]
        protocol: Proto,
        dir: PathBuf,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Proto {
    Binary,
    Compact,
}

impl Proto {
    fn name(self) -> &'static str {
        match self {
            Proto::Binary => "binary",
            Proto::Compact => "compact",
        }
    }

    fn parse(name: &str) -> Option<Proto> {
        match name {
            "binary" => Some(Proto::Binary),
            "compact" => Some(Proto::Compact),
            _ => None,
        }
    }
}

// --- a small deterministic generator -------------------------------------------

#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Rng {
        let mut r = Rng(seed ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5851_f42d_4c95_7f2d);
        r.next();
        r
    }

    /// splitmix64
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// A container size: mostly small, sometimes empty, rarely large.
    fn size(&mut self) -> usize {
        match self.below(20) {
            0..=3 => 0,
            4..=17 => 1 + self.below(5),
            18 => 5 + self.below(40),
            _ => 200 + self.below(2000),
        }
    }

    fn i8(&mut self) -> i8 {
        if self.chance(40) {
            self.pick(&[i8::MIN, i8::MAX, 0, -1, 1])
        } else {
            self.next() as i8
        }
    }

    fn i16(&mut self) -> i16 {
        if self.chance(40) {
            self.pick(&[i16::MIN, i16::MAX, 0, -1, 1, 127, 128, -129])
        } else {
            self.next() as i16
        }
    }

    fn i32(&mut self) -> i32 {
        match self.below(10) {
            0..=3 => self.pick(&[i32::MIN, i32::MAX, 0, -1, 1, 63, 64, -64, -65, 1 << 28]),
            4..=6 => (self.next() as i32) >> self.below(31),
            _ => self.next() as i32,
        }
    }

    fn i64(&mut self) -> i64 {
        match self.below(10) {
            0..=3 => self.pick(&[
                i64::MIN,
                i64::MAX,
                0,
                -1,
                1,
                i64::from(i32::MIN) - 1,
                i64::from(i32::MAX) + 1,
                1 << 56,
            ]),
            4..=6 => (self.next() as i64) >> self.below(63),
            _ => self.next() as i64,
        }
    }

    fn f64(&mut self) -> f64 {
        match self.below(12) {
            0 => -0.0,
            1 => 0.0,
            2 => f64::INFINITY,
            3 => f64::NEG_INFINITY,
            4 => f64::MAX,
            5 => f64::MIN_POSITIVE,
            6 => f64::from_bits(1), // the smallest subnormal
            7 => f64::NAN,          // compared by its bits
            8 => f64::from_bits(0xfff8_0000_0000_0001), // a negative NaN with a payload
            _ => loop {
                let x = f64::from_bits(self.next());
                if x.is_finite() {
                    break x;
                }
            },
        }
    }

    fn bool(&mut self) -> bool {
        self.next() & 1 == 1
    }

    fn string(&mut self) -> String {
        const PIECES: &[&str] = &[
            "a",
            "Z",
            " ",
            "\0",
            "\u{7f}",
            "é",
            "ß",
            "Ж",
            "中文",
            "ئ",
            "🦀",
            "\u{10ffff}",
            "\u{fffd}",
            "\r\n",
            "\\",
            "\"",
            "'",
            "\t",
        ];
        match self.below(12) {
            0 => String::new(),
            1 => "x".repeat(1000 + self.below(20_000)),
            _ => {
                let n = self.below(12);
                let mut s = String::new();
                for _ in 0..n {
                    if self.chance(50) {
                        s.push(char::from(b'a' + self.below(26) as u8));
                    } else {
                        s.push_str(self.pick(PIECES));
                    }
                }
                s
            }
        }
    }

    fn binary(&mut self) -> Bytes {
        let n = match self.below(10) {
            0 => 0,
            1 => 256,
            2 => 1000 + self.below(5000),
            _ => self.below(16),
        };
        let mode = self.below(3);
        let v: Vec<u8> = (0..n)
            .map(|i| match mode {
                0 => i as u8,
                1 => self.pick(&[0x00, 0xff, 0x80, 0x7f]),
                _ => self.next() as u8,
            })
            .collect();
        Bytes::from(v)
    }

    fn opt<T>(&mut self, f: impl FnOnce(&mut Rng) -> T) -> Option<T> {
        if self.chance(80) {
            Some(f(self))
        } else {
            None
        }
    }

    fn vec<T>(&mut self, mut f: impl FnMut(&mut Rng) -> T) -> Vec<T> {
        let n = self.size();
        (0..n).map(|_| f(self)).collect()
    }

    fn small_vec<T>(&mut self, mut f: impl FnMut(&mut Rng) -> T) -> Vec<T> {
        let n = self.below(4);
        (0..n).map(|_| f(self)).collect()
    }

    fn set<T: Eq + std::hash::Hash>(&mut self, f: impl FnMut(&mut Rng) -> T) -> HashSet<T> {
        self.vec(f).into_iter().collect()
    }

    fn map<K: Eq + std::hash::Hash, V>(
        &mut self,
        mut k: impl FnMut(&mut Rng) -> K,
        mut v: impl FnMut(&mut Rng) -> V,
    ) -> HashMap<K, V> {
        let n = self.size();
        (0..n).map(|_| (k(self), v(self))).collect()
    }

    fn numberz(&mut self) -> Numberz {
        // Declared values and values the IDL does not declare.
        Numberz(self.pick(&[1, 2, 3, 5, 6, 8, 0, -1, 4, i32::MAX, i32::MIN]))
    }
}

// --- values of every ThriftTest type Python can represent ------------------------

fn bonk(r: &mut Rng) -> Bonk {
    Bonk {
        message: r.opt(Rng::string),
        r#type: r.opt(Rng::i32),
    }
}

fn bools(r: &mut Rng) -> Bools {
    Bools {
        im_true: r.opt(Rng::bool),
        im_false: r.opt(Rng::bool),
    }
}

fn xtruct(r: &mut Rng) -> Xtruct {
    Xtruct {
        string_thing: r.opt(Rng::string),
        byte_thing: r.opt(Rng::i8),
        i32_thing: r.opt(Rng::i32),
        i64_thing: r.opt(Rng::i64),
    }
}

fn xtruct2(r: &mut Rng) -> Xtruct2 {
    Xtruct2 {
        byte_thing: r.opt(Rng::i8),
        struct_thing: r.opt(xtruct),
        i32_thing: r.opt(Rng::i32),
    }
}

fn xtruct3(r: &mut Rng) -> Xtruct3 {
    Xtruct3 {
        string_thing: r.opt(Rng::string),
        changed: r.opt(Rng::i32),
        i32_thing: r.opt(Rng::i32),
        i64_thing: r.opt(Rng::i64),
    }
}

fn insanity(r: &mut Rng) -> Insanity {
    Insanity {
        user_map: r.opt(|r| r.map(Rng::numberz, Rng::i64)),
        xtructs: r.opt(|r| r.vec(xtruct)),
    }
}

/// Python's `Insanity` is hashable only with no field set (its `__hash__`
/// hashes the dict and the list), so that is the one Insanity that can be a
/// set element or a map key there; and only one of it fits a set.
fn hashable_insanity(r: &mut Rng) -> Vec<Insanity> {
    if r.chance(50) {
        vec![Insanity::default()]
    } else {
        Vec::new()
    }
}

type CrazyList = Vec<
    Vec<(
        HashSet<i32>,
        HashMap<i32, Vec<Vec<Vec<(Insanity, String)>>>>,
    )>,
>;

fn crazy_list(r: &mut Rng) -> CrazyList {
    r.small_vec(|r| {
        // A map keyed by sets: keys must be distinct sets.
        let mut seen: HashSet<Vec<i32>> = HashSet::new();
        let mut entries = Vec::new();
        for _ in 0..r.below(4) {
            let key: HashSet<i32> = r.small_vec(Rng::i32).into_iter().collect();
            let mut sorted: Vec<i32> = key.iter().copied().collect();
            sorted.sort_unstable();
            if !seen.insert(sorted) {
                continue;
            }
            let value: HashMap<i32, _> = (0..r.below(3))
                .map(|_| {
                    // A set of lists of maps: its elements must be distinct.
                    let mut v: Vec<Vec<Vec<(Insanity, String)>>> = r.small_vec(|r| {
                        r.small_vec(|r| {
                            hashable_insanity(r)
                                .into_iter()
                                .map(|k| (k, r.string()))
                                .collect()
                        })
                    });
                    let mut distinct = HashSet::new();
                    v.retain(|list| distinct.insert(format!("{list:?}")));
                    (r.i32(), v)
                })
                .collect();
            entries.push((key, value));
        }
        entries
    })
}

fn crazy_nesting(r: &mut Rng) -> CrazyNesting {
    CrazyNesting {
        string_field: r.opt(Rng::string),
        set_field: r.opt(hashable_insanity),
        list_field: crazy_list(r),
        binary_field: r.opt(Rng::binary),
        // Python (0.22) and the 0.17 compiler know no uuid.
        uuid_field: None,
    }
}

fn some_union(r: &mut Rng) -> SomeUnion {
    match r.below(5) {
        0 => SomeUnion::MapThing(r.map(Rng::numberz, Rng::i64)),
        1 => SomeUnion::StringThing(r.string()),
        2 => SomeUnion::I32Thing(r.i32()),
        3 => SomeUnion::XtructThing(xtruct3(r)),
        _ => SomeUnion::InsanityThing(insanity(r)),
    }
}

fn xception(r: &mut Rng) -> Xception {
    Xception {
        error_code: r.opt(Rng::i32),
        message: r.opt(Rng::string),
    }
}

fn xception2(r: &mut Rng) -> Xception2 {
    Xception2 {
        error_code: r.opt(Rng::i32),
        struct_thing: r.opt(xtruct),
    }
}

fn empty_struct(_: &mut Rng) -> EmptyStruct {
    EmptyStruct {}
}

fn one_field(r: &mut Rng) -> OneField {
    OneField {
        field: r.opt(empty_struct),
    }
}

fn versioning_v1(r: &mut Rng) -> VersioningTestV1 {
    VersioningTestV1 {
        begin_in_both: r.opt(Rng::i32),
        old_string: r.opt(Rng::string),
        end_in_both: r.opt(Rng::i32),
    }
}

fn versioning_v2(r: &mut Rng) -> VersioningTestV2 {
    VersioningTestV2 {
        begin_in_both: r.opt(Rng::i32),
        newint: r.opt(Rng::i32),
        newbyte: r.opt(Rng::i8),
        newshort: r.opt(Rng::i16),
        newlong: r.opt(Rng::i64),
        newdouble: r.opt(Rng::f64),
        newstruct: r.opt(bonk),
        newlist: r.opt(|r| r.vec(Rng::i32)),
        newset: r.opt(|r| r.set(Rng::i32)),
        newmap: r.opt(|r| r.map(Rng::i32, Rng::i32)),
        newstring: r.opt(Rng::string),
        end_in_both: r.opt(Rng::i32),
    }
}

fn list_versioning_v1(r: &mut Rng) -> ListTypeVersioningV1 {
    ListTypeVersioningV1 {
        myints: r.opt(|r| r.vec(Rng::i32)),
        hello: r.opt(Rng::string),
    }
}

fn list_versioning_v2(r: &mut Rng) -> ListTypeVersioningV2 {
    ListTypeVersioningV2 {
        strings: r.opt(|r| r.vec(Rng::string)),
        hello: r.opt(Rng::string),
    }
}

fn guess_protocol(r: &mut Rng) -> GuessProtocolStruct {
    GuessProtocolStruct {
        map_field: r.opt(|r| r.map(Rng::string, Rng::string)),
    }
}

fn large_deltas(r: &mut Rng) -> LargeDeltas {
    LargeDeltas {
        b1: r.opt(bools),
        b10: r.opt(bools),
        b100: r.opt(bools),
        check_true: r.opt(Rng::bool),
        b1000: r.opt(bools),
        check_false: r.opt(Rng::bool),
        vertwo2000: r.opt(versioning_v2),
        a_set2500: r.opt(|r| r.set(Rng::string)),
        vertwo3000: r.opt(versioning_v2),
        big_numbers: r.opt(|r| r.vec(Rng::i32)),
    }
}

fn nested_i32x2(r: &mut Rng) -> NestedListsI32x2 {
    NestedListsI32x2 {
        integerlist: r.opt(|r| r.small_vec(|r| r.vec(Rng::i32))),
    }
}

fn nested_i32x3(r: &mut Rng) -> NestedListsI32x3 {
    NestedListsI32x3 {
        integerlist: r.opt(|r| r.small_vec(|r| r.small_vec(|r| r.vec(Rng::i32)))),
    }
}

fn nested_mixed(r: &mut Rng) -> NestedMixedx2 {
    let strset =
        |r: &mut Rng| -> HashSet<String> { r.small_vec(Rng::string).into_iter().collect() };
    NestedMixedx2 {
        int_set_list: r.opt(|r| r.small_vec(|r| r.set(Rng::i32))),
        map_int_strset: r.opt(|r| r.map(Rng::i32, strset)),
        map_int_strset_list: r.opt(|r| r.small_vec(|r| r.map(Rng::i32, strset))),
    }
}

fn list_bonks(r: &mut Rng) -> ListBonks {
    ListBonks {
        bonk: r.opt(|r| r.vec(bonk)),
    }
}

fn nested_bonk(r: &mut Rng) -> NestedListsBonk {
    NestedListsBonk {
        bonk: r.opt(|r| r.small_vec(|r| r.small_vec(|r| r.small_vec(bonk)))),
    }
}

/// Always set: Python fills a default into an optional field that is absent
/// on the wire (and writes it back), we leave it unset (see the README).
fn bool_test(r: &mut Rng) -> BoolTest {
    BoolTest {
        b: Some(r.bool()),
        s: Some(r.string()),
    }
}

fn struct_a(r: &mut Rng) -> StructA {
    StructA { s: r.string() }
}

fn struct_b(r: &mut Rng) -> StructB {
    StructB {
        aa: r.opt(struct_a),
        ab: struct_a(r),
    }
}

fn optional_set_default(r: &mut Rng) -> OptionalSetDefaultTest {
    OptionalSetDefaultTest {
        with_default: Some(r.set(Rng::string)),
    }
}

fn optional_binary(r: &mut Rng) -> OptionalBinary {
    OptionalBinary {
        bin_set: Some(r.set(Rng::binary)),
        bin_map: Some(r.map(Rng::binary, Rng::i32)),
    }
}

fn encode<T: Struct>(value: &T, proto: Proto) -> Vec<u8> {
    let mut out = BytesMut::new();
    let done = match proto {
        Proto::Binary => value.write(&mut BinaryWriter::new(&mut out)),
        Proto::Compact => value.write(&mut CompactWriter::new(&mut out)),
    };
    if let Err(e) = done {
        panic!("encoding a corpus value failed: {e}");
    }
    out.to_vec()
}

fn decode<T: Struct>(bytes: &[u8], proto: Proto) -> Result<T, String> {
    let buf = Bytes::copy_from_slice(bytes);
    let (value, left) = match proto {
        Proto::Binary => {
            let mut r = BinaryReader::new(buf);
            (T::read(&mut r), r.remaining())
        }
        Proto::Compact => {
            let mut r = CompactReader::new(buf);
            (T::read(&mut r), r.remaining())
        }
    };
    let value = value.map_err(|e| format!("decode failed: {e}"))?;
    if left != 0 {
        return Err(format!("{left} bytes left after the value"));
    }
    Ok(value)
}

macro_rules! corpus_types {
    ($($ty:ident => $gen:ident,)*) => {
        /// Every type of the corpus, in the order `write` cycles through.
        const TYPES: &[&str] = &[$(stringify!($ty)),*];

        /// The value `index` of the corpus of `seed`, encoded.
        fn corpus_value(seed: u64, index: usize, proto: Proto) -> (&'static str, Vec<u8>) {
            let mut r = Rng::new(seed, index as u64);
            let ty = TYPES[index % TYPES.len()];
            let bytes = match ty {
                $(stringify!($ty) => encode(&$gen(&mut r), proto),)*
                _ => unreachable!(),
            };
            (ty, bytes)
        }

        /// Decodes `bytes` as `ty` with our generated code and re-encodes it.
        fn roundtrip(ty: &str, bytes: &[u8], proto: Proto) -> Result<Vec<u8>, String> {
            match ty {
                $(stringify!($ty) => Ok(encode(&decode::<$ty>(bytes, proto)?, proto)),)*
                _ => Err(format!("unknown type {ty}")),
            }
        }
    };
}

corpus_types! {
    Bonk => bonk,
    Bools => bools,
    Xtruct => xtruct,
    Xtruct2 => xtruct2,
    Xtruct3 => xtruct3,
    Insanity => insanity,
    CrazyNesting => crazy_nesting,
    SomeUnion => some_union,
    Xception => xception,
    Xception2 => xception2,
    EmptyStruct => empty_struct,
    OneField => one_field,
    VersioningTestV1 => versioning_v1,
    VersioningTestV2 => versioning_v2,
    ListTypeVersioningV1 => list_versioning_v1,
    ListTypeVersioningV2 => list_versioning_v2,
    GuessProtocolStruct => guess_protocol,
    LargeDeltas => large_deltas,
    NestedListsI32x2 => nested_i32x2,
    NestedListsI32x3 => nested_i32x3,
    NestedMixedx2 => nested_mixed,
    ListBonks => list_bonks,
    NestedListsBonk => nested_bonk,
    BoolTest => bool_test,
    StructA => struct_a,
    StructB => struct_b,
    OptionalSetDefaultTest => optional_set_default,
    OptionalBinary => optional_binary,
}

// --- the canonical form ------------------------------------------------------------

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn canon_value<I: InputProtocol>(r: &mut I, ttype: TType) -> protocol::Result<String> {
    Ok(match ttype {
        TType::Bool => if r.read_bool()? { "T" } else { "F" }.to_owned(),
        TType::I8 => format!("b{}", r.read_i8()?),
        TType::I16 => format!("h{}", r.read_i16()?),
        TType::I32 => format!("i{}", r.read_i32()?),
        TType::I64 => format!("l{}", r.read_i64()?),
        TType::Double => format!("d{:016x}", r.read_double()?.to_bits()),
        TType::String => format!("s{}", hex(&r.read_binary()?)),
        TType::Uuid => format!("u{}", hex(&r.read_uuid()?)),
        TType::Struct => {
            r.read_struct_begin()?;
            let mut fields = Vec::new();
            loop {
                let f = r.read_field_begin()?;
                if f.ttype == TType::Stop {
                    break;
                }
                fields.push((f.id, canon_value(r, f.ttype)?));
                r.read_field_end()?;
            }
            r.read_struct_end()?;
            fields.sort_by_key(|f| f.0);
            let parts: Vec<String> = fields.iter().map(|(id, v)| format!("{id}:{v}")).collect();
            format!("{{{}}}", parts.join(","))
        }
        TType::List | TType::Set => {
            let list = ttype == TType::List;
            let h = if list {
                r.read_list_begin()?
            } else {
                r.read_set_begin()?
            };
            let mut items = Vec::with_capacity(h.len.min(4096));
            for _ in 0..h.len {
                items.push(canon_value(r, h.element)?);
            }
            if list {
                r.read_list_end()?;
                format!("[{}]", items.join(","))
            } else {
                r.read_set_end()?;
                items.sort();
                format!("<{}>", items.join(","))
            }
        }
        TType::Map => {
            let h = r.read_map_begin()?;
            let mut items = Vec::with_capacity(h.len.min(4096));
            for _ in 0..h.len {
                let k = canon_value(r, h.key)?;
                let v = canon_value(r, h.value)?;
                items.push(format!("{k}={v}"));
            }
            r.read_map_end()?;
            items.sort();
            format!("({})", items.join(","))
        }
        TType::Stop | TType::Void => {
            return Err(protocol::ProtocolError::invalid(
                "no value of type stop/void",
            ))
        }
    })
}

/// The canonical form of an encoded struct (see the module docs).
fn canon(bytes: &[u8], proto: Proto) -> Result<String, String> {
    let buf = Bytes::copy_from_slice(bytes);
    let (c, left) = match proto {
        Proto::Binary => {
            let mut r = BinaryReader::new(buf);
            (canon_value(&mut r, TType::Struct), r.remaining())
        }
        Proto::Compact => {
            let mut r = CompactReader::new(buf);
            (canon_value(&mut r, TType::Struct), r.remaining())
        }
    };
    let c = c.map_err(|e| format!("schemaless read failed: {e}"))?;
    if left != 0 {
        return Err(format!("{left} bytes left after the struct"));
    }
    Ok(c)
}

// --- write and check ---------------------------------------------------------------

fn file_name(index: usize, ty: &str) -> String {
    format!("{index:04}-{ty}.bin")
}

fn write_corpus(seed: u64, count: usize, proto: Proto, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut manifest = format!("seed {seed} count {count} protocol {}\n", proto.name());
    let mut covered = HashSet::new();
    for i in 0..count {
        let (ty, bytes) = corpus_value(seed, i, proto);
        covered.insert(ty);
        let c = canon(&bytes, proto).map_err(|e| format!("{}: {e}", file_name(i, ty)))?;
        let name = file_name(i, ty);
        std::fs::write(dir.join(&name), &bytes).map_err(|e| format!("{name}: {e}"))?;
        let _ = writeln!(manifest, "{name}\t{ty}\t{c}");
    }
    std::fs::write(dir.join("manifest.tsv"), manifest).map_err(|e| format!("manifest: {e}"))?;
    println!(
        "thrift-corpus: wrote {count} {} values of {} types (seed {seed}) into {}",
        proto.name(),
        covered.len(),
        dir.display()
    );
    Ok(())
}

fn check_corpus(dir: &Path) -> Result<bool, String> {
    let manifest = std::fs::read_to_string(dir.join("manifest.tsv"))
        .map_err(|e| format!("{}/manifest.tsv: {e}", dir.display()))?;
    let mut lines = manifest.lines();
    let head: Vec<&str> = lines.next().unwrap_or("").split(' ').collect();
    let (seed, proto) = match head.as_slice() {
        ["seed", seed, "count", _, "protocol", proto] => (
            seed.parse::<u64>().map_err(|e| format!("bad seed: {e}"))?,
            Proto::parse(proto).ok_or_else(|| format!("bad protocol {proto}"))?,
        ),
        _ => return Err("bad manifest header".into()),
    };
    let (mut agree, mut disagree) = (0usize, 0usize);
    for line in lines {
        let cols: Vec<&str> = line.split('\t').collect();
        let [name, ty, ..] = cols.as_slice() else {
            return Err(format!("bad manifest line {line:?}"));
        };
        let index: usize = name
            .split('-')
            .next()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("bad file name {name}"))?;
        let (expected_ty, expected) = corpus_value(seed, index, proto);
        let verdict = (|| -> Result<(), String> {
            if expected_ty != *ty {
                return Err(format!("type {ty}, the seed gives {expected_ty}"));
            }
            let expected = canon(&expected, proto)?;
            let theirs = std::fs::read(dir.join(name)).map_err(|e| e.to_string())?;
            // What the bytes say, schemaless, and what our generated code
            // makes of them.
            let raw = canon(&theirs, proto)?;
            if raw != expected {
                return Err(first_difference("their bytes", &raw, &expected));
            }
            let ours = roundtrip(ty, &theirs, proto)?;
            let decoded = canon(&ours, proto)?;
            if decoded != expected {
                return Err(first_difference("our decoding", &decoded, &expected));
            }
            Ok(())
        })();
        match verdict {
            Ok(()) => agree += 1,
            Err(why) => {
                disagree += 1;
                println!("DISAGREE {name}: {why}");
            }
        }
    }
    println!("differential: {agree} agree, 0 allowlisted, {disagree} disagree");
    Ok(disagree == 0)
}

fn first_difference(what: &str, got: &str, want: &str) -> String {
    let at = got
        .bytes()
        .zip(want.bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.len()));
    let from = at.saturating_sub(40);
    let clip = |s: &str| s.get(from..(at + 40).min(s.len())).unwrap_or("").to_owned();
    format!(
        "{what} differ from the expected value at character {at}: got ...{}... want ...{}...",
        clip(got),
        clip(want)
    )
}

// --- skip ----------------------------------------------------------------------------

const ALL_TYPES: &[TType] = &[
    TType::Bool,
    TType::I8,
    TType::I16,
    TType::I32,
    TType::I64,
    TType::Double,
    TType::String,
    TType::Struct,
    TType::Map,
    TType::Set,
    TType::List,
    TType::Uuid,
];

/// Writes a random value of `ttype` (no schema), nesting at most `depth`.
fn random_value<O: OutputProtocol>(
    r: &mut Rng,
    o: &mut O,
    ttype: TType,
    depth: usize,
    uuid: bool,
) -> protocol::Result<()> {
    let pick = |r: &mut Rng| loop {
        let t = r.pick(ALL_TYPES);
        let nested = matches!(t, TType::Struct | TType::Map | TType::Set | TType::List);
        if (depth > 0 || !nested) && (uuid || t != TType::Uuid) {
            break t;
        }
    };
    match ttype {
        TType::Bool => o.write_bool(r.bool()),
        TType::I8 => o.write_i8(r.i8()),
        TType::I16 => o.write_i16(r.i16()),
        TType::I32 => o.write_i32(r.i32()),
        TType::I64 => o.write_i64(r.i64()),
        TType::Double => o.write_double(r.f64()),
        TType::String => {
            if r.chance(50) {
                o.write_string(&r.string())
            } else {
                o.write_binary(&r.binary()[..])
            }
        }
        TType::Uuid => {
            let mut u = [0u8; 16];
            u.iter_mut().for_each(|b| *b = r.next() as u8);
            o.write_uuid(&u)
        }
        TType::Struct => {
            o.write_struct_begin("S")?;
            let mut id: i16 = 0;
            for _ in 0..r.below(6) {
                id = if r.chance(80) {
                    id.wrapping_add(1 + r.below(20) as i16)
                } else {
                    r.i16()
                };
                let t = pick(r);
                o.write_field_begin(t, id)?;
                random_value(r, o, t, depth.saturating_sub(1), uuid)?;
                o.write_field_end()?;
            }
            o.write_field_stop()?;
            o.write_struct_end()
        }
        TType::List | TType::Set => {
            let t = pick(r);
            let n = r.below(6);
            if ttype == TType::List {
                o.write_list_begin(t, n)?;
            } else {
                o.write_set_begin(t, n)?;
            }
            for _ in 0..n {
                random_value(r, o, t, depth.saturating_sub(1), uuid)?;
            }
            if ttype == TType::List {
                o.write_list_end()
            } else {
                o.write_set_end()
            }
        }
        TType::Map => {
            let (k, v) = (pick(r), pick(r));
            let n = r.below(5);
            o.write_map_begin(k, v, n)?;
            for _ in 0..n {
                random_value(r, o, k, depth.saturating_sub(1), uuid)?;
                random_value(r, o, v, depth.saturating_sub(1), uuid)?;
            }
            o.write_map_end()
        }
        TType::Stop | TType::Void => Ok(()),
    }
}

fn random_struct(r: &mut Rng, proto: Proto, uuid: bool) -> Vec<u8> {
    let mut out = BytesMut::new();
    let depth = 1 + r.below(4);
    let limits = Limits::DEFAULT;
    let done = match proto {
        Proto::Binary => random_value(
            r,
            &mut BinaryWriter::with_limits(&mut out, limits),
            TType::Struct,
            depth,
            uuid,
        ),
        Proto::Compact => random_value(
            r,
            &mut CompactWriter::with_limits(&mut out, limits),
            TType::Struct,
            depth,
            uuid,
        ),
    };
    if let Err(e) = done {
        panic!("writing a random struct failed: {e}");
    }
    out.to_vec()
}

/// A struct nested `depth` levels: structs in structs, or lists of lists.
fn deep(proto: Proto, depth: usize, lists: bool) -> Vec<u8> {
    let mut out = BytesMut::new();
    let limits = Limits {
        max_depth: usize::MAX,
        ..Limits::DEFAULT
    };
    fn nest<O: OutputProtocol>(o: &mut O, depth: usize, lists: bool) -> protocol::Result<()> {
        o.write_struct_begin("D")?;
        if depth > 1 {
            if lists {
                o.write_field_begin(TType::List, 1)?;
                for _ in 1..depth - 1 {
                    o.write_list_begin(TType::List, 1)?;
                }
                o.write_list_begin(TType::I32, 1)?;
                o.write_i32(7)?;
            } else {
                o.write_field_begin(TType::Struct, 1)?;
                nest(o, depth - 1, lists)?;
            }
            o.write_field_end()?;
        }
        o.write_field_stop()?;
        o.write_struct_end()
    }
    let done = match proto {
        Proto::Binary => nest(
            &mut BinaryWriter::with_limits(&mut out, limits),
            depth,
            lists,
        ),
        Proto::Compact => nest(
            &mut CompactWriter::with_limits(&mut out, limits),
            depth,
            lists,
        ),
    };
    if let Err(e) = done {
        panic!("writing a deep struct failed: {e}");
    }
    out.to_vec()
}

fn interesting_i32(r: &mut Rng, len: usize) -> i32 {
    r.pick(&[
        0,
        1,
        -1,
        i32::MAX,
        i32::MIN,
        len as i32,
        len as i32 + 1,
        len as i32 - 1,
        (len / 2) as i32,
        1 << 24,
        0x7fff,
    ])
}

fn varint(mut n: u64) -> Vec<u8> {
    let mut v = Vec::new();
    loop {
        if n < 0x80 {
            v.push(n as u8);
            return v;
        }
        v.push((n as u8) | 0x80);
        n >>= 7;
    }
}

/// A mutation of `valid`; the name says which.
fn mutate(r: &mut Rng, proto: Proto, mut b: Vec<u8>) -> (Vec<u8>, &'static str) {
    let len = b.len();
    let pos = r.below(len.max(1));
    let what = match r.below(9) {
        0 => "valid",
        1 => {
            for _ in 0..1 + r.below(3) {
                let p = r.below(len.max(1));
                if let Some(x) = b.get_mut(p) {
                    *x ^= 1 << r.below(8);
                }
            }
            "bitflip"
        }
        2 => {
            for _ in 0..1 + r.below(3) {
                let p = r.below(len.max(1));
                if let Some(x) = b.get_mut(p) {
                    *x = r.pick(&[0x00, 0xff, 0x80, 0x7f, 0x01, 0x0f, 0x10, 0x0c, 0x0d, 0x10])
                        | if r.chance(20) { r.next() as u8 } else { 0 };
                }
            }
            "byte"
        }
        3 => {
            b.truncate(pos);
            "truncated"
        }
        4 => {
            // A length or count tweak at a random place.
            let n = interesting_i32(r, len);
            let patch = match proto {
                Proto::Binary => n.to_be_bytes().to_vec(),
                Proto::Compact => {
                    if r.chance(30) {
                        // An overlong varint.
                        let mut v = varint(u64::from(n as u32));
                        if let Some(x) = v.last_mut() {
                            *x |= 0x80;
                        }
                        v.extend_from_slice(&[0x80, 0x00]);
                        v
                    } else {
                        varint(u64::from(n as u32))
                    }
                }
            };
            let end = (pos + patch.len()).min(len);
            b.splice(pos..end, patch);
            "length"
        }
        5 => {
            let n = 1 + r.below(8);
            let ins: Vec<u8> = (0..n).map(|_| r.next() as u8).collect();
            b.splice(pos..pos, ins);
            "inserted"
        }
        6 => {
            let end = (pos + 1 + r.below(8)).min(len);
            b.drain(pos..end);
            "deleted"
        }
        7 => {
            let end = (pos + 1 + r.below(16)).min(len);
            let seg = b[pos..end].to_vec();
            b.splice(end..end, seg);
            "duplicated"
        }
        _ => {
            let n = r.below(64);
            b = (0..n).map(|_| r.next() as u8).collect();
            "random"
        }
    };
    (b, what)
}

fn skip_verdict(bytes: &[u8], proto: Proto) -> String {
    let buf = Bytes::copy_from_slice(bytes);
    let (result, left) = match proto {
        Proto::Binary => {
            let mut r = BinaryReader::new(buf);
            (r.skip(TType::Struct), r.remaining())
        }
        Proto::Compact => {
            let mut r = CompactReader::new(buf);
            (r.skip(TType::Struct), r.remaining())
        }
    };
    match result {
        Ok(()) => format!("ok\t{}", bytes.len() - left),
        Err(e) => format!(
            "err\t{:?}\t{}",
            e.kind(),
            e.to_string().replace(['\t', '\n'], " ")
        ),
    }
}

fn write_skip(seed: u64, count: usize, proto: Proto, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut manifest = format!("seed {seed} count {count} protocol {}\n", proto.name());
    const DEPTHS: &[usize] = &[1, 32, 63, 64, 65, 66, 100, 500, 5000];
    for i in 0..count {
        let mut r = Rng::new(seed ^ 0x736b_6970, i as u64);
        let (bytes, what) = if i < 2 * DEPTHS.len() {
            let lists = i >= DEPTHS.len();
            let d = DEPTHS[i % DEPTHS.len()];
            (
                deep(proto, d, lists),
                if lists { "deep-lists" } else { "deep-structs" },
            )
        } else {
            // Mostly without uuid (which Python cannot skip), sometimes with.
            let uuid = r.chance(10);
            let valid = random_struct(&mut r, proto, uuid);
            let (b, what) = mutate(&mut r, proto, valid);
            (b, if uuid { uuid_tag(what) } else { what })
        };
        let name = format!("{i:05}-{what}.bin");
        std::fs::write(dir.join(&name), &bytes).map_err(|e| format!("{name}: {e}"))?;
        let _ = writeln!(manifest, "{name}\t{}", skip_verdict(&bytes, proto));
    }
    std::fs::write(dir.join("skip.tsv"), manifest).map_err(|e| format!("skip.tsv: {e}"))?;
    println!(
        "thrift-corpus: wrote {count} {} skip inputs (seed {seed}) into {}",
        proto.name(),
        dir.display()
    );
    Ok(())
}

fn uuid_tag(what: &'static str) -> &'static str {
    match what {
        "valid" => "uuid-valid",
        "bitflip" => "uuid-bitflip",
        "byte" => "uuid-byte",
        "truncated" => "uuid-truncated",
        "length" => "uuid-length",
        "inserted" => "uuid-inserted",
        "deleted" => "uuid-deleted",
        "duplicated" => "uuid-duplicated",
        _ => "uuid-random",
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.command {
        Command::Write {
            seed,
            count,
            protocol,
            dir,
        } => write_corpus(seed, count, protocol, &dir).map(|()| true),
        Command::Check { dir } => check_corpus(&dir),
        Command::Skip {
            seed,
            count,
            protocol,
            dir,
        } => write_skip(seed, count, protocol, &dir).map(|()| true),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("thrift-corpus: error: {e}");
            ExitCode::from(2)
        }
    }
}
