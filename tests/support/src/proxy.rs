//! [`Proxy`]: a TCP proxy on 127.0.0.1 between clients and a server, whose [`Policy`] sees every
//! connection and every chunk and decides what happens to it: forward it (now or after a
//! delay), discard it, or forward part of it and cut the connection. The chaos suite's fault
//! injection, the durability suite's phase observer and the client suite's "server down"
//! switch are policies of this one proxy.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// What to do with one chunk read from one side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Forward it, after sleeping `delay` if any.
    Forward { delay: Option<Duration> },
    /// Forward this many bytes of it, then cut the connection (both sides).
    Strike(usize),
    /// Drop it.
    Discard,
}

impl Step {
    pub const FORWARD: Step = Step::Forward { delay: None };
}

/// Decides the fate of connections and chunks. `upstream` is true for the client's bytes.
pub trait Policy: Send + Sync + 'static {
    /// The state of one forwarded connection, shared by its two directions.
    type Connection: Send + 'static;

    /// A client connected (connection `id`, numbered from 0): its state, or `None` to refuse
    /// the connection (it is closed at once).
    fn accept(&self, id: u64) -> Option<Self::Connection>;

    /// A chunk was read; returns what to do with it.
    fn chunk(&self, _conn: &mut Self::Connection, _upstream: bool, _bytes: &[u8]) -> Step {
        Step::FORWARD
    }

    /// A chunk was forwarded whole (written to the other side).
    fn forwarded(&self, _conn: &mut Self::Connection, _upstream: bool, _bytes: &[u8]) {}

    /// One direction ended (its side closed, or the connection was cut).
    fn direction_closed(&self, _conn: &mut Self::Connection, _upstream: bool) {}
}

/// How a proxy reaches its server and reads.
#[derive(Debug, Clone, Copy)]
pub struct ProxyOptions {
    /// Bound on connecting to the server (`None`: the system's).
    pub connect_timeout: Option<Duration>,
    /// Sets TCP_NODELAY on both sides.
    pub nodelay: bool,
    /// The size of each read.
    pub chunk: usize,
}

impl Default for ProxyOptions {
    fn default() -> Self {
        ProxyOptions {
            connect_timeout: None,
            nodelay: false,
            chunk: 16 * 1024,
        }
    }
}

struct Inner<P> {
    target: SocketAddr,
    options: ProxyOptions,
    policy: P,
    stopped: AtomicBool,
    accepted: AtomicU64,
    /// Open sockets by connection, so that they can be cut all at once.
    open: Mutex<HashMap<u64, Vec<TcpStream>>>,
}

/// A TCP proxy to one server; dropping it stops accepting and cuts every connection.
pub struct Proxy<P: Policy> {
    addr: SocketAddr,
    inner: Arc<Inner<P>>,
    accept: Option<JoinHandle<()>>,
}

impl<P: Policy> Proxy<P> {
    /// Listens on a free 127.0.0.1 port and forwards what `policy` lets through to `target`.
    pub fn start(target: SocketAddr, policy: P) -> Proxy<P> {
        Proxy::start_with(target, policy, ProxyOptions::default())
    }

