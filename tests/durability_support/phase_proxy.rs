//! A TCP proxy between the child and the server that tracks, per connection, which sync
//! request is in flight: from the first byte of the request until the last byte of its
//! response has been passed back. At a kill, [`PhaseProxy::in_flight`] says whether a push, a
//! pull or a snapshot was under way.
//!
//! HTTP/1.1 with keep-alive and one request at a time per connection (what the client does):
//! bytes from the client after a response began start the next request; the response ends
//! after its head and `Content-Length` body bytes (the reference server always sends one).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use mizu_test_support::proxy::{Policy, Proxy, Step};

/// A sync request kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    Push,
    Pull,
    Snapshot,
    Other,
}

impl Op {
    fn from_request(head: &[u8]) -> Op {
        let line = head.split(|&b| b == b'\r').next().unwrap_or_default();
        let line = String::from_utf8_lossy(line);
        let path = line.split(' ').nth(1).unwrap_or_default();
        if path.ends_with("/push") {
            Op::Push
        } else if path.ends_with("/pull") {
            Op::Pull
        } else if path.ends_with("/snapshot") {
            Op::Snapshot
        } else {
            Op::Other
        }
    }
}

/// Where one connection is.
#[derive(Debug, Default)]
struct Exchange {
    /// The request in flight, if any.
    op: Option<Op>,
    /// The request head seen so far (until its first line is complete).
    request_head: Vec<u8>,
    /// Whether the request's kind is known (and counted).
    counted: bool,
    /// Whether response bytes flowed since the request began.
    responding: bool,
    /// The response head seen so far (until `\r\n\r\n`).
    response_head: Vec<u8>,
    /// Body bytes of the response still to come, once its head is complete.
    body_left: Option<usize>,
}

impl Exchange {
    /// Notes request bytes; returns the request's kind once its first line is complete.
    fn client_sent(&mut self, bytes: &[u8]) -> Option<Op> {
        if self.op.is_none() || self.responding {
            *self = Exchange {
                op: Some(Op::Other),
                ..Exchange::default()
            };
        }
        if self.counted {
            return None;
        }
        self.request_head.extend_from_slice(bytes);
        if !self.request_head.contains(&b'\r') && self.request_head.len() < 512 {
            return None;
        }
        let op = Op::from_request(&self.request_head);
        self.op = Some(op);
        self.counted = true;
        Some(op)
    }

    /// Notes response bytes; returns the request's kind when its response is complete.
    fn server_sent(&mut self, bytes: &[u8]) -> Option<Op> {
        self.op?;
        self.responding = true;
        let body_bytes = match self.body_left {
            Some(_) => bytes.len(),
            None => {
                self.response_head.extend_from_slice(bytes);
                let end = find(&self.response_head, b"\r\n\r\n")?;
                let head = String::from_utf8_lossy(&self.response_head[..end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                self.body_left = Some(length);
                self.response_head.len() - (end + 4)
            }
        };
        let left = self.body_left.as_mut()?;
        *left = left.saturating_sub(body_bytes);
        if *left == 0 {
            self.op.take()
        } else {
            None
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// What passed through the proxy.
#[derive(Debug, Default)]
pub struct Traffic {
    exchanges: BTreeMap<u64, Exchange>,
    requests: BTreeMap<Op, u64>,
    answered: BTreeMap<Op, u64>,
    last_answer: Option<Instant>,
}

impl Traffic {
    /// The requests in flight, over all connections.
    pub fn in_flight(&self) -> Vec<Op> {
        self.exchanges.values().filter_map(|e| e.op).collect()
    }

    /// How many responses to `op` requests were passed back completely.
    pub fn answered(&self, op: Op) -> u64 {
        self.answered.get(&op).copied().unwrap_or(0)
    }

    /// When the last response was passed back completely.
    pub fn last_answer(&self) -> Option<Instant> {
        self.last_answer
    }
}

#[derive(Default)]
struct Observer {
    traffic: Mutex<Traffic>,
    changed: Condvar,
}

impl Observer {
    fn lock(&self) -> MutexGuard<'_, Traffic> {
        self.traffic.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn update(&self, f: impl FnOnce(&mut Traffic)) {
        f(&mut self.lock());
        self.changed.notify_all();
    }
}

impl Policy for Observer {
    /// The connection's number.
    type Connection = u64;

    fn accept(&self, id: u64) -> Option<u64> {
        self.update(|t| {
            t.exchanges.insert(id, Exchange::default());
        });
        Some(id)
    }

    /// A request counts as in flight before the server can have any of it.
    fn chunk(&self, id: &mut u64, upstream: bool, bytes: &[u8]) -> Step {
        if upstream {
            self.update(|t| {
                let op = t.exchanges.get_mut(id).and_then(|e| e.client_sent(bytes));
                if let Some(op) = op {
                    *t.requests.entry(op).or_default() += 1;
                }
            });
        }
        Step::FORWARD
    }

    /// A response counts as delivered only once the client can have all of it.
    fn forwarded(&self, id: &mut u64, upstream: bool, bytes: &[u8]) {
        if !upstream {
            self.update(|t| {
                let op = t.exchanges.get_mut(id).and_then(|e| e.server_sent(bytes));
                if let Some(op) = op {
                    *t.answered.entry(op).or_default() += 1;
                    t.last_answer = Some(Instant::now());
                }
            });
        }
    }

    fn direction_closed(&self, id: &mut u64, upstream: bool) {
        if upstream {
            // The client is gone (or done): nothing it asked for is in flight for it any more.
            self.update(|t| {
                t.exchanges.remove(id);
            });
        }
    }
}

/// The proxy; stops accepting and cuts its connections when dropped.
pub struct PhaseProxy(Proxy<Observer>);

impl PhaseProxy {
    /// Listens on a free 127.0.0.1 port and forwards every connection to `target`.
    pub fn start(target: SocketAddr) -> PhaseProxy {
        PhaseProxy(Proxy::start(target, Observer::default()))
    }

    /// The sync base URL through the proxy.
    pub fn base_url(&self) -> String {
        self.0.base_url()
    }

    /// Reads the traffic now.
    pub fn observe<R>(&self, f: impl FnOnce(&Traffic) -> R) -> R {
        f(&self.0.policy().lock())
    }

    /// Waits until `condition` holds for the traffic (checked at each change) or `deadline`
    /// passes; returns whether it held.
    pub fn wait_until(
        &self,
        deadline: Instant,
        mut condition: impl FnMut(&Traffic) -> bool,
    ) -> bool {
        let mut traffic = self.0.policy().lock();
        loop {
            if condition(&traffic) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            traffic = self
                .0
                .policy()
                .changed
                .wait_timeout(traffic, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// How many requests of each kind passed so far.
    pub fn requests(&self) -> BTreeMap<Op, u64> {
        self.0.policy().lock().requests.clone()
    }
}
