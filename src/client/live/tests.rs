use std::net::TcpListener;
use std::ops::{Deref, DerefMut};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tungstenite::Message;

use super::*;
use crate::client::auth::RotatingToken;
use crate::protocol::codec::DefaultCodec;
use crate::protocol::machine::{Action, MachineOptions, SyncMachine};
use mizu_test_support::ws_server::{header, Arrival, WsServer, PATIENCE};

/// Generous bound for "stops promptly": the target is ~100 ms, far below this.
const PROMPTLY: Duration = Duration::from_secs(2);

/// A live configuration and the machine's backoff bounds that reconnect it.
struct TestConfig {
    live: LiveConfig,
    backoff_min: Duration,
    backoff_max: Duration,
}

impl Deref for TestConfig {
    type Target = LiveConfig;
    fn deref(&self) -> &LiveConfig {
        &self.live
    }
}

impl DerefMut for TestConfig {
    fn deref_mut(&mut self) -> &mut LiveConfig {
        &mut self.live
    }
}

fn config(url: String) -> TestConfig {
    TestConfig {
        live: LiveConfig::new(url, "s"),
        backoff_min: Duration::from_millis(10),
        backoff_max: Duration::from_millis(50),
    }
}

/// A live connection driven as the engine drives it: a [`SyncMachine`] with a live channel
/// decides when to (re)connect and whether with a fresh token, a driver thread executes its
/// `ConnectLive` / `CloseLive` and feeds back every event (after handing a copy to the test).
/// The machine's pulls are never answered: these tests are about the socket.
struct Driven {
    live: Option<LiveConnection>,
    driver: Option<JoinHandle<()>>,
}

impl Driven {
    fn ignored_frames(&self) -> u64 {
        self.live.as_ref().map_or(0, LiveConnection::ignored_frames)
    }

    fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(live) = self.live.take() {
            live.stop();
        }
        // The driver ends once the connection's thread, and with it the event sender, is gone.
        if let Some(driver) = self.driver.take() {
            let _ = driver.join();
        }
    }
}