    pub fn start_with(target: SocketAddr, policy: P, options: ProxyOptions) -> Proxy<P> {
        let listener = TcpListener::bind("127.0.0.1:0").expect("the proxy binds");
        let addr = listener.local_addr().expect("the proxy has an address");
        let inner = Arc::new(Inner {
            target,
            options,
            policy,
            stopped: AtomicBool::new(false),
            accepted: AtomicU64::new(0),
            open: Mutex::default(),
        });
        let accepting = Arc::clone(&inner);
        let accept = thread::spawn(move || accept_loop(&listener, &accepting));
        Proxy {
            addr,
            inner,
            accept: Some(accept),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The sync base URL through the proxy.
    pub fn base_url(&self) -> String {
        format!("http://{}/_sync", self.addr)
    }

    /// The live URL of `scope` through the proxy.
    pub fn ws_url(&self, scope: &str) -> String {
        format!("ws://{}/ws?scope={scope}", self.addr)
    }

    pub fn policy(&self) -> &P {
        &self.inner.policy
    }

    /// Connections accepted so far (refused ones included).
    pub fn accepted(&self) -> u64 {
        self.inner.accepted.load(Ordering::SeqCst)
    }

    /// Resets every open connection.
    pub fn cut_all(&self) {
        self.inner.cut_all();
    }
}

impl<P: Policy> Drop for Proxy<P> {
    fn drop(&mut self) {
        self.inner.stopped.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which then sees `stopped`.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        self.inner.cut_all();
    }
}

impl<P: Policy> Inner<P> {
    fn register(&self, id: u64, streams: &[&TcpStream]) {
        let clones = streams.iter().filter_map(|s| s.try_clone().ok()).collect();
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, clones);
    }

    fn forget(&self, id: u64) {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
    }

    fn cut_all(&self) {
        let open: Vec<_> = self
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
            .collect();
        for (_, streams) in open {
            for s in streams {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
    }
}

fn accept_loop<P: Policy>(listener: &TcpListener, inner: &Arc<Inner<P>>) {
    for client in listener.incoming() {
        if inner.stopped.load(Ordering::SeqCst) {
            break;
        }
        let Ok(client) = client else { continue };
        let id = inner.accepted.fetch_add(1, Ordering::SeqCst);
        if inner.options.nodelay {
            let _ = client.set_nodelay(true);
        }
        match inner.policy.accept(id) {
            Some(conn) => connect(inner, id, client, conn),
            None => {
                let _ = client.shutdown(Shutdown::Both);
            }
        }
    }
}

/// Connects to the target and starts the two pipes of a forwarded connection.
fn connect<P: Policy>(inner: &Arc<Inner<P>>, id: u64, client: TcpStream, conn: P::Connection) {
    let server = match inner.options.connect_timeout {
        Some(timeout) => TcpStream::connect_timeout(&inner.target, timeout),
        None => TcpStream::connect(inner.target),
    };
    let Ok(server) = server else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    if inner.options.nodelay {
        let _ = server.set_nodelay(true);
    }
    let (Ok(client2), Ok(server2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    inner.register(id, &[&client, &server]);
    let conn = Arc::new(Mutex::new(conn));
    let remaining = Arc::new(AtomicUsize::new(2));
    for (upstream, from, to) in [(true, client, server), (false, server2, client2)] {
        let (inner, conn, remaining) = (inner.clone(), conn.clone(), remaining.clone());
        thread::spawn(move || {
            pipe(&inner, &conn, upstream, from, to);
            inner.policy.direction_closed(
                &mut conn.lock().unwrap_or_else(PoisonError::into_inner),
                upstream,
            );
            if remaining.fetch_sub(1, Ordering::SeqCst) == 1 {
                inner.forget(id);
            }
        });
    }
}

/// Copies one direction until either side closes, as the policy says.
fn pipe<P: Policy>(
    inner: &Inner<P>,
    conn: &Mutex<P::Connection>,
    upstream: bool,
    mut from: TcpStream,
    mut to: TcpStream,
) {
    let lock = || conn.lock().unwrap_or_else(PoisonError::into_inner);
    let mut buf = vec![0u8; inner.options.chunk];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let step = inner.policy.chunk(&mut lock(), upstream, &buf[..n]);
        match step {
            Step::Discard => {}
            Step::Forward { delay } => {
                if let Some(delay) = delay {
                    thread::sleep(delay);
                }
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
                inner.policy.forwarded(&mut lock(), upstream, &buf[..n]);
            }
            Step::Strike(keep) => {
                let _ = to.write_all(&buf[..keep]);
                let _ = to.shutdown(Shutdown::Both);
                let _ = from.shutdown(Shutdown::Both);
                return;
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
    let _ = from.shutdown(Shutdown::Read);
}
