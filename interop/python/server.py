#!/usr/bin/env python3
"""ThriftTest server on the Apache Python library, for the interop suite.

Serves one dialect, chosen on the command line, on 127.0.0.1:

    server.py --port 9090 --protocol binary|compact|json --transport buffered|framed|header

The handler behaves as idl/ThriftTest.thrift documents. With
`--transport header` the server accepts THeader frames only, and only with
the inner protocol named by `--protocol`: a client that sends another
dialect has its connection closed, and an error is printed. Over THeader it
also answers the header check of common.py: byte-string headers in, checked
exactly, byte-string headers out.
"""

import argparse
import logging
import sys
import time

from common import (
    CHECK_KEY,
    HEADER_PREFIX,
    PROTOCOLS,
    REPLY_HEADERS,
    REQUEST_HEADERS,
    compare_headers,
    TRANSPORTS,
    add_generated_code_to_path,
    header_protocol_id,
    plain_protocol_factory,
    transport_factory,
)

add_generated_code_to_path()

from thrift.Thrift import TApplicationException  # noqa: E402
from thrift.protocol.THeaderProtocol import THeaderProtocol, THeaderProtocolFactory  # noqa: E402
from thrift.server import TServer  # noqa: E402
from thrift.transport import TSocket, TTransport  # noqa: E402
from thrift.transport.THeaderTransport import THeaderClientType  # noqa: E402

from thrift_test import ThriftTest  # noqa: E402
from thrift_test.ttypes import Insanity, Numberz, Xception, Xception2, Xtruct  # noqa: E402


class ExpectedFailure(TApplicationException):
    """The application error testException("TException") asks for; the
    generated processor logs it like any handler error, and a filter drops
    that log line."""


class QuietExpectedFailures(logging.Filter):
    def filter(self, record):
        return not (record.exc_info and isinstance(record.exc_info[1], ExpectedFailure))


class Handler:
    def __init__(self, verbose):
        self.verbose = verbose

    def _log(self, fmt, *args):
        if self.verbose:
            print(fmt % args, flush=True)

    def testVoid(self):
        self._log("testVoid()")

    def testString(self, thing):
        self._log("testString(%d chars)", len(thing))
        return thing

    def testBool(self, thing):
        self._log("testBool(%s)", thing)
        return thing

    def testByte(self, thing):
        self._log("testByte(%d)", thing)
        return thing

    def testI32(self, thing):
        self._log("testI32(%d)", thing)
        return thing

    def testI64(self, thing):
        self._log("testI64(%d)", thing)
        return thing

    def testDouble(self, thing):
        self._log("testDouble(%r)", thing)
        return thing

    def testBinary(self, thing):
        self._log("testBinary(%d bytes)", len(thing))
        return thing

    def testStruct(self, thing):
        self._log("testStruct(%r)", thing)
        return thing

    def testNest(self, thing):
        self._log("testNest(%r)", thing)
        return thing

    def testMap(self, thing):
        self._log("testMap(%d entries)", len(thing))
        return thing

    def testStringMap(self, thing):
        self._log("testStringMap(%d entries)", len(thing))
        return thing

    def testSet(self, thing):
        self._log("testSet(%d elements)", len(thing))
        return thing

    def testList(self, thing):
        self._log("testList(%d elements)", len(thing))
        return thing

    def testEnum(self, thing):
        self._log("testEnum(%d)", thing)
        return thing

    def testTypedef(self, thing):
        self._log("testTypedef(%d)", thing)
        return thing

    def testMapMap(self, hello):
        self._log("testMapMap(%d)", hello)
        return {
            -4: {-4: -4, -3: -3, -2: -2, -1: -1},
            4: {1: 1, 2: 2, 3: 3, 4: 4},
        }

    def testInsanity(self, argument):
        self._log("testInsanity(%r)", argument)
        return {
            1: {Numberz.TWO: argument, Numberz.THREE: argument},
            2: {Numberz.SIX: Insanity()},
        }

    def testMulti(self, arg0, arg1, arg2, arg3, arg4, arg5):
        self._log("testMulti(%d, %d, %d, %r, %d, %d)", arg0, arg1, arg2, arg3, arg4, arg5)
        return Xtruct(string_thing="Hello2", byte_thing=arg0, i32_thing=arg1, i64_thing=arg2)

    def testException(self, arg):
        self._log("testException(%r)", arg)
        if arg == "Xception":
            raise Xception(errorCode=1001, message=arg)
        if arg == "TException":
            raise ExpectedFailure(TApplicationException.INTERNAL_ERROR, "This is a TException")

    def testMultiException(self, arg0, arg1):
        self._log("testMultiException(%r, %r)", arg0, arg1)
        if arg0 == "Xception":
            raise Xception(errorCode=1001, message="This is an Xception")
        if arg0 == "Xception2":
            raise Xception2(errorCode=2002, struct_thing=Xtruct(string_thing="This is an Xception2"))
        return Xtruct(string_thing=arg1)

    def testOneway(self, secondsToSleep):
        self._log("testOneway(%d): sleeping", secondsToSleep)
        time.sleep(secondsToSleep)
        self._log("testOneway(%d): done", secondsToSleep)


