//! [`ChaosProxy`]: a TCP proxy between clients and a server that injects seeded faults. A new
//! connection may be refused; then each request/response exchange on it draws a fault: its
//! bytes delayed, the connection reset mid-stream, the server's bytes truncated, the request
//! swallowed (the client hangs until its timeout), or the request forwarded and the answer
//! swallowed. WebSocket connections pass through it like any other.

use std::collections::HashMap;
use std::fmt;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use mizu_test_support::Rng;

/// What the proxy does to one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward both ways untouched.
    Clean,
    /// Close a new connection as soon as it is accepted.
    Refuse,
    /// Forward both ways, sleeping before each chunk.
    Delay,
    /// Forward until a byte budget in one direction is spent, then shut both sides down.
    Reset,
    /// Forward only part of the server's bytes, then close both sides.
    Truncate,
    /// Discard the client's request: the client waits until its own timeout.
    Hang,
    /// Forward the request to the server but discard its answer: the server acts, the client
    /// never hears of it and times out.
    Swallow,
}

const KINDS: [Fault; 7] = [
    Fault::Clean,
    Fault::Refuse,
    Fault::Delay,
    Fault::Reset,
    Fault::Truncate,
    Fault::Hang,
    Fault::Swallow,
];

/// Chance of each fault per new connection, in percent (they need not add up to 100: the rest
/// of the draw is [`Fault::Clean`]).
#[derive(Debug, Clone, Copy)]
pub struct FaultMix {
    pub refuse: u64,
    pub delay: u64,
    pub reset: u64,
    pub truncate: u64,
    pub hang: u64,
    pub swallow: u64,
}

impl Default for FaultMix {
    fn default() -> Self {
        FaultMix {
            refuse: 10,
            delay: 20,
            reset: 12,
            truncate: 10,
            hang: 6,
            swallow: 7,
        }
    }
}

impl FaultMix {
    fn pick(&self, rng: &mut Rng) -> Fault {
        let mut draw = rng.below(100);
        for (fault, percent) in [
            (Fault::Refuse, self.refuse),
            (Fault::Delay, self.delay),
            (Fault::Reset, self.reset),
            (Fault::Truncate, self.truncate),
            (Fault::Hang, self.hang),
            (Fault::Swallow, self.swallow),
        ] {
            if draw < percent {
                return fault;
            }
            draw -= percent;
        }
        Fault::Clean
    }
}

/// How many connections were refused and how many exchanges drew each other fault, counted
/// when the fault actually struck (a reset or a truncation whose budget the exchange never
/// reached is not counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultCounts {
    pub connections: u64,
    /// WebSocket handshakes (requests starting with `GET `) that reached the proxy.
    pub live_handshakes: u64,
    pub clean: u64,
    pub refused: u64,
    pub delayed: u64,
    pub reset: u64,
    pub truncated: u64,
    pub hung: u64,
    pub swallowed: u64,
}

impl FaultCounts {
    /// Faults that struck, of every kind.
    pub fn faults(&self) -> u64 {
        self.refused + self.delayed + self.reset + self.truncated + self.hung + self.swallowed
    }
}

impl fmt::Display for FaultCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} connections ({} refused, {} live handshakes); exchanges: {} clean, {} delayed, {} reset, {} truncated, {} hung, {} swallowed",
            self.connections,
            self.refused,
            self.live_handshakes,
            self.clean,
            self.delayed,
            self.reset,
            self.truncated,
            self.hung,
            self.swallowed
        )
    }
}

struct State {
    target: SocketAddr,
    seed: u64,
    mix: FaultMix,
    healthy: AtomicBool,
    stopped: AtomicBool,
    next_connection: AtomicU64,
    counts: [AtomicU64; KINDS.len()],
    connections: AtomicU64,
    live_handshakes: AtomicU64,
    /// Open sockets by connection, so that they can be cut all at once.
    open: Mutex<HashMap<u64, Vec<TcpStream>>>,
}

