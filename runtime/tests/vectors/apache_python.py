#!/usr/bin/env python3
"""Writes the kitchen-sink message of `runtime/tests/wire_vectors.rs` with
Apache Thrift's Python library (PyPI `thrift`, pure-Python protocols), in the
binary, compact and JSON protocols, as hex. The Rust test compares our encoder's
bytes with these files, so the vectors come from an independent
implementation.

    python3 -m venv .venv && .venv/bin/pip install thrift==0.22.0
    .venv/bin/python runtime/tests/vectors/apache_python.py

(uuid is not in the Python library of 0.22; its vectors are checked by hand.)
"""

import os

from thrift.Thrift import TMessageType, TType
from thrift.protocol import TBinaryProtocol, TCompactProtocol, TJSONProtocol
from thrift.transport import TTransport


def field(p, ttype, fid, write):
    p.writeFieldBegin("f", ttype, fid)
    write()
    p.writeFieldEnd()


def inner(p, fields):
    p.writeStructBegin("Inner")
    for ttype, fid, write in fields:
        field(p, ttype, fid, write)
    p.writeFieldStop()
    p.writeStructEnd()


def write_list(p, etype, items, write):
    p.writeListBegin(etype, len(items))
    for item in items:
        write(item)
    p.writeListEnd()


def sample(p):
    p.writeMessageBegin("getOrder", TMessageType.CALL, 7)
    p.writeStructBegin("Sample")
    field(p, TType.BOOL, 1, lambda: p.writeBool(True))
    field(p, TType.BOOL, 2, lambda: p.writeBool(False))
    field(p, TType.BYTE, 3, lambda: p.writeByte(-1))
    field(p, TType.I16, 4, lambda: p.writeI16(-300))
    field(p, TType.I32, 5, lambda: p.writeI32(100000))
    field(p, TType.I64, 6, lambda: p.writeI64(-1))
    field(p, TType.I64, 7, lambda: p.writeI64(9223372036854775807))
    field(p, TType.DOUBLE, 8, lambda: p.writeDouble(1.5))
    field(p, TType.DOUBLE, 9, lambda: p.writeDouble(-0.0))
    field(p, TType.STRING, 10, lambda: p.writeString("h\u00e9llo \u2603"))
    field(p, TType.STRING, 11, lambda: p.writeBinary(b"\x00\x01\xff"))
    field(p, TType.LIST, 12, lambda: write_list(p, TType.I32, [1, -2, 3], p.writeI32))
    field(p, TType.LIST, 13, lambda: write_list(p, TType.BOOL, [True, False], p.writeBool))

    def string_set():
        p.writeSetBegin(TType.STRING, 2)
        p.writeString("a")
        p.writeString("b")
        p.writeSetEnd()

    field(p, TType.SET, 14, string_set)

    def one_entry_map():
        p.writeMapBegin(TType.STRING, TType.I64, 1)
        p.writeString("k")
        p.writeI64(7)
        p.writeMapEnd()

    field(p, TType.MAP, 15, one_entry_map)

    def empty_map():
        p.writeMapBegin(TType.I32, TType.I32, 0)
        p.writeMapEnd()

    field(p, TType.MAP, 16, empty_map)
    field(p, TType.STRUCT, 17, lambda: inner(p, [
        (TType.I32, 1, lambda: p.writeI32(5)),
        (TType.BOOL, 20, lambda: p.writeBool(True)),
    ]))
    field(p, TType.LIST, 18, lambda: write_list(p, TType.I16, list(range(-10, 10)), p.writeI16))
    field(p, TType.I16, 40, lambda: p.writeI16(1))
    field(p, TType.I32, -1, lambda: p.writeI32(42))
    field(p, TType.LIST, 41, lambda: write_list(p, TType.STRUCT, [0], lambda _: inner(p, [
        (TType.STRING, 1, lambda: p.writeString("x")),
    ])))

    def nested_map():
        p.writeMapBegin(TType.STRING, TType.LIST, 1)
        p.writeString("tags")
        write_list(p, TType.STRING, ["x", "y"], p.writeString)
        p.writeMapEnd()

    field(p, TType.MAP, 42, nested_map)
    p.writeFieldStop()
    p.writeStructEnd()
    p.writeMessageEnd()


def encode(factory):
    buf = TTransport.TMemoryBuffer()
    sample(factory(buf))
    return buf.getvalue().hex()


here = os.path.dirname(os.path.abspath(__file__))
for name, factory in [
    ("binary", lambda t: TBinaryProtocol.TBinaryProtocol(t, strictRead=True, strictWrite=True)),
    ("compact", TCompactProtocol.TCompactProtocol),
    ("json", TJSONProtocol.TJSONProtocol),
]:
    with open(os.path.join(here, f"sample.{name}.hex"), "w") as out:
        out.write(encode(factory) + "\n")
    print(name, "written")
