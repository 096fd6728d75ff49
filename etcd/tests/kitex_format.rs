//! Fixtures: the exact keys and values Kitex's etcd registry
//! (kitex-contrib/registry-etcd) writes and reads, so that Kitex clients
//! find our servers and our clients find Kitex servers. No etcd needed.

use std::collections::BTreeMap;
use thriftgen_etcd::kitex::{decode_value, encode_value, instance_key, service_prefix};
use thriftgen_etcd::DEFAULT_PREFIX;
use thriftgen_runtime::discover::{Instance, DEFAULT_WEIGHT};

fn at(addr: &str) -> Instance {
    Instance::new(addr.parse().unwrap())
}

#[test]
fn the_key_is_kitexs() {
    // Kitex: serviceKeyPrefix = "kitex/registry-etcd/%v", then "/" + host:port.
    assert_eq!(DEFAULT_PREFIX, "kitex/registry-etcd");
    assert_eq!(
        instance_key(DEFAULT_PREFIX, "echo", "127.0.0.1:8888".parse().unwrap()),
        "kitex/registry-etcd/echo/127.0.0.1:8888"
    );
    assert_eq!(
        service_prefix(DEFAULT_PREFIX, "echo"),
        "kitex/registry-etcd/echo/"
    );
    assert_eq!(
        instance_key("my/prefix", "svc.name", "10.1.2.3:9".parse().unwrap()),
        "my/prefix/svc.name/10.1.2.3:9"
    );
    // IPv6 bracketed, as Go's net.JoinHostPort writes it.
    assert_eq!(
        instance_key(DEFAULT_PREFIX, "echo", "[::1]:8888".parse().unwrap()),
        "kitex/registry-etcd/echo/[::1]:8888"
    );
}

#[test]
fn the_value_is_kitexs_json_byte_for_byte() {
    // Go's json.Marshal of instanceInfo{Network, Address, Weight, Tags}:
    // struct fields in declaration order, map keys sorted, no spaces, and
    // Go's escapes (<, >, & and U+2028 as \u003c..., non-ASCII as is).
    let instance = at("127.0.0.1:8888")
        .with_tag("zone", "z1")
        .with_tag("cluster", "c")
        .with_tag("a\"b", "é<>&\u{2028}\n");
    assert_eq!(
        String::from_utf8(encode_value(&instance)).unwrap(),
        r#"{"network":"tcp","address":"127.0.0.1:8888","weight":10,"tags":{"a\"b":"é\u003c\u003e\u0026\u2028\n","cluster":"c","zone":"z1"}}"#
    );
    assert_eq!(
        encode_value(&at("10.0.0.7:9000").with_weight(25)),
        br#"{"network":"tcp","address":"10.0.0.7:9000","weight":25,"tags":{}}"#
    );
    assert_eq!(
        encode_value(&at("[::1]:8888")),
        br#"{"network":"tcp","address":"[::1]:8888","weight":10,"tags":{}}"#
    );
}

#[test]
fn reads_what_kitex_writes() {
    // A Kitex server with no tags: Tags is a nil map, marshalled as null.
    let i = decode_value(br#"{"network":"tcp","address":"10.0.0.1:8888","weight":10,"tags":null}"#)
        .unwrap();
    assert_eq!(i, at("10.0.0.1:8888"));

    // Weight 0 (Kitex's registry.Info default): the resolver uses 10.
    let i = decode_value(br#"{"network":"tcp","address":"10.0.0.1:8888","weight":0,"tags":null}"#)
        .unwrap();
    assert_eq!(i.weight, DEFAULT_WEIGHT);
    let i = decode_value(br#"{"network":"tcp","address":"10.0.0.1:8888","weight":-3}"#).unwrap();
    assert_eq!(i.weight, DEFAULT_WEIGHT);

    // Tags and weight absent; unknown fields, of any shape, ignored.
    let i = decode_value(
        br#"{"address":"10.0.0.2:1","network":"tcp","extra":1,"Other":{"x":[1,null]},"tags":{"k":"v"},"weight":7,"z":null}"#,
    )
    .unwrap();
    assert_eq!(i, at("10.0.0.2:1").with_weight(7).with_tag("k", "v"));
    let i = decode_value(br#"{"network":"tcp","address":"10.0.0.3:2"}"#).unwrap();
    assert_eq!(i, at("10.0.0.3:2"));

    // Kitex's registry writes IPv6 without brackets ("%s:%d").
    let i = decode_value(br#"{"network":"tcp","address":"fe80::1:8888","weight":1}"#).unwrap();
    assert_eq!(i.addr, "[fe80::1]:8888".parse().unwrap());

    // Whitespace and key order do not matter.
    let i = decode_value(
        b"{ \"tags\" : { \"b\" : \"2\", \"a\" : \"1\" } ,\n \"weight\" : 3, \"address\" : \"1.2.3.4:5\", \"network\" : \"tcp\" }",
    )
    .unwrap();
    let tags: BTreeMap<String, String> = [("a", "1"), ("b", "2")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(i.tags, tags);
    assert_eq!(i.weight, 3);
}

#[test]
fn skips_what_is_not_a_tcp_instance() {
    for value in [
        &br#"{"network":"unix","address":"/tmp/kitex.sock","weight":10,"tags":null}"#[..],
        br#"{"network":"tcp","address":"not-an-address","weight":10}"#,
        br#"{"network":"tcp","weight":10}"#,
        br#"{"network":"tcp","address":"1.2.3.4:5","weight":"10"}"#,
        b"",
        b"null",
    ] {
        assert!(
            decode_value(value).is_err(),
            "{}",
            String::from_utf8_lossy(value)
        );
    }
}

#[test]
fn round_trips() {
    let instance = at("192.168.1.20:8080")
        .with_weight(3)
        .with_tag("env", "prod")
        .with_tag("html", "<a href=\"x\">&amp;</a>\u{2029}");
    assert_eq!(decode_value(&encode_value(&instance)).unwrap(), instance);
}
