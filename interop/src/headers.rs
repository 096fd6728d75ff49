//! The header check of the interop suite, the same on both sides as in
//! `interop/python/common.py`: over THeader (and TTHeader) a client sends
//! [`REQUEST`] with `testString("headers")`; a server that finds them checks
//! that each came through exactly, and answers with [`REPLY`] and
//! [`CHECK_KEY`] saying `ok` or what differed; the client checks that it
//! got those exactly. Keys and values are byte strings: a key that is not
//! UTF-8, a value with NUL and 0xff bytes, an empty value.

use thriftgen_runtime::service::CallContext;
use thriftgen_runtime::transport::Headers;

/// What the client sends.
pub const REQUEST: &[(&[u8], &[u8])] = &[
    (b"interop-\xff\xfe", b"non-UTF-8 key"),
    (b"interop-binary", b"\x00\x01\xff"),
    (b"interop-empty", b""),
];

/// What a server answers with, besides [`CHECK_KEY`].
pub const REPLY: &[(&[u8], &[u8])] = &[
    (b"interop-reply-\xfe\xff", b"non-UTF-8 key"),
    (b"interop-reply-binary", b"\xff\x00\x01"),
    (b"interop-reply-empty", b""),
];

/// The reply header with the server's verdict: `ok`, or what differed.
pub const CHECK_KEY: &[u8] = b"interop-check";

/// The prefix of every key of the check.
const PREFIX: &[u8] = b"interop-";

/// Checks that `headers` hold `want` exactly: each key with its value, and
/// no other key of the check (`skip` keys aside).
pub fn compare(headers: &Headers, want: &[(&[u8], &[u8])], skip: &[&[u8]]) -> Result<(), String> {
    for &(key, value) in want {
        match headers.get(key) {
            Some(got) if got == value => {}
            Some(got) => {
                return Err(format!(
                    "header {:?} is {:?}, expected {:?}",
                    key.escape_ascii().to_string(),
                    got.escape_ascii().to_string(),
                    value.escape_ascii().to_string()
                ))
            }
            None => {
                return Err(format!(
                    "no header {:?} (got {headers:?})",
                    key.escape_ascii().to_string()
                ))
            }
        }
    }
    for (key, _) in headers.iter() {
        let known = want.iter().any(|&(k, _)| k == &key[..]) || skip.contains(&&key[..]);
        if key.starts_with(PREFIX) && !known {
            return Err(format!(
                "unexpected header {:?}",
                key.escape_ascii().to_string()
            ));
        }
    }
    Ok(())
}

/// What a server does with every call: when the request carries headers of
/// the check, answer with [`REPLY`] and the verdict under [`CHECK_KEY`].
pub fn answer(ctx: &CallContext) {
    let headers = ctx.headers();
    if !headers.iter().any(|(key, _)| key.starts_with(PREFIX)) {
        return;
    }
    let verdict = match compare(headers, REQUEST, &[]) {
        Ok(()) => "ok".to_string(),
        Err(why) => format!("mismatch: {why}"),
    };
    let mut reply = ctx.reply_headers();
    for &(key, value) in REPLY {
        reply.insert(key, value);
    }
    reply.insert(CHECK_KEY, verdict);
}
