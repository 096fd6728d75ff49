//! `thrift-test-client` from the outside: its command line, and its report
//! when there is no usable server. (Its checks themselves run against real
//! servers in `interop/run.sh`.)

use std::net::TcpListener;
use std::process::{Command, Output};

fn client(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_thrift-test-client"))
        .args(args)
        .output()
        .expect("thrift-test-client runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

/// `passed` and `failed` from the last line, `N passed, N failed`.
fn summary(output: &Output) -> (usize, usize) {
    let text = stdout(output);
    let last = text.lines().last().unwrap_or_default();
    last.strip_suffix(" failed")
        .and_then(|rest| rest.split_once(" passed, "))
        .and_then(|(passed, failed)| Some((passed.parse().ok()?, failed.parse().ok()?)))
        .unwrap_or_else(|| panic!("last line {last:?} is not `N passed, N failed`"))
}

#[test]
fn help_shows_the_apache_defaults() {
    let output = client(&["--help"]);
    assert!(output.status.success());
    let help = stdout(&output);
    for default in ["localhost", "9090", "binary", "buffered"] {
        assert!(
            help.contains(&format!("[default: {default}]")),
            "no default {default} in:\n{help}"
        );
    }
    for transport in ["framed", "header", "ttheader"] {
        assert!(help.contains(transport), "no {transport} in:\n{help}");
    }
    for protocol in ["compact", "json"] {
        assert!(help.contains(protocol), "no {protocol} in:\n{help}");
    }
}

#[test]
fn rejects_what_it_does_not_know() {
    for args in [
        &["--protocol", "xml"][..],
        &["--transport", "http"],
        &["--port", "65536"],
        &["--timeout", "5"], // testOneway needs more
        &["--only", "testNothing"],
    ] {
        let output = client(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn no_server_is_one_failure() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port().to_string()
    };
    let output = client(&["--host", "127.0.0.1", "--port", &port]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.lines().any(|line| line.starts_with("FAIL connect: ")),
        "{text}"
    );
    assert_eq!(summary(&output), (0, 1));
}

#[test]
fn a_server_that_hangs_up_fails_every_check() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    // Accepts each connection and closes it at once.
    std::thread::spawn(move || listener.incoming().for_each(drop));

    let output = client(&["--host", "127.0.0.1", "--port", &port]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let fails = text.lines().filter(|l| l.starts_with("FAIL ")).count();
    let (passed, failed) = summary(&output);
    assert_eq!((passed, failed), (0, fails), "{text}");
    assert!(fails > 20, "{text}");

    let output = client(&["--host", "127.0.0.1", "--port", &port, "--only", "testVoid"]);
    let text = stdout(&output);
    assert!(
        text.lines().any(|l| l.starts_with("FAIL testVoid: ")),
        "{text}"
    );
    assert_eq!(summary(&output), (0, 1), "{text}");
}
