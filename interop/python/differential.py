"""Differential checks of Apache Thrift's Python library against ours.

Run with the interop venv's python after interop/setup.sh; the corpora come
from `thrift-corpus` (interop/src/bin/thrift-corpus.rs), see
interop/differential.sh.

  differential.py corpus IN OUT
      IN is a `thrift-corpus write` directory. Each value is decoded with
      every Python implementation of the protocol (pure Python, and the C
      extension when it is there), compared with the canonical form in
      IN/manifest.tsv, re-encoded, and written to OUT/<implementation>/
      with a copy of the manifest, for `thrift-corpus check`.

  differential.py skip DIR
      DIR is a `thrift-corpus skip` directory: runs Python's
      skip(TType.STRUCT) on every input and compares with our verdict in
      DIR/skip.tsv.

Each check prints `differential: N agree, M allowlisted, K disagree`; the
exit status is non-zero when anything disagrees.
"""

import os
import struct
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

common.add_generated_code_to_path()

from thrift.protocol import TBinaryProtocol, TCompactProtocol  # noqa: E402
from thrift.protocol.TProtocol import TProtocolException  # noqa: E402
from thrift.Thrift import TType  # noqa: E402
from thrift.transport import TTransport  # noqa: E402
from thrift_test import ttypes  # noqa: E402

try:
    from thrift.protocol import fastbinary  # noqa: F401

    HAVE_ACCEL = True
except ImportError:
    HAVE_ACCEL = False


def implementations(protocol):
    """(name, protocol factory) for every Python implementation."""
    if protocol == "binary":
        impls = [("pure", lambda t: TBinaryProtocol.TBinaryProtocol(t, strictRead=True, strictWrite=True))]
        if HAVE_ACCEL:
            impls.append(("accel", lambda t: TBinaryProtocol.TBinaryProtocolAccelerated(t, fallback=False)))
    else:
        impls = [("pure", TCompactProtocol.TCompactProtocol)]
        if HAVE_ACCEL:
            impls.append(("accel", lambda t: TCompactProtocol.TCompactProtocolAccelerated(t, fallback=False)))
    return impls


def report(label, agree, allowlisted, disagree):
    print("differential: check %s" % label)
    print("differential: %d agree, %d allowlisted, %d disagree" % (agree, allowlisted, disagree))


# --- the canonical form (the same as thrift-corpus.rs) ------------------------


def canon(ttype, spec, v):
    if ttype == TType.BOOL:
        return "T" if v else "F"
    if ttype == TType.BYTE:
        return "b%d" % v
    if ttype == TType.I16:
        return "h%d" % v
    if ttype == TType.I32:
        return "i%d" % v
    if ttype == TType.I64:
        return "l%d" % v
    if ttype == TType.DOUBLE:
        return "d" + struct.pack(">d", v).hex()
    if ttype == TType.STRING:
        if isinstance(v, str):
            v = v.encode("utf-8")
        return "s" + bytes(v).hex()
    if ttype == TType.STRUCT:
        return canon_struct(v, spec[0].thrift_spec)
    if ttype == TType.LIST:
        etype, espec, _ = spec
        return "[" + ",".join(canon(etype, espec, x) for x in v) + "]"
    if ttype == TType.SET:
        etype, espec, _ = spec
        return "<" + ",".join(sorted(canon(etype, espec, x) for x in v)) + ">"
    if ttype == TType.MAP:
        ktype, kspec, vtype, vspec, _ = spec
        items = sorted(canon(ktype, kspec, k) + "=" + canon(vtype, vspec, x) for k, x in v.items())
        return "(" + ",".join(items) + ")"
    raise ValueError("no canonical form for type %r" % ttype)


def canon_struct(obj, thrift_spec):
    parts = []
    for field in thrift_spec:
        if field is None:
            continue
        fid, ftype, fname, fspec = field[0], field[1], field[2], field[3]
        value = getattr(obj, fname)
        if value is not None:
            parts.append((fid, "%d:%s" % (fid, canon(ftype, fspec, value))))
    parts.sort(key=lambda p: p[0])
    return "{" + ",".join(p for _, p in parts) + "}"


def first_difference(got, want):
    at = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
    lo = max(0, at - 40)
    return "at character %d: got ...%s... want ...%s..." % (at, got[lo:at + 40], want[lo:at + 40])


