//! [`ChaosProxy`]: a TCP proxy between clients and a server that injects seeded faults. A new
//! connection may be refused; then each request/response exchange on it draws a fault: its
//! bytes delayed, the connection reset mid-stream, the server's bytes truncated, the request
//! swallowed (the client hangs until its timeout), or the request forwarded and the answer
//! swallowed. WebSocket connections pass through it like any other.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use mizu_test_support::proxy::{Policy, Proxy, ProxyOptions, Step};
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

/// The chaos policy: its settings and what it counted.
struct Chaos {
    seed: u64,
    mix: FaultMix,
    healthy: AtomicBool,
    counts: [AtomicU64; KINDS.len()],
    live_handshakes: AtomicU64,
}

impl Chaos {
    fn count(&self, fault: Fault) {
        let i = KINDS.iter().position(|k| *k == fault).unwrap_or(0);
        self.counts[i].fetch_add(1, Ordering::SeqCst);
    }
}

impl Policy for Chaos {
    type Connection = Exchange;

    fn accept(&self, id: u64) -> Option<Exchange> {
        let mut rng = Rng::derive(self.seed, id);
        if !self.healthy.load(Ordering::SeqCst) && rng.below(100) < self.mix.refuse {
            self.count(Fault::Refuse);
            return None;
        }
        Some(Exchange {
            rng,
            fault: Fault::Clean,
            budget: 0,
            reset_upstream: false,
            sent: 0,
            awaiting_request: true,
        })
    }

    fn chunk(&self, exchange: &mut Exchange, upstream: bool, bytes: &[u8]) -> Step {
        if upstream && bytes.starts_with(b"GET ") {
            self.live_handshakes.fetch_add(1, Ordering::SeqCst);
        }
        exchange.step(self, upstream, bytes.len())
    }
}

/// A fault-injecting TCP proxy; dropping it cuts every connection and stops it.
pub struct ChaosProxy(Proxy<Chaos>);

impl ChaosProxy {
    /// Starts a proxy to `target` whose faults are drawn from `mix` with `seed` (the `k`-th
    /// exchange of connection `n` always draws the same fault for the same seed). It starts
    /// healthy.
    pub fn start(target: SocketAddr, seed: u64, mix: FaultMix) -> ChaosProxy {
        let chaos = Chaos {
            seed,
            mix,
            healthy: AtomicBool::new(true),
            counts: Default::default(),
            live_handshakes: AtomicU64::new(0),
        };
        let options = ProxyOptions {
            connect_timeout: Some(Duration::from_secs(2)),
            nodelay: true,
            chunk: 8 * 1024,
        };
        ChaosProxy(Proxy::start_with(target, chaos, options))
    }

    pub fn base_url(&self) -> String {
        self.0.base_url()
    }

    pub fn ws_url(&self, scope: &str) -> String {
        self.0.ws_url(scope)
    }

    /// Turns fault injection on (`false`) or off (`true`). Either way every open connection is
    /// cut, so that no connection keeps a fault drawn under the other setting.
    pub fn set_healthy(&self, healthy: bool) {
        self.0.policy().healthy.store(healthy, Ordering::SeqCst);
        self.0.cut_all();
    }

    /// The faults that struck so far.
    pub fn counts(&self) -> FaultCounts {
        let chaos = self.0.policy();
        let c = |f: Fault| {
            let i = KINDS.iter().position(|k| *k == f).unwrap_or(0);
            chaos.counts[i].load(Ordering::SeqCst)
        };
        FaultCounts {
            connections: self.0.accepted(),
            live_handshakes: chaos.live_handshakes.load(Ordering::SeqCst),
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

impl Exchange {
    fn begin(&mut self, state: &Chaos) {
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

    fn step(&mut self, state: &Chaos, upstream: bool, len: usize) -> Step {
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
