//! The engine: the driver of the sans-IO [`SyncMachine`]. One thread owns the machine and the
//! store's sync-side writes; one I/O worker performs the single in-flight HTTP request; the
//! live connection (when configured) opens its socket when the machine says so and feeds what
//! happens on it back in. No host call waits on any of them.
//!
//! # Threading
//! User callbacks (`on_sync`, `on_connectivity`, `on_error`) and the effects woken by server
//! changes run where the client's deliveries go (the engine thread by default, see
//! `client::delivery`), with no lock of this crate held; a panic in one is caught and
//! reported, and the engine goes on.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Weak};
use std::thread::{self, JoinHandle, ThreadId};
use std::time::{Instant, SystemTime};

use crate::client::http::HttpTransport;
use crate::client::live::{LiveConfig, LiveConnection, LiveEvent, LiveRemote};
use crate::client::logging::{log_to, targets};
use crate::client::progress::Tracker;
use crate::client::pull_ahead::{continuation, PullAhead};
use crate::client::snapshot::stage_snapshot;
use crate::client::{ClientCore, Error};
use crate::protocol::entity::JsonText;
use crate::protocol::machine::SnapshotFailure;
use crate::protocol::machine::{
    Action, Event, Input, MachineOptions, RequestId, SentMutation, SyncError, SyncMachine,
};
use crate::protocol::wire::{PullRequest, PushResponse, SnapshotRequest};
use crate::store::{Changed, SnapshotStaging};

/// What the engine thread is told.
pub(crate) enum Command {
    /// The number of pending mutations may have changed (a local write).
    PendingChanged,
    /// Push then pull now; answer on the reply.
    Sync(SyncReply),
    /// A live notification (or `notify_live`) says the server is at this cursor.
    LiveCursor(u64),
    /// The live connection opened, ended, or was refused (its cursors come as `LiveCursor`).
    Live(LiveEvent),
    /// Stop syncing until `Resume`.
    Pause,
    /// Resume after `Pause`.
    Resume,
    /// The I/O worker finished a request: `Input::Pushed`, `Pulled` or `SnapshotStaged`.
    Done(Input),
    /// The I/O worker staged a snapshot; its `Done(SnapshotStaged)` follows.
    Staged(SnapshotStaging),
    /// Leave the loop.
    Stop,
}

/// Where the answer to a [`Command::Sync`] goes.
pub(crate) enum SyncReply {
    /// A thread blocked in `sync()`.
    Blocking(Sender<Result<(), Error>>),
    /// An awaited `sync()` (dropped when the future was).
    Async(tokio::sync::oneshot::Sender<Result<(), Error>>),
    /// Nobody: a `flush()` asking for a round now.
    Ignored,
}

impl SyncReply {
    fn send(self, result: Result<(), Error>) {
        match self {
            SyncReply::Blocking(reply) => {
                let _ = reply.send(result);
            }
            SyncReply::Async(reply) => {
                let _ = reply.send(result);
            }
            SyncReply::Ignored => {}
        }
    }
}

/// A request for the I/O worker.
enum Request {
    Push {
        request: RequestId,
        sent: Vec<SentMutation>,
        /// The mutations' encoded text, in `sent`'s order.
        mutations: Vec<JsonText>,
    },
    Pull {
        request: RequestId,
        body: PullRequest,
    },
    Snapshot {
        request: RequestId,
        body: SnapshotRequest,
    },
}

/// The running engine, owned by the client.
pub(crate) struct EngineHandle {
    commands: Sender<Command>,
    thread: Option<JoinHandle<()>>,
    thread_id: ThreadId,
    live: Option<LiveConnection>,
}

