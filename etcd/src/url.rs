//! The binaries' URL form of an etcd registry: `etcd://HOST:PORT/SERVICE_NAME`.

use std::fmt;
use thriftgen_runtime::discover::DiscoverError;

/// Where etcd is and which service to register or discover, from
/// [`parse_etcd_url`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EtcdUrl {
    /// etcd's client endpoint, `HOST:PORT` (an IPv6 host in brackets).
    pub endpoint: String,
    /// The service name.
    pub service: String,
}

/// Why a URL is not `etcd://HOST:PORT/SERVICE_NAME`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlError {
    url: String,
    reason: String,
}

impl UrlError {
    fn new(url: &str, reason: impl Into<String>) -> UrlError {
        UrlError {
            url: url.to_owned(),
            reason: reason.into(),
        }
    }

    /// What is wrong with the URL, without the URL.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid etcd URL `{}`: {} (expected etcd://HOST:PORT/SERVICE_NAME)",
            self.url, self.reason
        )
    }
}

impl std::error::Error for UrlError {}

impl From<UrlError> for DiscoverError {
    fn from(e: UrlError) -> DiscoverError {
        DiscoverError::new(e.to_string())
    }
}

/// Parses `etcd://HOST:PORT/SERVICE_NAME` into the etcd endpoint
/// `HOST:PORT` and the service name.
///
/// HOST is a name, an IPv4 address or a bracketed IPv6 address; PORT is
/// required; the service name is one path segment (Kitex refuses a `/` in
/// it), with no query or fragment.
///
/// ```
/// let url = thriftgen_etcd::parse_etcd_url("etcd://127.0.0.1:2379/echo").unwrap();
/// assert_eq!(url.endpoint, "127.0.0.1:2379");
/// assert_eq!(url.service, "echo");
/// assert!(thriftgen_etcd::parse_etcd_url("etcd://127.0.0.1/echo").is_err());
/// ```
///
/// # Errors
///
/// A [`UrlError`] saying what is missing or wrong.
pub fn parse_etcd_url(url: &str) -> Result<EtcdUrl, UrlError> {
    let err = |reason: &str| UrlError::new(url, reason);
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| err("no scheme: it must start with etcd://"))?;
    if !scheme.eq_ignore_ascii_case("etcd") {
        return Err(err(&format!("the scheme is `{scheme}`, not `etcd`")));
    }
    if rest.contains(['?', '#']) {
        return Err(err("a query or fragment is not allowed"));
    }
    let (authority, path) = rest
        .split_once('/')
        .ok_or_else(|| err("no service name: add /SERVICE_NAME after HOST:PORT"))?;
    if authority.contains('@') {
        return Err(err("user information (user@) is not supported"));
    }
    if authority.is_empty() {
        return Err(err("no host"));
    }
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (ip, after) = bracketed
            .split_once(']')
            .ok_or_else(|| err("an IPv6 host is missing its `]`"))?;
        if ip.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(err(&format!("`{ip}` is not an IPv6 address")));
        }
        let port = after
            .strip_prefix(':')
            .ok_or_else(|| err("no port: etcd's client port is usually 2379"))?;
        (&authority[..ip.len() + 2], port)
    } else {
        let (host, port) = authority
            .rsplit_once(':')
            .ok_or_else(|| err("no port: etcd's client port is usually 2379"))?;
        if host.is_empty() {
            return Err(err("no host"));
        }
        if host.contains(':') {
            return Err(err("an IPv6 host must be in brackets, as in [::1]:2379"));
        }
        (host, port)
    };
    match port.parse::<u16>() {
        Ok(p) if p > 0 => {}
        _ => return Err(err(&format!("`{port}` is not a port (1 to 65535)"))),
    }
    let service = path.strip_suffix('/').unwrap_or(path);
    if service.is_empty() {
        return Err(err("no service name: add /SERVICE_NAME after HOST:PORT"));
    }
    if service.contains('/') {
        return Err(err(&format!(
            "the service name `{service}` contains `/`: it must be one path segment"
        )));
    }
    Ok(EtcdUrl {
        endpoint: format!("{host}:{port}"),
        service: service.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(url: &str) -> (String, String) {
        let u = parse_etcd_url(url).unwrap();
        (u.endpoint, u.service)
    }

    #[test]
    fn good_urls() {
        assert_eq!(
            ok("etcd://127.0.0.1:2379/echo"),
            ("127.0.0.1:2379".into(), "echo".into())
        );
        assert_eq!(
            ok("etcd://etcd.internal:2379/a.b-c_d"),
            ("etcd.internal:2379".into(), "a.b-c_d".into())
        );
        assert_eq!(
            ok("etcd://[::1]:2379/echo/"),
            ("[::1]:2379".into(), "echo".into())
        );
        assert_eq!(ok("ETCD://h:1/s"), ("h:1".into(), "s".into()));
    }

    #[test]
    fn bad_urls() {
        for (url, needle) in [
            ("127.0.0.1:2379/echo", "no scheme"),
            ("http://127.0.0.1:2379/echo", "not `etcd`"),
            ("etcd://127.0.0.1:2379", "no service name"),
            ("etcd://127.0.0.1:2379/", "no service name"),
            ("etcd://127.0.0.1/echo", "no port"),
            ("etcd://:2379/echo", "no host"),
            ("etcd:///echo", "no host"),
            ("etcd://127.0.0.1:0/echo", "not a port"),
            ("etcd://127.0.0.1:70000/echo", "not a port"),
            ("etcd://127.0.0.1:x/echo", "not a port"),
            ("etcd://127.0.0.1:2379/a/b", "contains `/`"),
            ("etcd://127.0.0.1:2379/echo?x=1", "query"),
            ("etcd://::1:2379/echo", "brackets"),
            ("etcd://[::1/echo", "`]`"),
            ("etcd://[nope]:1/echo", "not an IPv6"),
            ("etcd://[::1]/echo", "no port"),
            ("etcd://u@h:1/echo", "user"),
        ] {
            let e = parse_etcd_url(url).unwrap_err();
            assert!(e.reason().contains(needle), "{url}: {e}");
            assert!(e.to_string().contains("etcd://HOST:PORT/SERVICE_NAME"));
        }
    }
}