def read_manifest(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    head = lines[0].split(" ")
    if len(head) != 6 or head[0] != "seed" or head[4] != "protocol":
        sys.exit("bad manifest header in %s" % path)
    return lines[0], head[5], [line.split("\t") for line in lines[1:] if line]


# --- corpus: decode ours, compare, re-encode ------------------------------------


def decode(cls, data, make):
    trans = TTransport.TMemoryBuffer(data)
    prot = make(trans)
    if getattr(cls.read, "__self__", None) is cls:  # immutable structs
        obj = cls.read(prot)
    else:
        obj = cls()
        obj.read(prot)
    left = len(data) - trans._buffer.tell()
    if left:
        raise ValueError("%d bytes left after the value" % left)
    return obj


def encode(obj, make):
    trans = TTransport.TMemoryBuffer()
    obj.write(make(trans))
    return trans.getvalue()


def run_corpus(src, out):
    header, protocol, entries = read_manifest(os.path.join(src, "manifest.tsv"))
    failed = False
    for impl, make in implementations(protocol):
        dst = os.path.join(out, impl)
        os.makedirs(dst, exist_ok=True)
        agree = disagree = same_bytes = 0
        for name, type_name, expected in entries:
            with open(os.path.join(src, name), "rb") as f:
                ours = f.read()
            try:
                cls = getattr(ttypes, type_name)
                obj = decode(cls, ours, make)
                got = canon_struct(obj, cls.thrift_spec)
                theirs = encode(obj, make)
            except Exception as e:  # noqa: BLE001 - any failure is a finding
                disagree += 1
                print("DISAGREE %s %s: Python failed: %s: %s" % (impl, name, type(e).__name__, e))
                continue
            with open(os.path.join(dst, name), "wb") as f:
                f.write(theirs)
            if got != expected:
                disagree += 1
                print("DISAGREE %s %s: Python decodes %s" % (impl, name, first_difference(got, expected)))
                continue
            agree += 1
            same_bytes += theirs == ours
        with open(os.path.join(dst, "manifest.tsv"), "w", encoding="utf-8") as f:
            f.write(header + "\n")
            f.writelines("\t".join(e) + "\n" for e in entries)
        print("differential: %s/%s re-encoded %d of %d values byte for byte as we did"
              " (the rest differ in hash-set/map order only, or failed above)"
              % (protocol, impl, same_bytes, len(entries)))
        report("rust -> python %s %s" % (protocol, impl), agree, 0, disagree)
        failed |= disagree > 0
    if not HAVE_ACCEL:
        print("differential: no C extension (thrift.protocol.fastbinary): pure Python only")
    return not failed


# --- skip: Python's skip against ours ----------------------------------------------

MAX_DEPTH = 64  # Limits::DEFAULT.max_depth
BINARY_TYPES = {2, 3, 4, 6, 8, 10, 11, 12, 13, 14, 15, 16}


class Limit(Exception):
    """One of our limits, which Python does not have."""


def lenient(base, protocol, utf8=False, uuid=False):
    """Python's protocol, patched to do what ours does where Python
    differs by design: skip strings as bytes (`utf8`) and know uuid."""

    class Lenient(base):
        def readString(self):
            return self.readBinary() if utf8 else base.readString(self)

        def skip(self, ttype):
            if uuid and ttype == 16:
                self.trans.readAll(16)
                return
            base.skip(self, ttype)

        if protocol == "compact" and uuid:
            def _TCompactProtocol__getTType(self, byte):
                if byte & 0x0F == 0x0D:
                    return 16
                return TCompactProtocol.TTYPES[byte & 0x0F]

    return Lenient


def strict(base, protocol):
    """Python's protocol with our limits: depth 64, no Stop/Void/unknown
    element types even in empty containers, compact varints of at most 10
    bytes / 64 bits, i16 and i32 (and field ids, sizes) in range."""

    class Strict(base):
        depth = 0

        def skip(self, ttype):
            nested = ttype in (TType.STRUCT, TType.LIST, TType.SET, TType.MAP)
            if nested:
                if self.depth >= MAX_DEPTH:
                    raise Limit("depth-limit")
                self.depth += 1
            try:
                base.skip(self, ttype)
            finally:
                if nested:
                    self.depth -= 1

        def _elements(self, *types):
            for t in types:
                if t in (TType.STOP, TType.VOID) or (protocol == "binary" and t not in BINARY_TYPES):
                    raise Limit("element-type")

        def readListBegin(self):
            etype, size = base.readListBegin(self)
            self._elements(etype)
            return etype, size

        def readSetBegin(self):
            etype, size = base.readSetBegin(self)
            self._elements(etype)
            return etype, size

        def readMapBegin(self):
            ktype, vtype, size = base.readMapBegin(self)
            if protocol == "binary" or size > 0:
                self._elements(ktype, vtype)
            return ktype, vtype, size

        if protocol == "compact":
            def _TCompactProtocol__readVarint(self):
                result = 0
                for i in range(10):
                    byte = self.trans.readAll(1)[0]
                    if i == 9 and byte & 0x7F > 1:
                        raise Limit("varint-range")
                    result |= (byte & 0x7F) << (7 * i)
                    if byte >> 7 == 0:
                        return result
                raise Limit("varint-range")

            def _varint32(self):
                v = self._TCompactProtocol__readVarint()
                if v > 0xFFFFFFFF:
                    raise Limit("varint-range")
                return v

            def _zigzag(self, bits):
                v = TCompactProtocol.fromZigZag(self._varint32())
                if not -(1 << (bits - 1)) <= v < (1 << (bits - 1)):
                    raise Limit("varint-range")
                return v

            def _TCompactProtocol__readI16(self):
                return self._zigzag(16)

            def readI16(self):
                return self._zigzag(16)

            def readI32(self):
                return self._zigzag(32)

            def _TCompactProtocol__readSize(self):
                v = self._varint32()
                if v >= 1 << 31:
                    raise Limit("varint-range")
                return v

            def readFieldBegin(self):
                name, ttype, fid = base.readFieldBegin(self)
                if not -(1 << 15) <= fid < (1 << 15):
                    raise Limit("varint-range")
                return name, ttype, fid

    return Strict


def python_skip(cls, data):
    """('ok', consumed) or ('err', 'ExceptionType: message')."""
    trans = TTransport.TMemoryBuffer(data)
    prot = cls(trans)
    try:
        prot.skip(TType.STRUCT)
    except Limit as e:
        return "limit", str(e)
    except RecursionError:
        return "err", "RecursionError"
    except Exception as e:  # noqa: BLE001 - every failure is a verdict
        return "err", "%s: %s" % (type(e).__name__, e)
    return "ok", trans._buffer.tell()


# Why an allowlisted disagreement is not a bug (interop/README.md has them).
REASONS = {
    "python-utf8": "Python's skip decodes strings as UTF-8; ours skips bytes",
    "python-no-uuid": "Python 0.22 cannot skip uuid (binary type 16, compact type 13)",
    "python-utf8+no-uuid": "both of the above",
    "depth-limit": "we stop at depth 64 (Limits::max_depth); Python recurses until RecursionError",
    "element-type": "we reject Stop/Void/unknown element types even in an empty container",
    "varint-range": "we reject compact varints beyond 10 bytes/64 bits and i16/i32/size values out of range; Python accepts any",
}


def run_skip(src):
    with open(os.path.join(src, "skip.tsv"), encoding="utf-8") as f:
        lines = f.read().splitlines()
    protocol = lines[0].split(" ")[5]
    base = TBinaryProtocol.TBinaryProtocol if protocol == "binary" else TCompactProtocol.TCompactProtocol
    variants = [
        ("python-utf8", lenient(base, protocol, utf8=True)),
        ("python-no-uuid", lenient(base, protocol, uuid=True)),
        ("python-utf8+no-uuid", lenient(base, protocol, utf8=True, uuid=True)),
    ]
    strict_cls = strict(base, protocol)
    agree = allowlisted = disagree = 0
    why = Counter()
    kinds = Counter()
    for line in lines[1:]:
        cols = line.split("\t")
        name, ours = cols[0], cols[1]
        ours_consumed = int(cols[2]) if ours == "ok" else None
        with open(os.path.join(src, name), "rb") as f:
            data = f.read()
        verdict, detail = python_skip(base, data)
        kinds[(ours, verdict)] += 1
        if verdict == "ok" and ours == "ok":
            if detail == ours_consumed:
                agree += 1
            else:
                disagree += 1
                print("DISAGREE %s: both skip, we consume %d bytes, Python %d" % (name, ours_consumed, detail))
            continue
        if verdict != "ok" and ours != "ok":
            agree += 1
            continue
        reason = None
        if ours == "ok":
            # Python fails where we succeed: does a Python taught what we do
            # differently by design consume the same bytes?
            for tag, cls in variants:
                if python_skip(cls, data) == ("ok", ours_consumed):
                    reason = tag
                    break
            explain = "we skip %d bytes, Python fails: %s" % (ours_consumed, detail)
        else:
            # We fail where Python succeeds: does Python with our limits fail
            # on one of them?
            v, limit = python_skip(strict_cls, data)
            if v == "limit":
                reason = limit
            explain = "we fail (%s), Python skips %d bytes" % (" ".join(cols[2:]), detail)
        if reason:
            allowlisted += 1
            why[reason] += 1
        else:
            disagree += 1
            print("DISAGREE %s: %s" % (name, explain))
    print("differential: skip %s verdicts (ours, Python's): %s" % (
        protocol, ", ".join("%s/%s %d" % (a, b, n) for (a, b), n in sorted(kinds.items()))))
    for reason, n in sorted(why.items()):
        print("differential: allowlisted %d x %s: %s" % (n, reason, REASONS[reason]))
    report("skip %s" % protocol, agree, allowlisted, disagree)
    return disagree == 0


def main(argv):
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    if len(argv) == 4 and argv[1] == "corpus":
        ok = run_corpus(argv[2], argv[3])
    elif len(argv) == 3 and argv[1] == "skip":
        ok = run_skip(argv[2])
    else:
        sys.exit(__doc__)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
