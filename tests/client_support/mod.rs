//! Support for the client scenario tests: a sync server selected by `MIZU_SYNC_TEST_SERVER`
//! (`reference`, the default: our server in-process; `mizu`: the real mizu server through the
//! Go harness in tests/interop), driven through the admin API both implement; a TCP proxy that
//! can take the server "down"; and bounded waits.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use mizu_sync::{Client, Options};
use mizu_test_support::proxy::{self as support_proxy, Policy};
#[allow(unused_imports)] // not every suite waits
pub use mizu_test_support::{wait_until, WAIT};
use serde_json::{json, Value};

/// Which server the scenarios run against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Reference,
    Mizu,
}

pub fn kind() -> Kind {
    match std::env::var("MIZU_SYNC_TEST_SERVER").as_deref() {
        Ok("mizu") => Kind::Mizu,
        Ok("reference") | Err(_) => Kind::Reference,
        Ok(other) => panic!("MIZU_SYNC_TEST_SERVER must be `reference` or `mizu`, not {other:?}"),
    }
}

enum Running {
    Reference(mizu_sync::server::ServerHandle),
    Mizu(Child),
}

/// A running sync server with the admin API.
pub struct TestServer {
    addr: SocketAddr,
    running: Running,
}

impl TestServer {
    pub fn start() -> TestServer {
        match kind() {
            Kind::Reference => {
                let handle = mizu_sync::server::Server::start(mizu_sync::server::ServerOptions {
                    admin: true,
                    ..Default::default()
                })
                .expect("reference server starts");
                TestServer {
                    addr: handle.addr(),
                    running: Running::Reference(handle),
                }
            }
            Kind::Mizu => {
                let mut child = Command::new(mizu_harness())
                    .args(["-addr", "127.0.0.1:0"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::inherit())
                    .spawn()
                    .expect("the mizu harness starts");
                let mut line = String::new();
                BufReader::new(child.stdout.take().unwrap())
                    .read_line(&mut line)
                    .unwrap();
                let addr = line
                    .trim()
                    .strip_prefix("listening on http://")
                    .unwrap_or_else(|| panic!("unexpected first line from the harness: {line:?}"))
                    .parse()
                    .unwrap();
                TestServer {
                    addr,
                    running: Running::Mizu(child),
                }
            }
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/_sync", self.addr)
    }

    pub fn ws_url(&self, scope: &str) -> String {
        format!("ws://{}/ws?scope={scope}", self.addr)
    }

    /// Trims `scope`'s log to its head; returns the head.
    pub fn trim(&self, scope: &str) -> u64 {
        self.admin("trim", json!({ "scope": scope }))["cursor"]
            .as_u64()
            .unwrap()
    }

    /// Makes later mutations named `name` whose args contain `arg_contains` fail with `error`.
    pub fn reject(&self, name: &str, arg_contains: &str, error: &str) {
        self.admin(
            "reject",
            json!({ "name": name, "arg_contains": arg_contains, "error": error }),
        );
    }

    pub fn clear_rejects(&self) {
        self.admin("reject", json!({ "clear": true }));
    }

    /// The server's state of `scope` in the default convention (`{collection: {id: value}}`).
    pub fn snapshot(&self, scope: &str) -> Value {
        let reply = post(
            &format!("{}/snapshot", self.base_url()),
            &json!({ "scope": scope }),
        );
        let data = reply["data"].clone();
        if data.is_null() {
            json!({})
        } else {
            data
        }
    }

    fn admin(&self, what: &str, body: Value) -> Value {
        post(&format!("http://{}/_admin/{what}", self.addr), &body)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Running::Mizu(child) = &mut self.running {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn post(url: &str, body: &Value) -> Value {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(WAIT))
            .build(),
    );
    let mut reply = agent
        .post(url)
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .unwrap();
    let status = reply.status().as_u16();
    let text = reply.body_mut().read_to_string().unwrap();
    assert_eq!(status, 200, "{url} answered {status}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// The harness binary: `MIZU_HARNESS_BIN`, or built by scripts/interop-server.sh.
fn mizu_harness() -> PathBuf {
    if let Ok(bin) = std::env::var("MIZU_HARNESS_BIN") {
        return bin.into();
    }
    static BUILT: Mutex<Option<PathBuf>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap();
    if let Some(bin) = &*built {
        return bin.clone();
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/interop-server.sh");
    let out = Command::new("bash")
        .arg(script)
        .output()
        .expect("runs scripts/interop-server.sh");
    assert!(
        out.status.success(),
        "building the mizu harness failed (is Go installed?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bin = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    *built = Some(bin.clone());
    bin
}

/// The "server down" switch of [`Proxy`]: while down, new connections are refused.
#[derive(Default)]
pub struct Switch {
    down: AtomicBool,
    /// Connections accepted while up.
    connections: AtomicU64,
}

impl Policy for Switch {
    type Connection = ();

    fn accept(&self, _id: u64) -> Option<()> {
        if self.down.load(Ordering::SeqCst) {
            return None;
        }
        self.connections.fetch_add(1, Ordering::SeqCst);
        Some(())
    }
}

/// A TCP proxy in front of a server that can be taken down (connections reset, new ones
/// refused by closing them at once) and brought back.
pub struct Proxy(support_proxy::Proxy<Switch>);

impl Proxy {
    pub fn start(target: SocketAddr) -> Proxy {
        Proxy(support_proxy::Proxy::start(target, Switch::default()))
    }

    pub fn addr(&self) -> SocketAddr {
        self.0.addr()
    }

    pub fn base_url(&self) -> String {
        self.0.base_url()
    }

    pub fn ws_url(&self, scope: &str) -> String {
        self.0.ws_url(scope)
    }

    /// Connections accepted while up.
    pub fn connections(&self) -> u64 {
        self.0.policy().connections.load(Ordering::SeqCst)
    }

    /// Takes the server down (every open connection is reset) or brings it back.
    pub fn set_down(&self, down: bool) {
        self.0.policy().down.store(down, Ordering::SeqCst);
        if down {
            self.0.cut_all();
        }
    }
}

/// Options for a test client: fast timers, short backoff, a unique scope per test.
pub fn options(base_url: &str, scope: &str) -> Options {
    Options::new(base_url)
        .scope(scope)
        .push_interval(Duration::from_millis(200))
        .pull_interval(Duration::from_millis(300))
        .request_timeout(Duration::from_secs(5))
        .backoff(Duration::from_millis(20), Duration::from_millis(200))
}

/// A started client.
pub fn started(options: Options) -> Client {
    let client = Client::new(options).unwrap();
    client.start().unwrap();
    client
}

/// A unique scope name for one test.
pub fn scope(test: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{test}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// A fresh temporary SQLite path.
pub fn temp_db(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mizu-sync-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{}.db", scope(test)));
    let _ = std::fs::remove_file(&path);
    path
}

/// A todo, the seed's running example.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Todo {
    pub title: String,
    pub completed: bool,
}

pub fn todo(title: &str) -> Todo {
    Todo {
        title: title.into(),
        completed: false,
    }
}