impl State {
    fn count(&self, fault: Fault) {
        let i = KINDS.iter().position(|k| *k == fault).unwrap_or(0);
        self.counts[i].fetch_add(1, Ordering::SeqCst);
    }

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

/// A fault-injecting TCP proxy; dropping it cuts every connection and stops it.
pub struct ChaosProxy {
    addr: SocketAddr,
    state: Arc<State>,
    accept: Option<JoinHandle<()>>,
}

impl ChaosProxy {
    /// Starts a proxy to `target` whose faults are drawn from `mix` with `seed` (the `k`-th
    /// exchange of connection `n` always draws the same fault for the same seed). It starts
    /// healthy.
    pub fn start(target: SocketAddr, seed: u64, mix: FaultMix) -> ChaosProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("the chaos proxy binds");
        let addr = listener
            .local_addr()
            .expect("the chaos proxy has an address");
        let state = Arc::new(State {
            target,
            seed,
            mix,
            healthy: AtomicBool::new(true),
            stopped: AtomicBool::new(false),
            next_connection: AtomicU64::new(0),
            counts: Default::default(),
            connections: AtomicU64::new(0),
            live_handshakes: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
        });
        let accept = {
            let state = state.clone();
            thread::spawn(move || accept_loop(&listener, &state))
        };
        ChaosProxy {
            addr,
            state,
            accept: Some(accept),
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/_sync", self.addr)
    }

    pub fn ws_url(&self, scope: &str) -> String {
        format!("ws://{}/ws?scope={scope}", self.addr)
    }

    /// Turns fault injection on (`false`) or off (`true`). Either way every open connection is
    /// cut, so that no connection keeps a fault drawn under the other setting.
    pub fn set_healthy(&self, healthy: bool) {
        self.state.healthy.store(healthy, Ordering::SeqCst);
        self.state.cut_all();
    }

