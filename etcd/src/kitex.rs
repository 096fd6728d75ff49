//! The keys and values of Kitex's etcd registry.
//!
//! An instance of service `echo` listening on `127.0.0.1:8888` is the key
//!
//! ```text
//! kitex/registry-etcd/echo/127.0.0.1:8888
//! ```
//!
//! put under a lease, with the value (Go's `json.Marshal` of Kitex's
//! `instanceInfo{Network, Address, Weight, Tags}`, fields in that order,
//! map keys sorted)
//!
//! ```text
//! {"network":"tcp","address":"127.0.0.1:8888","weight":10,"tags":{"zone":"a"}}
//! ```
//!
//! What we write is byte for byte what Kitex writes (Go's escapes
//! included: `<`, `>`, `&`, U+2028 and U+2029 as `\u003c` and so on),
//! except that we write `"tags":{}` where Kitex writes `"tags":null` for no
//! tags (both decode to no tags on either side), and an IPv6 address as
//! `[::1]:8888` (Go's `net.JoinHostPort`, which Kitex clients can dial)
//! where Kitex's registry writes `::1:8888`; we read both forms.
//!
//! Reading, like Kitex's resolver: `tags` may be `null` or absent, unknown
//! fields are ignored, and a weight that is absent, 0 or negative means
//! [`DEFAULT_WEIGHT`] (10). So an instance registered with weight 0 is read
//! back, by Kitex and by us, with weight 10.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use thriftgen_runtime::discover::{DiscoverError, Instance, DEFAULT_WEIGHT};

/// The prefix of every key of `service`: `{prefix}/{service}/`.
///
/// ```
/// assert_eq!(
///     thriftgen_etcd::kitex::service_prefix("kitex/registry-etcd", "echo"),
///     "kitex/registry-etcd/echo/",
/// );
/// ```
pub fn service_prefix(prefix: &str, service: &str) -> String {
    format!("{prefix}/{service}/")
}

/// The key of the instance of `service` at `addr`:
/// `{prefix}/{service}/{host:port}`.
///
/// ```
/// assert_eq!(
///     thriftgen_etcd::kitex::instance_key(
///         "kitex/registry-etcd",
///         "echo",
///         "127.0.0.1:8888".parse().unwrap(),
///     ),
///     "kitex/registry-etcd/echo/127.0.0.1:8888",
/// );
/// ```
pub fn instance_key(prefix: &str, service: &str, addr: SocketAddr) -> String {
    format!("{}{addr}", service_prefix(prefix, service))
}

/// Kitex's `instanceInfo` as we write it.
#[derive(Serialize)]
struct InstanceInfoOut<'a> {
    network: &'static str,
    address: String,
    weight: u32,
    tags: &'a BTreeMap<String, String>,
}

/// Kitex's `instanceInfo` as we read it (Kitex or anyone else wrote it).
#[derive(Deserialize)]
struct InstanceInfoIn {
    #[serde(default)]
    network: Option<String>,
    address: String,
    #[serde(default)]
    weight: Option<i64>,
    #[serde(default)]
    tags: Option<BTreeMap<String, String>>,
}

/// The value we put for `instance`: Kitex's JSON.
///
/// ```
/// use thriftgen_runtime::discover::Instance;
/// let instance = Instance::new("127.0.0.1:8888".parse().unwrap()).with_tag("zone", "a");
/// assert_eq!(
///     thriftgen_etcd::kitex::encode_value(&instance),
///     br#"{"network":"tcp","address":"127.0.0.1:8888","weight":10,"tags":{"zone":"a"}}"#,
/// );
/// ```
pub fn encode_value(instance: &Instance) -> Vec<u8> {
    let info = InstanceInfoOut {
        network: "tcp",
        address: instance.addr.to_string(),
        weight: instance.weight,
        tags: &instance.tags,
    };
    let mut out = Vec::with_capacity(96);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, GoFormatter);
    // Strings and a map of strings into a Vec: serializing cannot fail.
    let _ = info.serialize(&mut serializer);
    out
}

/// serde_json's compact output, with string escapes as Go's
/// `encoding/json` writes them: it also escapes `<`, `>` and `&` (as
/// `\u003c`, `\u003e`, `\u0026`) and U+2028, U+2029, so that our bytes are
/// Kitex's bytes for any tag.
struct GoFormatter;

impl serde_json::ser::Formatter for GoFormatter {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let escape = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[start..i])?;
            writer.write_all(escape.as_bytes())?;
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// The instance a value written by Kitex (or by us) describes.
///
/// # Errors
///
/// When the value is not Kitex's JSON, its network is not TCP (`tcp`,
/// `tcp4`, `tcp6`, or empty), or its address is not `IP:PORT`.
pub fn decode_value(value: &[u8]) -> Result<Instance, DiscoverError> {
    let info: InstanceInfoIn = serde_json::from_slice(value)
        .map_err(|e| DiscoverError::with_source("etcd: a value is not Kitex's instance JSON", e))?;
    match info.network.as_deref() {
        None | Some("" | "tcp" | "tcp4" | "tcp6") => {}
        Some(other) => {
            return Err(DiscoverError::new(format!(
                "etcd: instance {} is on network `{other}`, not tcp",
                info.address
            )))
        }
    }
    let addr = parse_address(&info.address).ok_or_else(|| {
        DiscoverError::new(format!(
            "etcd: instance address `{}` is not IP:PORT",
            info.address
        ))
    })?;
    let weight = match info.weight {
        Some(w) if w > 0 => u32::try_from(w).unwrap_or(u32::MAX),
        _ => DEFAULT_WEIGHT,
    };
    Ok(Instance {
        addr,
        weight,
        tags: info.tags.unwrap_or_default(),
    })
}

/// `1.2.3.4:80`, `[::1]:80`, or Kitex's unbracketed `::1:80`.
fn parse_address(address: &str) -> Option<SocketAddr> {
    if let Ok(addr) = address.parse() {
        return Some(addr);
    }
    let (host, port) = address.rsplit_once(':')?;
    let ip: IpAddr = host.parse().ok()?;
    Some(SocketAddr::new(ip, port.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unbracketed_ipv6() {
        let i = decode_value(br#"{"network":"tcp","address":"::1:8888","weight":5}"#).unwrap();
        assert_eq!(i.addr, "[::1]:8888".parse().unwrap());
        assert_eq!(i.weight, 5);
    }

    #[test]
    fn huge_weight_saturates() {
        let i = decode_value(br#"{"address":"1.2.3.4:1","weight":99999999999}"#).unwrap();
        assert_eq!(i.weight, u32::MAX);
    }

    #[test]
    fn bad_values() {
        for v in [
            &b"not json"[..],
            br#"{"network":"tcp"}"#,
            br#"{"network":"unix","address":"/tmp/s"}"#,
            br#"{"network":"tcp","address":"example.com:80"}"#,
            br#"{"network":"tcp","address":"1.2.3.4"}"#,
            br#"{"network":"tcp","address":"1.2.3.4:99999"}"#,
        ] {
            assert!(decode_value(v).is_err(), "{}", String::from_utf8_lossy(v));
        }
    }
}