impl Drop for Driven {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn start(cfg: TestConfig) -> (Driven, Receiver<LiveEvent>) {
    let (tx, inbox) = mpsc::channel();
    let live = LiveConnection::start(cfg.live, move |event| {
        let _ = tx.send(event);
    })
    .expect("valid config");
    let remote = live.remote();
    let options = MachineOptions {
        live: true,
        backoff_min: cfg.backoff_min,
        backoff_max: cfg.backoff_max,
        jitter_seed: 1,
        ..MachineOptions::default()
    };
    let (seen, events) = mpsc::channel();
    let driver = std::thread::spawn(move || {
        let mut machine = SyncMachine::new(options, Arc::new(DefaultCodec)).expect("valid options");
        let mut input = Input::Start {
            cursor: Some(1),
            pending: 0,
        };
        loop {
            machine.handle(input, Instant::now());
            while let Some(action) = machine.poll_action() {
                match action {
                    Action::ConnectLive { refresh_auth } => remote.connect(refresh_auth),
                    Action::CloseLive => remote.close(),
                    _ => {}
                }
            }
            let event = match machine.live_retry_at() {
                Some(at) => inbox.recv_timeout(at.saturating_duration_since(Instant::now())),
                None => inbox.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            input = match event {
                Ok(event) => {
                    let input = event.input();
                    let _ = seen.send(event);
                    input
                }
                Err(RecvTimeoutError::Timeout) => Input::Tick,
                Err(RecvTimeoutError::Disconnected) => return,
            };
        }
    });
    (
        Driven {
            live: Some(live),
            driver: Some(driver),
        },
        events,
    )
}

fn next_event(events: &Receiver<LiveEvent>) -> LiveEvent {
    events.recv_timeout(PATIENCE).expect("an event arrived")
}

fn expect_disconnected(events: &Receiver<LiveEvent>) -> String {
    match next_event(events) {
        LiveEvent::Disconnected { reason, .. } => reason,
        other => panic!("expected a disconnection, got {other:?}"),
    }
}

#[test]
fn subscribes_and_reports_the_cursors_the_server_publishes_for_its_scope() {
    let server = WsServer::start();
    let (_live, events) = start(config(server.url("/ws?scope=s")));
    let mut peer = server.next_peer();
    let subscribe: serde_json::Value = serde_json::from_str(&peer.read_text()).unwrap();
    assert_eq!(
        subscribe,
        serde_json::json!({"topic":"subscribe","data":{}})
    );
    assert_eq!(next_event(&events), LiveEvent::Connected);
    peer.send_text(r#"{"topic":"sync:s","data":{"cursor":7}}"#);
    assert_eq!(next_event(&events), LiveEvent::Cursor(7));
    peer.send_text(r#"{"topic":"sync:s","data":{"payload":{"cursor":9}}}"#);
    assert_eq!(next_event(&events), LiveEvent::Cursor(9));
}

#[test]
fn ignores_other_scopes_other_topics_and_garbage_frames() {
    let server = WsServer::start();
    let (live, events) = start(config(server.url("/ws")));
    let mut peer = server.next_peer();
    peer.read_text();
    assert_eq!(next_event(&events), LiveEvent::Connected);
    peer.send_text(r#"{"topic":"sync:other","data":{"cursor":1}}"#);
    peer.send_text(r#"{"topic":"chat","data":{"cursor":2}}"#);
    peer.send_text(r#"{"topic":"sync:s","data":{"cursor":"three"}}"#);
    peer.send_text("not json {");
    peer.ws.send(Message::binary(vec![1u8, 2, 3])).unwrap();
    peer.send_text(r#"{"topic":"sync:s","data":{"cursor":4}}"#);
    assert_eq!(next_event(&events), LiveEvent::Cursor(4));
    assert_eq!(live.ignored_frames(), 2);
}

#[test]
fn reconnects_and_resubscribes_after_the_server_drops_the_connection() {
    let server = WsServer::start();
    let (_live, events) = start(config(server.url("/ws")));
    let mut first = server.next_peer();
    first.read_text();
    assert_eq!(next_event(&events), LiveEvent::Connected);
    drop(first);
    expect_disconnected(&events);
    let mut second = server.next_peer();
    assert!(second.read_text().contains("subscribe"));
    assert_eq!(next_event(&events), LiveEvent::Connected);
    second.send_text(r#"{"topic":"sync:s","data":{"cursor":12}}"#);
    assert_eq!(next_event(&events), LiveEvent::Cursor(12));
}

#[test]
fn reports_the_reason_of_a_close_frame() {
    let server = WsServer::start();
    let (_live, events) = start(config(server.url("/ws")));
    let mut peer = server.next_peer();
    peer.read_text();
    assert_eq!(next_event(&events), LiveEvent::Connected);
    peer.ws.close(None).unwrap();
    let reason = expect_disconnected(&events);
    assert!(reason.contains("closed by the server"), "{reason}");
}

#[test]
fn stops_promptly_while_connected_and_closes_the_socket() {
    let server = WsServer::start();
    let (live, events) = start(config(server.url("/ws")));
    let mut peer = server.next_peer();
    peer.read_text();
    assert_eq!(next_event(&events), LiveEvent::Connected);
    let started = Instant::now();
    live.stop();
    assert!(started.elapsed() < PROMPTLY, "{:?}", started.elapsed());
    assert!(
        peer.ws.read().is_err(),
        "the server sees the connection end"
    );
    assert!(events.try_recv().is_err(), "no event after stop");
}

#[test]
fn stops_promptly_while_backing_off() {
    let server = WsServer::with_gate(|_| Some(401));
    let mut cfg = config(server.url("/ws"));
    cfg.backoff_min = Duration::from_secs(60);
    cfg.backoff_max = Duration::from_secs(60);
    let (live, events) = start(cfg);
    expect_disconnected(&events);
    let started = Instant::now();
    drop(live);
    assert!(started.elapsed() < PROMPTLY, "{:?}", started.elapsed());
}

#[test]
fn retries_a_rejected_handshake_with_a_refreshed_token_and_the_extra_headers() {
    let server = WsServer::with_gate(|headers| {
        (header(headers, "authorization") != Some("Bearer fresh")).then_some(401)
    });
    let mut cfg = config(server.url("/ws?scope=s"));
    cfg.headers = vec![("X-App".into(), "todo".into())];
    let provider = Arc::new(RotatingToken::default());
    cfg.auth = Some(provider.clone());
    let (_live, events) = start(cfg);
    let reason = expect_disconnected(&events);
    assert!(reason.contains("401"), "{reason}");
    match server.next_arrival() {
        Arrival::Rejected(401, headers) => {
            assert_eq!(header(&headers, "authorization"), Some("Bearer stale"));
        }
        _ => panic!("the first handshake is refused"),
    }
    let mut peer = server.next_peer();
    assert_eq!(peer.header("x-app"), Some("todo"));
    peer.read_text();
    assert_eq!(next_event(&events), LiveEvent::Connected);
    assert_eq!(*provider.calls.lock().unwrap(), [false, true]);
}

#[test]
fn answers_the_server_pings() {
    let server = WsServer::start();
    let (_live, events) = start(config(server.url("/ws")));
    let mut peer = server.next_peer();
    peer.read_text();
    assert_eq!(next_event(&events), LiveEvent::Connected);
    peer.ws
        .send(Message::Ping(b"are you there".to_vec().into()))
        .unwrap();
    match peer.ws.read().unwrap() {
        Message::Pong(payload) => assert_eq!(&payload[..], b"are you there"),
        other => panic!("expected a pong, got {other:?}"),
    }
}

#[test]
fn replaces_a_connection_whose_server_stops_answering_pings() {
    let server = WsServer::start();
    let mut cfg = config(server.url("/ws"));
    cfg.ping_interval = Duration::from_millis(100);
    let (_live, events) = start(cfg);
    // The peer reads the subscribe message and then nothing: pings go unanswered.
    let mut silent = server.next_peer();
    silent.read_text();
    assert_eq!(next_event(&events), LiveEvent::Connected);
    let reason = expect_disconnected(&events);
    assert!(reason.contains("ping"), "{reason}");
    let mut next = server.next_peer();
    next.read_text();
    assert_eq!(next_event(&events), LiveEvent::Connected);
}

#[test]
fn reports_a_failed_tls_handshake_and_retries() {
    // A plain-text server on a wss:// URL: the TLS handshake cannot succeed.
    let server = WsServer::start();
    let url = format!("wss://{}/ws", server.addr());
    let (_live, events) = start(config(url));
    let reason = expect_disconnected(&events);
    assert!(reason.contains("handshake failed"), "{reason}");
    expect_disconnected(&events);
}

#[test]
fn reports_a_refused_connection_and_retries() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let (_live, events) = start(config(format!("ws://{addr}/ws")));
    let reason = expect_disconnected(&events);
    assert!(reason.contains("connect"), "{reason}");
    expect_disconnected(&events);
}

#[test]
fn rejects_a_url_that_is_not_a_websocket_url() {
    for url in ["http://127.0.0.1/ws", "ws://", "not a url"] {
        let result = LiveConnection::start(LiveConfig::new(url, "s"), |_| {});
        assert!(
            matches!(result, Err(TransportConfigError::InvalidUrl { .. })),
            "{url}"
        );
    }
}

#[test]
fn stops_promptly_while_the_server_stalls_the_handshake() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let (live, events) = start(config(format!(
        "ws://{}/ws",
        listener.local_addr().unwrap()
    )));
    // Accept and read the start of the handshake request, then never answer.
    let (mut stalled, _) = listener.accept().unwrap();
    let mut start_of_request = [0u8; 3];
    std::io::Read::read_exact(&mut stalled, &mut start_of_request).unwrap();
    assert_eq!(&start_of_request, b"GET");
    let started = Instant::now();
    live.stop();
    assert!(started.elapsed() < PROMPTLY, "{:?}", started.elapsed());
    assert!(events.try_recv().is_err(), "no event after stop");
}

#[test]
fn opens_the_socket_only_when_told_and_closes_it_when_told() {
    let server = WsServer::start();
    let (tx, events) = mpsc::channel();
    let live = LiveConnection::start(config(server.url("/ws")).live, move |event| {
        let _ = tx.send(event);
    })
    .expect("valid config");
    let remote = live.remote();
    remote.connect(false);
    let mut first = server.next_peer();
    first.read_text();
    assert_eq!(next_event(&events), LiveEvent::Connected);
    remote.close();
    assert!(
        first.ws.read().is_err(),
        "the server sees the connection end"
    );
    let reason = expect_disconnected(&events);
    assert!(!reason.is_empty());
    // Closed, it stays closed until told again (the machine's next `ConnectLive`).
    remote.connect(false);
    let mut second = server.next_peer();
    assert!(second.read_text().contains("subscribe"));
    assert_eq!(next_event(&events), LiveEvent::Connected);
    live.stop();
    assert!(events.try_recv().is_err(), "no event after stop");
}