impl EngineHandle {
    /// Starts the engine threads (and the live connection, when configured).
    pub(crate) fn start(
        shared: Arc<ClientCore>,
        http: Arc<HttpTransport>,
        machine_options: MachineOptions,
        live: Option<LiveConfig>,
    ) -> Result<EngineHandle, Error> {
        let machine = SyncMachine::new(machine_options, shared.options.codec.clone())
            .map_err(|e| Error::InvalidArgument(e.to_string()))?;
        let (commands, inbox) = mpsc::channel();
        let io = spawn_io_worker(http, Arc::downgrade(&shared), commands.clone())?;
        let live = match live {
            None => None,
            Some(cfg) => {
                let tx = commands.clone();
                let conn = LiveConnection::start(cfg, move |event| {
                    let _ = tx.send(match event {
                        LiveEvent::Cursor(n) => Command::LiveCursor(n),
                        event => Command::Live(event),
                    });
                })
                .map_err(|e| Error::InvalidArgument(format!("live connection: {e}")))?;
                Some(conn)
            }
        };
        // Acknowledged before the last stop (or a restart): they only wait for their pull.
        let awaiting = shared.store.acked().into_iter().collect();
        let cursor = shared.store.cursor().unwrap_or(0);
        let mut engine = Engine {
            live: live.as_ref().map(LiveConnection::remote),
            progress: Tracker::new(cursor),
            shared,
            machine,
            io,
            inbox,
            result_cursors: HashMap::new(),
            awaiting,
            scan_from: 0,
            syncs: HashMap::new(),
            next_sync: 0,
            pull_from: 0,
            retry_at: None,
            staged: None,
        };
        let thread = thread::Builder::new()
            .name("mizu-sync-engine".into())
            .spawn(move || engine.run())
            .map_err(|e| Error::Internal(format!("cannot start the engine thread: {e}")))?;
        let thread_id = thread.thread().id();
        Ok(EngineHandle {
            commands,
            thread: Some(thread),
            thread_id,
            live,
        })
    }

    /// Sends a command; false when the engine has gone.
    pub(crate) fn send(&self, command: Command) -> bool {
        self.commands.send(command).is_ok()
    }

    /// Whether the caller runs on the engine thread (where waiting for the engine would
    /// deadlock).
    pub(crate) fn is_engine_thread(&self) -> bool {
        thread::current().id() == self.thread_id
    }

