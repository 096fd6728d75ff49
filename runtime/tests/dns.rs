//! DNS discovery: the A/AAAA records of `localhost:port`, and (feature
//! `dns-srv`) SRV records from a small DNS responder in the test, whose
//! answers change while the stream watches.

use std::future::poll_fn;
use std::net::SocketAddr;
use std::time::Duration;
use thriftgen_runtime::discover::{Discover, DiscoverError, DnsDiscover, Instance, InstanceStream};

async fn next(stream: &mut InstanceStream) -> Option<Result<Vec<Instance>, DiscoverError>> {
    poll_fn(|cx| stream.as_mut().poll_next(cx)).await
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn localhost_resolves_once_until_it_changes() {
    rt().block_on(async {
        let discover = DnsDiscover::new("localhost:4321")
            .interval(Duration::from_millis(20))
            .weight(3);
        let mut stream = discover.watch();
        let set = tokio::time::timeout(Duration::from_secs(10), next(&mut stream))
            .await
            .expect("an answer in time")
            .expect("a first set")
            .expect("localhost resolves");
        assert!(!set.is_empty());
        for instance in &set {
            assert!(instance.addr.ip().is_loopback(), "{instance:?}");
            assert_eq!(instance.addr.port(), 4321);
            assert_eq!(instance.weight, 3);
        }
        let mut sorted = set.clone();
        sorted.sort();
        assert_eq!(sorted, set, "sorted");
        // The same answer again and again: nothing more is yielded.
        let again = tokio::time::timeout(Duration::from_millis(200), next(&mut stream)).await;
        assert!(again.is_err(), "an unchanged set is not yielded: {again:?}");
    });
}

#[test]
fn a_failed_lookup_is_an_error_item() {
    rt().block_on(async {
        let mut stream = DnsDiscover::new("no-such-host.invalid:80").watch();
        let first = tokio::time::timeout(Duration::from_secs(20), next(&mut stream))
            .await
            .expect("an answer in time")
            .expect("an item");
        assert!(first.is_err(), "{first:?}");
        let mut stream = DnsDiscover::new("not an address").watch();
        assert!(next(&mut stream).await.unwrap().is_err());
    });
}

#[test]
fn literal_addresses_resolve_to_themselves() {
    rt().block_on(async {
        let mut stream = DnsDiscover::new("[::1]:9").watch();
        let set = next(&mut stream).await.unwrap().unwrap();
        let addr: SocketAddr = "[::1]:9".parse().unwrap();
        assert_eq!(set, vec![Instance::new(addr)]);
    });
}

#[cfg(feature = "dns-srv")]
mod srv {
    use super::*;
    use std::net::{Ipv4Addr, UdpSocket};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    /// One SRV record: priority, weight, port, target.
    type Srv = (u16, u16, u16, &'static str);

    /// Answers SRV queries for `_echo._tcp.example.test` with the records
    /// set now, and A queries for `a.example.test` (127.0.0.1) and
    /// `b.example.test` (127.0.0.2); anything else gets no answer records.
    struct Responder {
        addr: SocketAddr,
        records: Arc<Mutex<Vec<Srv>>>,
        stop: Arc<AtomicBool>,
        thread: Option<std::thread::JoinHandle<()>>,
    }

    impl Drop for Responder {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::SeqCst);
            if let Some(thread) = self.thread.take() {
                let _ = thread.join();
            }
        }
    }

    fn name(out: &mut Vec<u8>, name: &str) {
        for label in name.trim_end_matches('.').split('.') {
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
        out.push(0);
    }

    /// The question's name (lowercase, dotted), its type, and where the
    /// question ends.
    fn question(query: &[u8]) -> Option<(String, u16, usize)> {
        let mut at = 12;
        let mut labels = Vec::new();
        loop {
            let len = usize::from(*query.get(at)?);
            at += 1;
            if len == 0 {
                break;
            }
            labels.push(String::from_utf8_lossy(query.get(at..at + len)?).to_lowercase());
            at += len;
        }
        let qtype = u16::from_be_bytes([*query.get(at)?, *query.get(at + 1)?]);
        Some((labels.join("."), qtype, at + 4))
    }

    fn answer(query: &[u8], records: &[Srv]) -> Option<Vec<u8>> {
        let (qname, qtype, end) = question(query)?;
        let mut answers: Vec<(u16, Vec<u8>)> = Vec::new();
        match (qname.as_str(), qtype) {
            ("_echo._tcp.example.test", 33) => {
                for &(priority, weight, port, target) in records {
                    let mut rdata = Vec::new();
                    rdata.extend_from_slice(&priority.to_be_bytes());
                    rdata.extend_from_slice(&weight.to_be_bytes());
                    rdata.extend_from_slice(&port.to_be_bytes());
                    name(&mut rdata, target);
                    answers.push((33, rdata));
                }
            }
            ("a.example.test", 1) => {
                answers.push((1, Ipv4Addr::new(127, 0, 0, 1).octets().to_vec()))
            }
            ("b.example.test", 1) => {
                answers.push((1, Ipv4Addr::new(127, 0, 0, 2).octets().to_vec()))
            }
            _ => {}
        }
        let mut out = Vec::new();
        out.extend_from_slice(&query[..2]); // id
        out.extend_from_slice(&[0x81, 0x80]); // a response, recursion available, NOERROR
        out.extend_from_slice(&1u16.to_be_bytes());
        out.extend_from_slice(&(answers.len() as u16).to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(&query[12..end]);
        for (rtype, rdata) in answers {
            out.extend_from_slice(&[0xc0, 12]); // the question's name
            out.extend_from_slice(&rtype.to_be_bytes());
            out.extend_from_slice(&1u16.to_be_bytes()); // IN
            out.extend_from_slice(&1u32.to_be_bytes()); // TTL 1 s
            out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            out.extend_from_slice(&rdata);
        }
        Some(out)
    }

    fn responder(records: Vec<Srv>) -> Responder {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let addr = socket.local_addr().unwrap();
        let records = Arc::new(Mutex::new(records));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (records, stop) = (Arc::clone(&records), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut buf = [0u8; 1500];
                while !stop.load(Ordering::SeqCst) {
                    let Ok((n, from)) = socket.recv_from(&mut buf) else {
                        continue;
                    };
                    let records = records.lock().unwrap().clone();
                    if let Some(reply) = answer(&buf[..n], &records) {
                        let _ = socket.send_to(&reply, from);
                    }
                }
            })
        };
        Responder {
            addr,
            records,
            stop,
            thread: Some(thread),
        }
    }

    fn at(ip: [u8; 4], port: u16, weight: u32) -> Instance {
        Instance::new(SocketAddr::from((ip, port))).with_weight(weight)
    }

    #[test]
    fn srv_records_with_weights_ports_and_changes() {
        let dns = responder(vec![
            (10, 5, 9001, "a.example.test."),
            (10, 0, 9002, "b.example.test."),
            // A backup: a higher priority number, not used.
            (20, 100, 9003, "a.example.test."),
        ]);
        rt().block_on(async {
            let discover = DnsDiscover::srv("_echo._tcp.example.test.")
                .nameservers([dns.addr])
                .interval(Duration::from_millis(50));
            let mut stream = discover.watch();
            let first = tokio::time::timeout(Duration::from_secs(10), next(&mut stream))
                .await
                .expect("an answer in time")
                .unwrap()
                .expect("the SRV set");
            assert_eq!(
                first,
                vec![at([127, 0, 0, 1], 9001, 5), at([127, 0, 0, 2], 9002, 1)]
            );
            // The records change: the next set is yielded once the cached
            // answer expires.
            *dns.records.lock().unwrap() = vec![(1, 7, 9100, "b.example.test.")];
            let changed = tokio::time::timeout(Duration::from_secs(10), next(&mut stream))
                .await
                .expect("the change in time")
                .unwrap()
                .expect("the new set");
            assert_eq!(changed, vec![at([127, 0, 0, 2], 9100, 7)]);
            // No records at all: an error, and the client keeps its set.
            dns.records.lock().unwrap().clear();
            let empty = tokio::time::timeout(Duration::from_secs(10), next(&mut stream))
                .await
                .expect("an item in time")
                .unwrap();
            assert!(empty.is_err(), "{empty:?}");
        });
    }
}
