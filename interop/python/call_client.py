#!/usr/bin/env python3
"""`thriftgen call` against a ThriftTest server, for the interop suite.

    call_client.py --thriftgen PATH --idl idl/ThriftTest.thrift --host 127.0.0.1 \\
                   --port 9090 --protocol binary|compact|json \\
                   --transport buffered|framed|header

Runs `thriftgen call` once per ThriftTest method (testUuid aside: Python's
library has no uuid) with JSON arguments, and checks its exit status and the
JSON it prints against the semantics of idl/ThriftTest.thrift, with hash
maps and sets compared whatever their order. Prints one line per method
(`ok testString` or `FAIL testString: why`), then `N passed, N failed`;
exits 1 when anything failed. Needs nothing but the standard library.
"""

import argparse
import json
import subprocess
import sys
import time


def pairs(value, inner=lambda v: v):
    """A map written as [key, value] pairs, sorted, each value through inner."""
    return sorted(([k, inner(v)] for k, v in value), key=json.dumps)


def by_value(value):
    return sorted(value, key=json.dumps)


XTRUCT = {"string_thing": "Zero", "byte_thing": 1, "i32_thing": -3, "i64_thing": -5}
INSANITY = {"userMap": [["FIVE", 5], ["EIGHT", 8]], "xtructs": [XTRUCT]}


def insanity_norm(v):
    v = dict(v)
    if "userMap" in v:
        v["userMap"] = pairs(v["userMap"])
    return v


# (method, arguments, exit status, expected output, normalisation of the output)
CASES = [
    ("testVoid", {}, 0, None, None),
    ("testString", {"thing": "Hello, wörld ☃"}, 0, "Hello, wörld ☃", None),
    ("testBool", {"thing": True}, 0, True, None),
    ("testByte", {"thing": -128}, 0, -128, None),
    ("testI32", {"thing": -2147483648}, 0, -2147483648, None),
    ("testI64", {"thing": 9223372036854775807}, 0, 9223372036854775807, None),
    ("testDouble", {"thing": -5.25e-300}, 0, -5.25e-300, None),
    ("testBinary", {"thing": "AAEC/f7/"}, 0, "AAEC/f7/", None),
    ("testStruct", {"thing": XTRUCT}, 0, XTRUCT, None),
    (
        "testNest",
        {"thing": {"byte_thing": 1, "struct_thing": XTRUCT, "i32_thing": 5}},
        0,
        {"byte_thing": 1, "struct_thing": XTRUCT, "i32_thing": 5},
        None,
    ),
    ("testMap", {"thing": [[1, 2], [-3, 4]]}, 0, pairs([[1, 2], [-3, 4]]), pairs),
    ("testStringMap", {"thing": {"a": "1", "ü": ""}}, 0, {"a": "1", "ü": ""}, None),
    ("testSet", {"thing": [3, -1, 2]}, 0, [-1, 2, 3], by_value),
    ("testList", {"thing": [3, -1, 2, 2]}, 0, [3, -1, 2, 2], None),
    ("testEnum", {"thing": "FIVE"}, 0, "FIVE", None),
    ("testTypedef", {"thing": 1234567890123}, 0, 1234567890123, None),
    (
        "testMapMap",
        {"hello": 1},
        0,
        pairs([[-4, [[-4, -4], [-3, -3], [-2, -2], [-1, -1]]], [4, [[1, 1], [2, 2], [3, 3], [4, 4]]]], pairs),
        lambda v: pairs(v, pairs),
    ),
    (
        "testInsanity",
        {"argument": INSANITY},
        0,
        pairs(
            [[1, [["TWO", INSANITY], ["THREE", INSANITY]]], [2, [["SIX", {}]]]],
            lambda inner: pairs(inner, insanity_norm),
        ),
        lambda v: pairs(v, lambda inner: pairs(inner, insanity_norm)),
    ),
    (
        "testMulti",
        {"arg0": 9, "arg1": 8, "arg2": 7, "arg3": [[1, "x"]], "arg4": "TWO", "arg5": 6},
        0,
        {"string_thing": "Hello2", "byte_thing": 9, "i32_thing": 8, "i64_thing": 7},
        None,
    ),
    (
        "testException",
        {"arg": "Xception"},
        1,
        {"exception": "Xception", "field": "err1", "value": {"errorCode": 1001, "message": "Xception"}},
        None,
    ),
    ("testException", {"arg": "TException"}, 3, None, None),
    ("testException", {"arg": "fine"}, 0, None, None),
    (
        "testMultiException",
        {"arg0": "Xception2", "arg1": "x"},
        1,
        {
            "exception": "Xception2",
            "field": "err2",
            "value": {"errorCode": 2002, "struct_thing": {"string_thing": "This is an Xception2"}},
        },
        None,
    ),
    ("testMultiException", {"arg0": "other", "arg1": "thing"}, 0, {"string_thing": "thing"}, None),
    ("testOneway", {"secondsToSleep": 1}, 0, None, None),
]


def main():
    parser = argparse.ArgumentParser(description="thriftgen call against a ThriftTest server")
    parser.add_argument("--thriftgen", required=True)
    parser.add_argument("--idl", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--protocol", default="binary")
    parser.add_argument("--transport", default="buffered")
    args = parser.parse_args()

    passed = failed = 0
    for method, call_args, status, expected, normalize in CASES:
        argv = [
            args.thriftgen, "call", "--idl", args.idl,
            "--addr", f"{args.host}:{args.port}",
            "--transport", args.transport, "--protocol", args.protocol,
            "--compact", f"ThriftTest.{method}", json.dumps(call_args),
        ]
        started = time.monotonic()
        run = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        took = time.monotonic() - started
        why = None
        if run.returncode != status:
            why = f"exit {run.returncode}, expected {status}: {run.stderr.strip()}"
        elif status == 0 and method == "testOneway":
            if run.stdout.strip():
                why = f"printed {run.stdout.strip()!r} for a oneway call"
            elif took >= 0.9:
                why = f"waited {took:.2f} s for a oneway call (the handler sleeps 1 s)"
        elif status in (0, 1):
            got = json.loads(run.stdout) if run.stdout.strip() else None
            if normalize is not None and got is not None:
                got = normalize(got)
            if got != expected:
                why = f"printed {run.stdout.strip()}, expected {json.dumps(expected)}"
        elif "application exception" not in run.stderr:
            why = f"expected an application exception, stderr: {run.stderr.strip()}"
        if why is None:
            passed += 1
            print(f"ok {method}")
        else:
            failed += 1
            print(f"FAIL {method}: {why}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