    /// Stops the live connection and the engine; waits for the engine thread unless called on
    /// it. An HTTP request in flight is abandoned (its worker exits when it returns).
    pub(crate) fn shutdown(mut self) {
        if let Some(live) = self.live.take() {
            live.stop();
        }
        let _ = self.commands.send(Command::Stop);
        if let Some(thread) = self.thread.take() {
            if thread.thread().id() != thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

/// The I/O thread: sends each request and hands its answer back; after a page that says more
/// follow, it asks for the next page at once (see [`pull_ahead`](crate::client::pull_ahead)).
/// It holds the client only weakly (and strongly only while a snapshot streams into its
/// store), so the client's last strong reference, and with it the app's callbacks, is dropped
/// by whoever closes the client, not later on this thread.
fn spawn_io_worker(
    http: Arc<HttpTransport>,
    shared: Weak<ClientCore>,
    done: Sender<Command>,
) -> Result<Sender<Request>, Error> {
    let (tx, rx) = mpsc::channel::<Request>();
    thread::Builder::new()
        .name("mizu-sync-io".into())
        .spawn(move || {
            let mut ahead = PullAhead::default();
            // A request taken off the channel while deciding whether to fetch ahead.
            let mut next: Option<Request> = None;
            while let Some(request) = next.take().or_else(|| rx.recv().ok()) {
                let pull_body = match &request {
                    Request::Pull { body, .. } => Some(body),
                    _ => None,
                };
                let fetched_ahead = ahead.take_for(pull_body);
                let answer = match request {
                    Request::Push {
                        request,
                        sent,
                        mutations,
                    } => Input::Pushed {
                        request,
                        sent,
                        result: http.push(&mutations),
                    },
                    Request::Pull { request, body } => {
                        let result = fetched_ahead.unwrap_or_else(|| http.pull(&body));
                        let continues = result
                            .as_ref()
                            .ok()
                            .and_then(|page| continuation(&body, page));
                        if done
                            .send(Command::Done(Input::Pulled { request, result }))
                            .is_err()
                        {
                            break;
                        }
                        // The next page while the engine applies this one, unless another
                        // request is already waiting (it goes first, and drops nothing).
                        if let Some(body) = continues {
                            match rx.try_recv() {
                                Ok(request) => next = Some(request),
                                Err(TryRecvError::Empty) => {
                                    let answer = http.pull(&body);
                                    ahead.keep(body, answer);
                                }
                                Err(TryRecvError::Disconnected) => break,
                            }
                        }
                        continue;
                    }
                    Request::Snapshot { request, body } => {
                        let Some(shared) = shared.upgrade() else {
                            break;
                        };
                        let store = &shared.store;
                        let codec = &*shared.options.codec;
                        let limit = shared.options.max_snapshot_bytes;
                        let result = match http.snapshot_with(&body, |reader| {
                            stage_snapshot(reader, store, codec, limit)
                        }) {
                            Ok((result, staging)) => {
                                if let Some(staging) = staging {
                                    if done.send(Command::Staged(staging)).is_err() {
                                        break;
                                    }
                                }
                                result
                            }
                            Err(failure) => Err(SnapshotFailure::Transport(failure)),
                        };
                        Input::SnapshotStaged { request, result }
                    }
                };
                if done.send(Command::Done(answer)).is_err() {
                    break;
                }
            }
        })
        .map_err(|e| Error::Internal(format!("cannot start the I/O thread: {e}")))?;
    Ok(tx)
}

struct Engine {
    shared: Arc<ClientCore>,
    machine: SyncMachine,
    /// Opens and closes the live socket when the machine says so.
    live: Option<LiveRemote>,
    io: Sender<Request>,
    inbox: Receiver<Command>,
    /// Result cursors of acknowledged mutations, by id, until the machine settles them.
    result_cursors: HashMap<String, u64>,
    /// Acknowledged mutations kept visible until a pull reaches their result cursor, so the
    /// optimistic value does not flicker back to the old server value in between.
    /// By mutation id, the result cursor a pull must reach. Also in the store
    /// ([`Store::acked`](crate::store::Store::acked)), so they survive a restart.
    awaiting: HashMap<String, u64>,
    /// Where the next push starts reading the queue: every pending mutation below this seq is
    /// in `awaiting` (acknowledged mutations leave `awaiting` only by being settled, or it is
    /// reset to 0).
    scan_from: u64,
    /// `sync()` callers waiting for the machine's answer, by sync id.
    syncs: HashMap<u64, SyncReply>,
    /// How far the current download and upload have come.
    progress: Tracker,
    next_sync: u64,
    /// The cursor of the pull in flight (for its log line).
    pull_from: u64,
    /// The retry deadline last logged, so each backoff is logged once.
    retry_at: Option<Instant>,
    /// The snapshot the I/O worker staged, until the machine says to swap it in.
    staged: Option<SnapshotStaging>,
}

impl Engine {
    fn run(&mut self) {
        let cursor = self.shared.store.cursor();
        let pending = self.pending_count();
        log_to!(
            self.shared.logger,
            Info,
            targets::ENGINE,
            "sync engine started: cursor {}, {pending} pending mutations",
            cursor.map_or("none".to_string(), |c| c.to_string())
        );
        self.step(Input::Start { cursor, pending });
        loop {
            let command = match self.machine.poll_timeout() {
                Some(deadline) => {
                    let wait = deadline.saturating_duration_since(Instant::now());
                    match self.inbox.recv_timeout(wait) {
                        Ok(command) => Some(command),
                        Err(RecvTimeoutError::Timeout) => None,
                        Err(RecvTimeoutError::Disconnected) => Some(Command::Stop),
                    }
                }
                None => Some(self.inbox.recv().unwrap_or(Command::Stop)),
            };
            let input = match command {
                None => Input::Tick,
                Some(Command::Stop) => break,
                Some(Command::PendingChanged) => Input::PendingChanged {
                    count: self.pending_count(),
                },
                Some(Command::Sync(reply)) => {
                    self.next_sync += 1;
                    self.syncs.insert(self.next_sync, reply);
                    Input::SyncRequested { id: self.next_sync }
                }
                Some(Command::LiveCursor(n)) => {
                    self.progress.live_head(self.cursor(), n);
                    Input::LiveCursor(n)
                }
                Some(Command::Live(event)) => {
                    let input = event.input();
                    self.step(input);
                    self.log_live(&event);
                    continue;
                }
                Some(Command::Pause) => Input::Pause,
                Some(Command::Resume) => Input::Resume,
                Some(Command::Staged(staging)) => {
                    if let Some(old) = self.staged.replace(staging) {
                        self.shared.store.abandon_snapshot(old);
                    }
                    continue;
                }
                Some(Command::Done(answer)) => {
                    self.record_result_cursors(&answer);
                    self.record_progress(&answer);
                    self.log_answer(&answer);
                    answer
                }
            };
            let snapshot_answer = matches!(input, Input::SnapshotStaged { .. });
            self.step(input);
            if snapshot_answer {
                // An answer the machine no longer waited for: its staging is not used.
                if let Some(staging) = self.staged.take() {
                    self.shared.store.abandon_snapshot(staging);
                }
            }
        }
        log_to!(
            self.shared.logger,
            Info,
            targets::ENGINE,
            "sync engine stopped"
        );
        self.step(Input::Stop);
        for (_, reply) in self.syncs.drain() {
            reply.send(Err(Error::NotStarted));
        }
        self.shared.set_settled(false);
    }

    /// Feeds one input, executes every action it leads to, publishes the status.
    fn step(&mut self, input: Input) {
        let now = Instant::now();
        self.machine.handle(input, now);
        while let Some(action) = self.machine.poll_action() {
            self.execute(action);
        }
        self.log_backoff(now);
        self.publish_status();
        self.shared
            .set_settled(self.machine.is_settled() && self.awaiting.is_empty());
    }

    fn cursor(&self) -> u64 {
        self.shared.store.cursor().unwrap_or(0)
    }

    /// Publishes the machine's status with the progress as of now.
    fn publish_status(&mut self) {
        let pending = self.pending_count();
        self.progress.pending(pending);
        let progress = (
            self.progress.download(self.cursor()),
            self.progress.upload(),
        );
        let status = self.machine.status();
        self.shared
            .publish_machine_status(&status, pending, progress);
    }

    /// Notes how far the server's log goes from a pull or snapshot answer.
    fn record_progress(&mut self, answer: &Input) {
        let cursor = self.cursor();
        match answer {
            Input::Pulled {
                result: Ok(page), ..
            } => self
                .progress
                .pulled(cursor, page.has_more, page.next_cursor),
            Input::Snapshotted {
                result: Ok(snapshot),
                ..
            } => self.progress.snapshotted(snapshot.cursor),
            Input::SnapshotStaged {
                result: Ok(staged), ..
            } => self.progress.snapshotted(staged.cursor),
            _ => {}
        }
    }

    /// Logs a request's answer: a push's outcome, a pull page, a failure. Failures are detail
    /// (debug): the backoff line, the offline transition and `on_error` already tell them, once.
    fn log_answer(&self, answer: &Input) {
        let logger = &self.shared.logger;
        match answer {
            Input::Pushed {
                sent,
                result: Ok(response),
                ..
            } if !sent.is_empty() => {
                let acked = response.results.iter().filter(|r| r.ok).count();
                log_to!(
                    logger,
                    Info,
                    targets::PUSH,
                    "pushed {} mutations: {acked} acknowledged, {} refused",
                    sent.len(),
                    response.results.len() - acked
                );
            }
            Input::Pushed {
                sent,
                result: Err(e),
                ..
            } => log_to!(
                logger,
                Debug,
                targets::PUSH,
                "push of {} mutations failed: {e}",
                sent.len()
            ),
            Input::Pulled {
                result: Ok(page), ..
            } => log_to!(
                logger,
                Debug,
                targets::PULL,
                "pulled from cursor {}: {} changes, has_more {}, next cursor {}",
                self.pull_from,
                page.changes.as_ref().map_or(0, Vec::len),
                page.has_more,
                page.next_cursor
                    .map_or("none".to_string(), |c| c.to_string())
            ),
            Input::Pulled { result: Err(e), .. } => log_to!(
                logger,
                Debug,
                targets::PULL,
                "pull from cursor {} failed: {e}",
                self.pull_from
            ),
            Input::Snapshotted { result: Err(e), .. } => {
                log_to!(logger, Debug, targets::SNAPSHOT, "snapshot failed: {e}")
            }
            Input::SnapshotStaged { result: Err(e), .. } => {
                log_to!(logger, Debug, targets::SNAPSHOT, "snapshot failed: {e}")
            }
            _ => {}
        }
    }

    /// Logs a backoff the last step started (a new retry deadline), with the error behind it.
    fn log_backoff(&mut self, now: Instant) {
        let retry_at = self.machine.retry_at();
        if retry_at == self.retry_at {
            return;
        }
        self.retry_at = retry_at;
        if let Some(at) = retry_at {
            let logger = &self.shared.logger;
            if logger.enabled(crate::client::LogLevel::Info, targets::BACKOFF) {
                let why = self
                    .machine
                    .status()
                    .last_error
                    .map_or("an earlier failure".to_string(), |e| e.to_string());
                log_to!(
                    logger,
                    Info,
                    targets::BACKOFF,
                    "retrying in {:?} after: {why}",
                    at.saturating_duration_since(now)
                );
            }
        }
    }

    /// Logs the end of a live connection or attempt, with the machine's reconnect decision.
    fn log_live(&self, event: &LiveEvent) {
        let LiveEvent::Disconnected {
            reason,
            was_connected,
            auth_rejected,
        } = event
        else {
            return;
        };
        let Some(at) = self.machine.live_retry_at() else {
            return;
        };
        let delay = at.saturating_duration_since(Instant::now());
        // A lost connection is worth a warning; each failed attempt to reopen it is detail.
        let retry = if auth_rejected.is_some() {
            " with a refreshed token"
        } else {
            ""
        };
        let logger = &self.shared.logger;
        if *was_connected {
            log_to!(
                logger,
                Warn,
                targets::LIVE,
                "live connection lost: {reason}; reconnecting in {delay:?}{retry}"
            );
        } else {
            log_to!(
                logger,
                Debug,
                targets::LIVE,
                "live connection failed: {reason}; retrying in {delay:?}{retry}"
            );
        }
    }

    /// Remembers the result cursor of each acknowledged mutation of a push answer.
    fn record_result_cursors(&mut self, answer: &Input) {
        if let Input::Pushed {
            sent,
            result: Ok(response),
            ..
        } = answer
        {
            for (m, r) in sent.iter().zip(&response.results) {
                if let (true, Some(c)) = (r.ok, r.cursor) {
                    self.result_cursors.insert(m.id.clone(), c);
                }
            }
        }
    }

    fn execute(&mut self, action: Action) {
        match action {
            Action::SendPush { request, limit } => self.send_push(request, limit),
            Action::SendPull { request, body } => {
                self.pull_from = body.cursor;
                log_to!(
                    self.shared.logger,
                    Debug,
                    targets::PULL,
                    "pulling from cursor {}",
                    body.cursor
                );
                self.send(Request::Pull { request, body })
            }
            Action::SendSnapshot { request, body } => {
                log_to!(
                    self.shared.logger,
                    Info,
                    targets::SNAPSHOT,
                    "requesting a snapshot"
                );
                self.send(Request::Snapshot { request, body })
            }
            Action::ApplyPush { acked, rejected } => {
                // The entities of rejected writes, looked up before they leave the queue.
                let marks: Vec<_> = rejected
                    .iter()
                    .filter_map(|r| {
                        let queued = self.shared.store.pending_by_id(&r.mutation_id)?;
                        Some((queued.change?.key, r.reason.clone()))
                    })
                    .collect();
                let rejected: Vec<String> = rejected.into_iter().map(|r| r.mutation_id).collect();
                let watch = &self.shared.queue_watch;
                watch.settled(acked.iter().chain(&rejected).map(String::as_str));
                let cursor = self.shared.store.cursor().unwrap_or(0);
                let mut settle_now = Vec::new();
                let mut awaiting = Vec::new();
                for id in acked {
                    match self.result_cursors.remove(&id) {
                        Some(c) if c > cursor => {
                            self.awaiting.insert(id.clone(), c);
                            awaiting.push((id, c));
                        }
                        _ => settle_now.push(id),
                    }
                }
                // The acknowledgements are stored too, so a restart does not push them again.
                let result = self
                    .shared
                    .store
                    .acknowledge(&settle_now, &rejected, &awaiting);
                if result.is_err() {
                    self.scan_from = 0;
                } else {
                    for (key, reason) in marks {
                        self.shared.queue_watch.mark_rejected(key, reason);
                    }
                }
                self.store_written(result);
                let count = self.pending_count();
                self.machine
                    .handle(Input::PendingChanged { count }, Instant::now());
            }
            Action::ApplyChanges { changes, cursor } => {
                // A codec that vouches for its values spares the store a parse of each.
                let result = if self.shared.options.codec.values_are_valid_json() {
                    self.shared.store.apply_remote_valid(&changes, cursor)
                } else {
                    self.shared.store.apply_remote(&changes, cursor)
                };
                self.after_base_moved(result, cursor);
            }
            Action::ReplaceBase { data, cursor } => {
                log_to!(
                    self.shared.logger,
                    Info,
                    targets::SNAPSHOT,
                    "applying a snapshot: {} entities in {} collections at cursor {cursor}",
                    data.values().map(|c| c.len()).sum::<usize>(),
                    data.len()
                );
                let result = self.shared.store.replace_base(data, cursor);
                self.after_base_moved(result, cursor);
            }
            Action::SwapStagedBase { cursor } => {
                let Some(staging) = self.staged.take() else {
                    let reason = "no staged snapshot to swap in";
                    self.shared.report(Error::Internal(reason.to_string()));
                    self.base_not_moved(SyncError::Storage(reason.to_string()));
                    return;
                };
                log_to!(
                    self.shared.logger,
                    Info,
                    targets::SNAPSHOT,
                    "applying a snapshot: {} entities in {} collections at cursor {cursor}",
                    staging.entities(),
                    staging.collections()
                );
                let result = self.shared.store.commit_snapshot(staging, cursor);
                self.after_base_moved(result, cursor);
            }
            Action::RefreshAuth => {
                let ok = match &self.shared.options.auth {
                    None => false,
                    Some(auth) => {
                        let auth = auth.clone();
                        matches!(
                            catch_unwind(AssertUnwindSafe(|| auth.token(true))),
                            Ok(Ok(Some(_)))
                        )
                    }
                };
                log_to!(
                    self.shared.logger,
                    Info,
                    targets::AUTH,
                    "credentials refused: token refresh {}",
                    if ok { "succeeded" } else { "failed" }
                );
                self.machine
                    .handle(Input::AuthRefreshed { ok }, Instant::now());
            }
            Action::ConnectLive { refresh_auth } => {
                if let Some(live) = &self.live {
                    live.connect(refresh_auth);
                }
            }
            Action::CloseLive => {
                if let Some(live) = &self.live {
                    live.close();
                }
            }
            Action::Emit(event) => self.emit(event),
        }
    }

    fn send_push(&mut self, request: RequestId, limit: usize) {
        // Acknowledged mutations stay queued until their pull, at the front of the queue: start
        // after them instead of filtering the whole queue on every push (which made draining a
        // long queue quadratic).
        let (pending, next_scan) = self.shared.store.pending_except(
            self.scan_from,
            limit,
            |id| self.awaiting.contains_key(id),
            |p| {
                let sent = SentMutation {
                    id: p.mutation.id.clone(),
                    name: p.mutation.name.clone(),
                };
                (sent, p.encoded.clone())
            },
        );
        self.scan_from = next_scan;
        let (sent, mutations): (Vec<SentMutation>, Vec<JsonText>) = pending.into_iter().unzip();
        self.shared
            .queue_watch
            .pushed(sent.iter().map(|m| m.id.as_str()));
        if mutations.is_empty() {
            let input = Input::Pushed {
                request,
                sent,
                result: Ok(PushResponse {
                    results: Vec::new(),
                }),
            };
            self.machine.handle(input, Instant::now());
            return;
        }
        log_to!(
            self.shared.logger,
            Debug,
            targets::PUSH,
            "pushing {} mutations",
            sent.len()
        );
        self.send(Request::Push {
            request,
            sent,
            mutations,
        });
    }

    fn send(&mut self, request: Request) {
        if self.io.send(request).is_err() {
            // The worker only exits when the engine's channel is gone; nothing to do but stop.
            self.shared
                .report(Error::Internal("the I/O worker stopped".into()));
        }
    }

    /// After the base moved to `cursor`: settle the acknowledged mutations it now covers. If it
    /// did not move (the store failed), the machine goes back to the store's cursor.
    fn after_base_moved(&mut self, result: Result<Changed, crate::store::Error>, cursor: u64) {
        let mut changed = match result {
            Ok(changed) => changed,
            Err(e) => {
                let error = SyncError::Storage(e.to_string());
                self.shared.report(Error::from(e));
                self.base_not_moved(error);
                return;
            }
        };
        let covered: Vec<String> = self
            .awaiting
            .iter()
            .filter(|&(_, &c)| c <= cursor)
            .map(|(id, _)| id.clone())
            .collect();
        if covered.is_empty() {
            self.shared.notify(changed);
            return;
        }
        self.awaiting.retain(|_, c| *c > cursor);
        match self.shared.store.settle(&covered, &[]) {
            Ok(more) => changed.merge(more),
            Err(e) => {
                // They are still queued but no longer awaiting: let the push see them again.
                self.scan_from = 0;
                self.shared.report(Error::from(e));
            }
        }
        self.shared.notify_queue(changed);
    }

    /// Tells the machine the base stayed where the store has it, so it pulls again from there.
    fn base_not_moved(&mut self, error: SyncError) {
        let cursor = self.shared.store.cursor();
        self.machine
            .handle(Input::ApplyFailed { cursor, error }, Instant::now());
    }

    fn store_written(&mut self, result: Result<Changed, crate::store::Error>) {
        match result {
            Ok(changed) => self.shared.notify_queue(changed),
            Err(e) => self.shared.report(Error::from(e)),
        }
    }

    fn emit(&mut self, event: Event) {
        if let Event::Synced { .. } = event {
            self.shared.mark_synced(SystemTime::now());
        }
        let first_sync = matches!(event, Event::Synced { .. }) && self.shared.note_first_sync();
        if matches!(event, Event::Online | Event::Offline | Event::Synced { .. }) {
            // Callbacks and the status agree: a callback (or another thread) reading the status
            // sees the transition it is told about.
            self.publish_status();
        }
        if first_sync {
            // After the status says so: a waiter reading it sees `has_synced`.
            self.shared.wake_first_sync_waiters();
        }
        self.log_event(&event);
        let options = &self.shared.options;
        match event {
            Event::Online | Event::Offline => {
                if let Some(on_connectivity) = options.on_connectivity.clone() {
                    let online = matches!(event, Event::Online);
                    self.shared.deliver(move || on_connectivity(online));
                }
            }
            Event::Synced { cursor } => {
                if let Some(on_sync) = options.on_sync.clone() {
                    self.shared.deliver(move || on_sync(cursor));
                }
            }
            Event::Rejected(r) => self.shared.report(Error::Rejected {
                mutation_id: r.mutation_id,
                name: r.name,
                reason: r.reason,
            }),
            Event::Error { error, .. } => self.shared.report(Error::from(error)),
            Event::SyncCompleted { id, result } => {
                if let Some(reply) = self.syncs.remove(&id) {
                    reply.send(result.map_err(Error::from));
                }
            }
        }
    }

    fn log_event(&self, event: &Event) {
        let logger = &self.shared.logger;
        match event {
            Event::Online => log_to!(logger, Info, targets::ENGINE, "online"),
            Event::Offline => log_to!(logger, Warn, targets::ENGINE, "offline"),
            Event::Synced { cursor } => {
                log_to!(logger, Info, targets::PULL, "caught up at cursor {cursor}")
            }
            Event::Rejected(r) => log_to!(
                logger,
                Warn,
                targets::REJECTION,
                "mutation {} ({}) rejected: {}",
                r.mutation_id,
                r.name,
                r.reason
            ),
            // Logged by `ClientCore::report` with every other surfaced error.
            Event::Error { .. } | Event::SyncCompleted { .. } => {}
        }
    }

    /// Pending mutations the machine should push: those in the store, less the acknowledged
    /// ones waiting for their pull.
    fn pending_count(&self) -> usize {
        self.shared
            .store
            .pending_count()
            .saturating_sub(self.awaiting.len())
    }
}
