import Dispatch
import Foundation
import MizuSyncFFI

/// An offline-first sync client: a local store, a durable mutation queue, and an engine that
/// pushes, pulls and listens in the background.
///
/// Reads and writes never wait for the network; only ``sync()`` and ``flush(timeout:)`` do,
/// and they are `async`.
///
/// ```swift
/// var options = ClientOptions(baseURL: "http://127.0.0.1:8080/_sync")
/// options.scope = "user:demo"
/// let client = try Client(options)
/// try client.start()                          // works offline, too
/// let todos = try client.collection("todo", of: Todo.self)
/// try todos.create("todo-1", Todo(title: "Learn sync"))
/// try await client.flush(timeout: 10)         // until the server has it
/// client.close()
/// ```
///
/// ## Threading
/// Every method may be called from any thread or task. Event observers (``onSync(_:)``,
/// ``onConnectivity(_:)``, ``onError(_:)``, ``onRejected(_:)``) and observers of server
/// changes run on the client's sync thread; they may call back into the library. ``close()``
/// (or releasing the client) stops syncing and closes the store.
public final class Client: Sendable {
    private let raw: MizuSyncFFI.Client

    /// Opens the local store (SQLite at ``ClientOptions/storagePath``, or memory) and
    /// restores what was there. Does not touch the network: call ``start()``.
    ///
    /// - Parameters:
    ///   - options: the server and the engine's settings.
    ///   - token: supplies the bearer token of each request (`refresh` is true after the
    ///     server refused the previous one); called on the client's background threads.
    /// - Throws: ``MizuError/invalidArgument(reason:)`` for an unusable URL or option;
    ///   ``MizuError/invalidJSON(reason:)`` for a bad ``ClientOptions/subscribeMessageJSON``;
    ///   ``MizuError/storage(reason:)`` when the store cannot be opened (corrupt, too new, or
    ///   held by another client).
    public init(
        _ options: ClientOptions,
        token: (@Sendable (_ refresh: Bool) throws -> String?)? = nil
    ) throws {
        let provider = token.map { TokenClosure($0) }
        raw = try translating { try MizuSyncFFI.Client(options: options.raw, auth: provider) }
    }

    /// Starts syncing in the background (idempotent). Works with the server unreachable.
    ///
    /// - Throws: ``MizuError/closed(what:)``; ``MizuError/internal(reason:)`` when a thread
    ///   cannot start.
    public func start() throws {
        try translating { try raw.start() }
    }

    /// Stops syncing; local reads and writes keep working and ``start()`` resumes.
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    public func stop() throws {
        try translating { try raw.stop() }
    }

    /// Stops syncing, closes the store and unregisters every observer. Writes already
    /// returned are durable. Every later call throws ``MizuError/closed(what:)``. Idempotent.
    public func close() {
        raw.close()
    }

    /// Whether ``close()`` was called.
    public var isClosed: Bool {
        raw.isClosed()
    }

    /// Whether the client is started (and not stopped since).
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    public func isStarted() throws -> Bool {
        try translating { try raw.isStarted() }
    }

    /// Pushes everything pending, then pulls; returns when both are done.
    ///
    /// The wait happens on a dispatch thread, never on the caller's task executor. It is not
    /// cancellable: it ends within the request timeout.
    ///
    /// - Throws: the round's first error (``MizuError/network(reason:)``,
    ///   ``MizuError/server(status:code:reason:)``, ...); ``MizuError/offline(reason:)`` when
    ///   not started or paused; ``MizuError/closed(what:)``.
    public func sync() async throws {
        let raw = raw
        try await blocking { try raw.sync() }
    }

    /// Waits until everything queued so far is acknowledged by the server and pulled back.
    ///
    /// - Parameter timeout: the longest wait, in seconds.
    /// - Throws: ``MizuError/timeout(reason:)`` after `timeout`;
    ///   ``MizuError/offline(reason:)`` when not started; ``MizuError/closed(what:)``.
    public func flush(timeout: TimeInterval = 30) async throws {
        let raw = raw
        let ms = milliseconds(timeout)
        try await blocking { try raw.flush(timeoutMs: ms) }
    }

    /// Queues an app-defined mutation `name` without arguments (no local effect) and returns
    /// its id. Durable before it returns.
    ///
    /// - Throws: ``MizuError/invalidArgument(reason:)`` for an empty name;
    ///   ``MizuError/storage(reason:)``; ``MizuError/closed(what:)``.
    @discardableResult
    public func mutate(_ name: String) throws -> String {
        try translating { try raw.mutate(name: name, argsJson: nil) }
    }

