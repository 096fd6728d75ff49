"""What the Python client and server share: finding the generated code and
building protocols from the command-line names.

The generated package `thrift_test` comes from `interop/setup.sh`, which
writes it to target/interop/gen-py; `INTEROP_GEN_PY` points elsewhere.
"""

import os
import sys

PROTOCOLS = ("binary", "compact")
TRANSPORTS = ("buffered", "framed", "header")


def add_generated_code_to_path():
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    gen = os.environ.get("INTEROP_GEN_PY") or os.path.join(repo, "target", "interop", "gen-py")
    if not os.path.isdir(os.path.join(gen, "thrift_test")):
        sys.exit("no generated code in %s: run interop/setup.sh first" % gen)
    sys.path.insert(0, gen)


def header_protocol_id(protocol):
    from thrift.transport.THeaderTransport import THeaderSubprotocolID

    return {"binary": THeaderSubprotocolID.BINARY, "compact": THeaderSubprotocolID.COMPACT}[protocol]


def plain_protocol_factory(protocol):
    """The protocol factory for the buffered and framed transports.

    Binary is strict both ways, so a peer that writes the old unversioned
    message header is caught here rather than accepted.
    """
    from thrift.protocol import TBinaryProtocol, TCompactProtocol

    if protocol == "binary":
        return TBinaryProtocol.TBinaryProtocolFactory(strictRead=True, strictWrite=True)
    return TCompactProtocol.TCompactProtocolFactory()


def transport_factory(transport):
    from thrift.transport import TTransport

    if transport == "buffered":
        return TTransport.TBufferedTransportFactory()
    if transport == "framed":
        return TTransport.TFramedTransportFactory()
    return TTransport.TTransportFactoryBase()