    /// The faults that struck so far.
    pub fn counts(&self) -> FaultCounts {
        let c = |f: Fault| {
            let i = KINDS.iter().position(|k| *k == f).unwrap_or(0);
            self.state.counts[i].load(Ordering::SeqCst)
        };
        FaultCounts {
            connections: self.state.connections.load(Ordering::SeqCst),
            live_handshakes: self.state.live_handshakes.load(Ordering::SeqCst),
            clean: c(Fault::Clean),
            refused: c(Fault::Refuse),
            delayed: c(Fault::Delay),
            reset: c(Fault::Reset),
            truncated: c(Fault::Truncate),
            hung: c(Fault::Hang),
            swallowed: c(Fault::Swallow),
        }
    }
}

impl Drop for ChaosProxy {
    fn drop(&mut self) {
        self.state.stopped.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        self.state.cut_all();
    }
}

fn accept_loop(listener: &TcpListener, state: &Arc<State>) {
    for client in listener.incoming() {
        if state.stopped.load(Ordering::SeqCst) {
            break;
        }
        let Ok(client) = client else { continue };
        let id = state.next_connection.fetch_add(1, Ordering::SeqCst);
        state.connections.fetch_add(1, Ordering::SeqCst);
        let mut rng = Rng::derive(state.seed, id);
        let _ = client.set_nodelay(true);
        if !state.healthy.load(Ordering::SeqCst) && rng.below(100) < state.mix.refuse {
            state.count(Fault::Refuse);
            let _ = client.shutdown(Shutdown::Both);
            continue;
        }
        connect(state, id, client, rng);
    }
}

/// Connects to the target and starts the two pipes of a forwarded connection.
fn connect(state: &Arc<State>, id: u64, client: TcpStream, rng: Rng) {
    let Ok(server) = TcpStream::connect_timeout(&state.target, Duration::from_secs(2)) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let _ = server.set_nodelay(true);
    let (Ok(client2), Ok(server2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    state.register(id, &[&client, &server]);
    let exchange = Arc::new(Mutex::new(Exchange {
        rng,
        fault: Fault::Clean,
        budget: 0,
        reset_upstream: false,
        sent: 0,
        awaiting_request: true,
    }));
    let remaining = Arc::new(AtomicUsize::new(2));
    for (upstream, from, to) in [(true, client, server), (false, server2, client2)] {
        let pipe = Pipe {
            state: state.clone(),
            exchange: exchange.clone(),
            upstream,
        };
        let (state, remaining) = (state.clone(), remaining.clone());
        thread::spawn(move || {
            pipe.run(from, to);
            if remaining.fetch_sub(1, Ordering::SeqCst) == 1 {
                state.forget(id);
            }
        });
    }
}

/// The fault of the current request/response exchange of one connection. A new exchange
/// starts when the client sends after the server has answered (HTTP/1.1 keep-alive does not
/// pipeline), so that a long-lived connection keeps drawing faults.
struct Exchange {
    rng: Rng,
    fault: Fault,
    /// Bytes a reset or truncation lets through before it strikes.
    budget: u64,
    /// Whether a reset strikes the request (else the response).
    reset_upstream: bool,
    /// Bytes forwarded in the direction the budget applies to.
    sent: u64,
    awaiting_request: bool,
}

/// What to do with one chunk.
enum Step {
    Forward {
        delay: Option<Duration>,
    },
    /// Forward this many bytes, then cut the connection.
    Strike(usize),
    Discard,
}

impl Exchange {
    fn begin(&mut self, state: &State) {
        self.fault = if state.healthy.load(Ordering::SeqCst) {
            Fault::Clean
        } else {
            match state.mix.pick(&mut self.rng) {
                // A refusal of a connection already open is a reset before the first byte.
                Fault::Refuse => Fault::Reset,
                f => f,
            }
        };
        self.reset_upstream = self.rng.chance(50);
        self.budget = match self.fault {
            Fault::Reset if self.reset_upstream => self.rng.between(0, 300),
            Fault::Reset => self.rng.between(0, 600),
            _ => self.rng.between(1, 400),
        };
        self.sent = 0;
        self.awaiting_request = false;
        if matches!(
            self.fault,
            Fault::Clean | Fault::Delay | Fault::Hang | Fault::Swallow
        ) {
            state.count(self.fault);
        }
    }

    fn step(&mut self, state: &State, upstream: bool, len: usize) -> Step {
        if upstream && self.awaiting_request {
            self.begin(state);
        }
        if !upstream {
            self.awaiting_request = true;
        }
        let budgeted = match self.fault {
            Fault::Reset => self.reset_upstream == upstream,
            Fault::Truncate => !upstream,
            _ => false,
        };
        match self.fault {
            Fault::Hang if upstream => Step::Discard,
            Fault::Swallow if !upstream => {
                // The client never hears: no new exchange starts on this connection.
                self.awaiting_request = false;
                Step::Discard
            }
            Fault::Delay => Step::Forward {
                delay: Some(Duration::from_millis(self.rng.between(5, 150))),
            },
            _ if budgeted => {
                let left = self.budget.saturating_sub(self.sent);
                if len as u64 >= left {
                    state.count(self.fault);
                    Step::Strike(left as usize)
                } else {
                    self.sent += len as u64;
                    Step::Forward { delay: None }
                }
            }
            _ => Step::Forward { delay: None },
        }
    }
}

/// One direction of a forwarded connection.
struct Pipe {
    state: Arc<State>,
    exchange: Arc<Mutex<Exchange>>,
    upstream: bool,
}

impl Pipe {
    fn run(self, mut from: TcpStream, mut to: TcpStream) {
        let mut buf = [0u8; 8 * 1024];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if self.upstream && buf[..n].starts_with(b"GET ") {
                self.state.live_handshakes.fetch_add(1, Ordering::SeqCst);
            }
            let step = self
                .exchange
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .step(&self.state, self.upstream, n);
            match step {
                Step::Discard => {}
                Step::Forward { delay } => {
                    if let Some(delay) = delay {
                        thread::sleep(delay);
                    }
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
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
    }
}
