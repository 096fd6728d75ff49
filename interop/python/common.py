"""What the Python client and server share: finding the generated code and
building protocols from the command-line names.

The generated package `thrift_test` comes from `interop/setup.sh`, which
writes it to target/interop/gen-py; `INTEROP_GEN_PY` points elsewhere.
"""

import os
import sys

PROTOCOLS = ("binary", "compact", "json")
TRANSPORTS = ("buffered", "framed", "header")


def add_generated_code_to_path():
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    gen = os.environ.get("INTEROP_GEN_PY") or os.path.join(repo, "target", "interop", "gen-py")
    if not os.path.isdir(os.path.join(gen, "thrift_test")):
        sys.exit("no generated code in %s: run interop/setup.sh first" % gen)
    sys.path.insert(0, gen)


def header_protocol_id(protocol):
    from thrift.transport.THeaderTransport import THeaderSubprotocolID

    # The Python library's THeader knows binary and compact only (no JSON).
    return {"binary": THeaderSubprotocolID.BINARY, "compact": THeaderSubprotocolID.COMPACT}[protocol]


def plain_protocol_factory(protocol):
    """The protocol factory for the buffered and framed transports.

    Binary is strict both ways, so a peer that writes the old unversioned
    message header is caught here rather than accepted.
    """
    from thrift.protocol import TBinaryProtocol, TCompactProtocol, TJSONProtocol

    if protocol == "binary":
        return TBinaryProtocol.TBinaryProtocolFactory(strictRead=True, strictWrite=True)
    if protocol == "json":
        return TJSONProtocol.TJSONProtocolFactory()
    return TCompactProtocol.TCompactProtocolFactory()


def transport_factory(transport):
    from thrift.transport import TTransport

    if transport == "buffered":
        return TTransport.TBufferedTransportFactory()
    if transport == "framed":
        return TTransport.TFramedTransportFactory()
    return TTransport.TTransportFactoryBase()


# The header check, the same as interop/src/headers.rs: over THeader a client
# sends REQUEST_HEADERS with testString("headers"); a server that finds them
# checks each came through exactly and answers with REPLY_HEADERS and
# CHECK_KEY = b"ok" (or what differed); the client checks it got those
# exactly. Keys and values are bytes: a key that is not UTF-8, a value with
# NUL and 0xff bytes, an empty value.
REQUEST_HEADERS = {
    b"interop-\xff\xfe": b"non-UTF-8 key",
    b"interop-binary": b"\x00\x01\xff",
    b"interop-empty": b"",
}
REPLY_HEADERS = {
    b"interop-reply-\xfe\xff": b"non-UTF-8 key",
    b"interop-reply-binary": b"\xff\x00\x01",
    b"interop-reply-empty": b"",
}
CHECK_KEY = b"interop-check"
HEADER_PREFIX = b"interop-"


def compare_headers(got, want, skip=()):
    """None when the dict `got` holds `want` exactly (and no other key of the
    check but `skip`), else what differs."""
    for key, value in want.items():
        if key not in got:
            return "no header %r (got %r)" % (key, got)
        if got[key] != value:
            return "header %r is %r, expected %r" % (key, got[key], value)
    for key in got:
        if not isinstance(key, bytes):
            return "header key %r is not bytes" % (key,)
        if key.startswith(HEADER_PREFIX) and key not in want and key not in skip:
            return "unexpected header %r" % (key,)
    return None