    /// Queues an app-defined mutation `name` with `args` (encoded as JSON; no local effect)
    /// and returns its id. Durable before it returns.
    ///
    /// - Throws: as ``mutate(_:)``; ``MizuError/invalidJSON(reason:)`` when `args` does not
    ///   encode.
    @discardableResult
    public func mutate<Args: Encodable>(_ name: String, _ args: Args) throws -> String {
        let text = try JSONCoding.encode(args)
        return try translating { try raw.mutate(name: name, argsJson: text) }
    }

    /// The collection named `name`, with values of type `Value`.
    ///
    /// - Throws: ``MizuError/invalidArgument(reason:)`` for an empty name;
    ///   ``MizuError/closed(what:)``.
    public func collection<Value: Codable & Sendable>(
        _ name: String, of type: Value.Type = Value.self
    ) throws -> Collection<Value> {
        try translating {
            Collection(try raw.collection(name: name), entities: try raw.collection(name: name))
        }
    }

    /// The sync status now.
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    public func status() throws -> SyncStatus {
        SyncStatus(try translating { try raw.status() })
    }

    /// Calls `observer` with the status now, then after each change, until the returned
    /// subscription is cancelled or released. Runs on the thread that changed the status
    /// (usually the sync thread).
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    public func observeStatus(
        _ observer: @escaping @Sendable (SyncStatus) throws -> Void
    ) throws -> Subscription {
        let listener = StatusClosure { try observer(SyncStatus($0)) }
        return Subscription(try translating { try raw.subscribeStatus(listener: listener) })
    }

    /// The status now, then each new status, as an `AsyncSequence`. Only the newest status
    /// waits for a slow consumer (see ``Signal/values``).
    public var statusUpdates: AsyncStream<SyncStatus> {
        stateStream { continuation in try observeStatus { continuation.yield($0) } }
    }

    /// Whether the last exchange with the server succeeded.
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    public func isOnline() throws -> Bool {
        try translating { try raw.isOnline() }
    }

    /// The pull cursor (0 before the first snapshot).
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    public func cursor() throws -> UInt64 {
        try translating { try raw.cursor() }
    }

    /// How many local mutations wait to be acknowledged.
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    public func pendingCount() throws -> Int {
        Int(try translating { try raw.pendingCount() })
    }

    /// This client's id (persisted with the store), the prefix of its mutation ids.
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    public func clientID() throws -> String {
        try translating { try raw.clientId() }
    }

    /// Pauses syncing (no requests); local writes keep queueing.
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    public func pause() throws {
        try translating { try raw.pause() }
    }

    /// Resumes syncing after ``pause()``.
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    public func resume() throws {
        try translating { try raw.resume() }
    }

    /// Tells the client the server has reached `cursor` (for apps with their own notification
    /// channel, such as push notifications): pulls at once when it is ahead.
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    public func notifyLive(cursor: UInt64) throws {
        try translating { try raw.notifyLive(cursor: cursor) }
    }

    /// Calls `observer` on the sync thread with the new cursor after each completed pull or
    /// snapshot. What it throws goes to the ``onError(_:)`` observers.
    public func onSync(_ observer: @escaping @Sendable (UInt64) throws -> Void) -> Subscription {
        Subscription(raw.onSync(listener: SyncClosure(observer)))
    }

    /// Calls `observer` on the sync thread with `true` when the client goes online and `false`
    /// when it goes offline.
    public func onConnectivity(_ observer: @escaping @Sendable (Bool) throws -> Void) -> Subscription {
        Subscription(raw.onConnectivity(listener: ConnectivityClosure(observer)))
    }

    /// Calls `observer` with each error: the engine's (network trouble, rejected mutations,
    /// storage failures) and what this client's other observers threw. What `observer`
    /// itself throws is dropped.
    public func onError(_ observer: @escaping @Sendable (MizuError) throws -> Void) -> Subscription {
        Subscription(raw.onError(listener: ErrorClosure(observer)))
    }

    /// Calls `observer` on the sync thread for each mutation the server rejects (after its
    /// rollback).
    public func onRejected(
        _ observer: @escaping @Sendable (RejectedMutation) throws -> Void
    ) -> Subscription {
        Subscription(raw.onRejected(listener: RejectionClosure(observer)))
    }
}

/// Runs the blocking call `body` on a dispatch thread and resumes the caller with its result,
/// so that a wait on the network never holds a thread of Swift's cooperative pool.
func blocking<R: Sendable>(_ body: @escaping @Sendable () throws -> R) async throws -> R {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try translating(body) })
        }
    }
}