class StrictHeaderProtocol(THeaderProtocol):
    """THeader that insists on one inner protocol."""

    def __init__(self, trans, protocol):
        super().__init__(trans, (THeaderClientType.HEADERS,), header_protocol_id(protocol))
        self.expected_protocol = protocol

    def readMessageBegin(self):
        begin = super().readMessageBegin()
        if self.trans.protocol_id != header_protocol_id(self.expected_protocol):
            msg = "THeader frame with protocol id %d, expected %s" % (
                self.trans.protocol_id,
                self.expected_protocol,
            )
            print("server: error: " + msg, file=sys.stderr, flush=True)
            raise TTransport.TTransportException(TTransport.TTransportException.UNKNOWN, msg)
        self.answer_header_check()
        return begin

    def answer_header_check(self):
        """The header check (see common.py): when the request carries its
        headers, answer with REPLY_HEADERS and the verdict. The reply is
        written on this protocol's transport, which sends the headers set here
        with its next frame and then forgets them."""
        got = self.trans.get_headers()
        if not any(key.startswith(HEADER_PREFIX) for key in got):
            return
        why = compare_headers(got, REQUEST_HEADERS)
        verdict = b"ok" if why is None else ("mismatch: " + why).encode()
        if why is not None:
            print("server: error: header check: " + why, file=sys.stderr, flush=True)
        for key, value in REPLY_HEADERS.items():
            self.trans.set_header(key, value)
        self.trans.set_header(CHECK_KEY, verdict)


class StrictHeaderProtocolFactory(THeaderProtocolFactory):
    def __init__(self, protocol):
        super().__init__((THeaderClientType.HEADERS,), header_protocol_id(protocol))
        self.protocol = protocol

    def getProtocol(self, trans):
        return StrictHeaderProtocol(trans, self.protocol)


def main():
    parser = argparse.ArgumentParser(description="ThriftTest server (Apache Python library)")
    parser.add_argument("--port", type=int, default=9090)
    parser.add_argument("--protocol", choices=PROTOCOLS, default="binary")
    parser.add_argument("--transport", choices=TRANSPORTS, default="buffered")
    parser.add_argument("--server", choices=("threaded", "simple"), default="threaded")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every call")
    args = parser.parse_args()
    if args.protocol == "json" and args.transport == "header":
        parser.error("the Python library's THeader carries binary and compact only, not json")

    logging.basicConfig(level=logging.WARNING, format="server: %(levelname)s %(message)s")
    logging.getLogger().addFilter(QuietExpectedFailures())

    processor = ThriftTest.Processor(Handler(args.verbose))
    socket = TSocket.TServerSocket(host="127.0.0.1", port=args.port)
    if args.transport == "header":
        # TServer notices the header factory and answers on the protocol
        # object that read the request, so replies use the request's dialect.
        transports = TTransport.TTransportFactoryBase()
        protocols = StrictHeaderProtocolFactory(args.protocol)
    else:
        transports = transport_factory(args.transport)
        protocols = plain_protocol_factory(args.protocol)

    if args.server == "simple":
        server = TServer.TSimpleServer(processor, socket, transports, protocols)
    else:
        server = TServer.TThreadedServer(processor, socket, transports, protocols, daemon=True)
    print(
        "server: ThriftTest on 127.0.0.1:%d (%s, %s, %s)"
        % (args.port, args.protocol, args.transport, args.server),
        flush=True,
    )
    try:
        server.serve()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
