import Dispatch
import Foundation
import MizuSyncFFI

/// An offline-first sync client: a local store, a durable mutation queue, and an engine that
/// pushes, pulls and listens in the background.
///
/// Reads and writes never wait for the network; only ``sync()`` and ``flush(timeout:)`` do.
/// Both are awaited natively (`async`, on the library's own runtime: no thread waits, and
/// cancelling the task ends the wait at once), with blocking overloads of the same names for
/// code outside `async` contexts. Writes block for microseconds by default; their `async`
/// overloads commit off the caller's thread.
///
/// ```swift
/// var options = ClientOptions(baseURL: "http://127.0.0.1:8080/_sync")
/// options.scope = "user:demo"
/// let client = try Client(options)
/// try client.start()                          // works offline, too
/// let todos = try client.collection("todo", of: Todo.self)
/// try await todos.create("todo-1", Todo(title: "Learn sync"))   // committed off this thread
/// try await client.flush(timeout: 10)         // until the server has it
/// await client.close()
/// ```
///
/// ## Threading
/// Every method may be called from any thread or task. Event observers (``onSync(_:)``,
/// ``onConnectivity(_:)``, ``onError(_:)``, ``onRejected(_:)``), status observers and
/// observers of server changes and awaited writes run on the client's sync thread, or on the
/// ``Delivery`` context given to ``init(_:tokenProvider:delivery:logLevel:onLog:)``; they may call back into
/// the library. ``close()`` (or releasing the client) stops syncing and closes the store.
public final class Client: Sendable {
    private let raw: MizuSyncFFI.Client

    /// Opens the local store (SQLite at ``ClientOptions/storagePath``, or memory) and
    /// restores what was there. Does not touch the network: call ``start()``.
    ///
    /// - Parameters:
    ///   - options: the server and the engine's settings.
    ///   - tokenProvider: supplies the bearer token of each request (`refresh` is true after
    ///     the server refused the previous one, with a 401 or 403: get a new one; the request
    ///     is then retried once); called on a library I/O thread, where blocking is fine. For
    ///     an `async` provider see ``init(_:tokenProvider:delivery:logLevel:onLog:)-async``.
    ///   - delivery: where observers of server changes and client events run (see
    ///     ``Delivery``); `nil` for the client's sync thread.
    ///   - logLevel: the least severe record `onLog` receives (default ``LogLevel/info``).
    ///   - onLog: receives the engine's decisions (pushes, pulls, snapshots, backoffs,
    ///     rejections, auth refreshes, the live connection, store errors) as
    ///     `(level, target, message)` on library threads (see ``LogHandler``); `nil` logs
    ///     nothing. Never given a token or a header value.
    /// - Throws: ``MizuError/invalidArgument(reason:)`` for an unusable URL or option;
    ///   ``MizuError/invalidJSON(reason:)`` for a bad ``ClientOptions/subscribeMessageJSON``;
    ///   ``MizuError/storage(reason:)`` when the store cannot be opened (corrupt, too new, or
    ///   held by another client).
    public convenience init(
        _ options: ClientOptions,
        tokenProvider: (@Sendable (_ refresh: Bool) throws -> String?)? = nil,
        delivery: Delivery? = nil,
        logLevel: LogLevel = .info,
        onLog: LogHandler? = nil
    ) throws {
        try self.init(
            options, provider: tokenProvider.map { TokenClosure($0) }, delivery: delivery,
            logLevel: logLevel, onLog: onLog)
    }

    /// A client whose bearer token comes from an `async` function, such as a token refresh
    /// over the network.
    ///
    /// The library I/O thread that needs a token runs `tokenProvider` in a task and waits for
    /// it at most ``ClientOptions/requestTimeout``: a provider that does not answer in time
    /// fails that request (as unauthorized, retried with backoff) and never wedges syncing.
    /// Do not make it wait for something the blocking ``sync()`` holds (the main actor while
    /// the main thread blocks in it).
    ///
    /// ```swift
    /// let client = try Client(options, tokenProvider: { refresh in
    ///     try await auth.accessToken(forceRefresh: refresh)
    /// })
    /// ```
    ///
    /// - Throws: as ``init(_:tokenProvider:delivery:logLevel:onLog:)``.
    public convenience init(
        _ options: ClientOptions,
        tokenProvider: @escaping @Sendable (_ refresh: Bool) async throws -> String?,
        delivery: Delivery? = nil,
        logLevel: LogLevel = .info,
        onLog: LogHandler? = nil
    ) throws {
        let provider = AsyncTokenClosure(tokenProvider, limit: options.requestTimeout)
        try self.init(
            options, provider: provider, delivery: delivery, logLevel: logLevel, onLog: onLog)
    }

    private init(
        _ options: ClientOptions, provider: TokenProvider?, delivery: Delivery?,
        logLevel: LogLevel, onLog: LogHandler?
    ) throws {
        let hop = delivery.map { PendingHop($0) }
        let log = onLog.map { LogClosure($0) }
        raw = try translating {
            try MizuSyncFFI.Client(
                options: options.raw, auth: provider, pending: hop, log: log,
                logLevel: logLevel.raw)
        }
        hop?.attach(raw)
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
    /// Blocks for the engine's last step; in `async` code the awaited overload does not.
    public func close() {
        raw.close()
    }

    /// ``close()``, awaited: the engine's last step and the store's closing happen off the
    /// caller's thread. Cancelling the task ends the wait (the client closes anyway).
    public func close() async {
        let raw = raw
        _ = try? await awaiting { await raw.closeAsync() }
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
    /// Awaited on the library's runtime: no thread waits. Cancelling the task ends the wait at
    /// once with `CancellationError` (the round goes on in the background).
    ///
    /// - Throws: the round's first error (``MizuError/network(reason:)``,
    ///   ``MizuError/server(status:code:reason:)``, ...); ``MizuError/offline(reason:)`` when
    ///   not started or paused; ``MizuError/closed(what:)``; `CancellationError`.
    public func sync() async throws {
        let raw = raw
        try await awaiting { try await raw.syncAsync() }
    }

    /// ``sync()``, blocking the calling thread (at most the request timeout per request).
    ///
    /// - Throws: as the awaited ``sync()``, and ``MizuError/invalidArgument(reason:)`` on the
    ///   client's sync thread (which would wait for itself).
    public func sync() throws {
        try translating { try raw.sync() }
    }

    /// Waits until everything queued so far is acknowledged by the server and pulled back.
    ///
    /// Awaited on the library's runtime; cancelling the task ends the wait at once with
    /// `CancellationError`.
    ///
    /// - Parameter timeout: the longest wait, in seconds (30 by default, as in every binding).
    /// - Throws: ``MizuError/timeout(reason:)`` after `timeout`;
    ///   ``MizuError/offline(reason:)`` when not started; ``MizuError/closed(what:)``;
    ///   `CancellationError`.
    public func flush(timeout: TimeInterval = 30) async throws {
        let raw = raw
        let ms = milliseconds(timeout)
        try await awaiting { try await raw.flushAsync(timeoutMs: ms) }
    }

    /// ``flush(timeout:)``, blocking the calling thread.
    ///
    /// - Throws: as the awaited ``flush(timeout:)``, and
    ///   ``MizuError/invalidArgument(reason:)`` on the client's sync thread.
    public func flush(timeout: TimeInterval = 30) throws {
        try translating { try raw.flush(timeoutMs: milliseconds(timeout)) }
    }

    /// Waits until a first full catch-up with the server has completed
    /// (``SyncStatus/hasSynced``): at once when one ever has (it is persisted with the store,
    /// so a reopened file client returns at once, even before ``start()``).
    ///
    /// Awaited on the library's runtime; cancelling the task ends the wait at once with
    /// `CancellationError`.
    ///
    /// - Parameter timeout: the longest wait, in seconds (30 by default, as in every binding).
    /// - Throws: ``MizuError/timeout(reason:)`` after `timeout`; ``MizuError/offline(reason:)``
    ///   when not started (and never synced); ``MizuError/closed(what:)``; `CancellationError`.
    public func waitForFirstSync(timeout: TimeInterval = 30) async throws {
        let raw = raw
        let ms = milliseconds(timeout)
        try await awaiting { try await raw.waitForFirstSyncAsync(timeoutMs: ms) }
    }

    /// ``waitForFirstSync(timeout:)``, blocking the calling thread (at most `timeout`).
    ///
    /// - Throws: as the awaited ``waitForFirstSync(timeout:)``.
    public func waitForFirstSync(timeout: TimeInterval = 30) throws {
        try translating { try raw.waitForFirstSync(timeoutMs: milliseconds(timeout)) }
    }

    /// Pushes and pulls until caught up or `within` seconds have passed, and reports what it
    /// did: one bounded sync for a background task. A client that is not started is started
    /// without its live connection for the call and stopped after; a started one stays
    /// started. Against a server that does not answer it returns at its deadline with
    /// ``SyncReport/caughtUp`` false; writes that did not go out stay queued.
    ///
    /// Blocks the calling thread; in `async` code the awaited overload does not. With
    /// `BGTaskScheduler`, call it from the task's launch handler, off the main thread, with a
    /// deadline inside the time the system gives (about 30 s for a `BGAppRefreshTask`), and
    /// set the task's `expirationHandler`:
    ///
    /// ```swift
    /// BGTaskScheduler.shared.register(forTaskWithIdentifier: "app.sync", using: nil) { task in
    ///     let work = Task.detached {
    ///         let report = try? await client.syncOnce(within: 25)
    ///         task.setTaskCompleted(success: report?.caughtUp ?? false)
    ///     }
    ///     task.expirationHandler = { work.cancel() }   // the round ends by its deadline anyway
    /// }
    /// ```
    ///
    /// - Throws: ``MizuError/closed(what:)``; a round's own failures are in
    ///   ``SyncReport/error``.
    public func syncOnce(within: TimeInterval) throws -> SyncReport {
        SyncReport(try translating { try raw.syncOnce(withinMs: milliseconds(within)) })
    }

    /// ``syncOnce(within:)``, awaited: it runs on a global dispatch queue, so no task's thread
    /// blocks. Cancelling the task does not stop the round (which ends by `within`).
    ///
    /// - Throws: as the blocking ``syncOnce(within:)``.
    public func syncOnce(within: TimeInterval) async throws -> SyncReport {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<SyncReport, Error>) in
            DispatchQueue.global().async {
                done.resume(with: Result { try self.syncOnce(within: within) })
            }
        }
    }

    /// Deletes everything local, for a logout: flushes first for at most `flushWithin` seconds
    /// when given (and started), stops syncing, deletes the store's files (the SQLite file with
    /// its WAL and SHM), and starts afresh with an empty store and a new ``clientID()``,
    /// syncing again if it was. Readers, observers and live queries see the empty store.
    ///
    /// Blocks the calling thread for the flush and the wipe; in `async` code the awaited
    /// overload does not.
    ///
    /// ```swift
    /// do {
    ///     try client.clear(flushWithin: 5)
    /// } catch MizuError.pendingWrites(let count) {
    ///     if await confirmLosing(count) { try client.clear(discardPending: true) }
    /// }
    /// ```
    ///
    /// - Throws: ``MizuError/pendingWrites(count:)`` when writes still wait for the server and
    ///   `discardPending` is false (nothing is deleted then); ``MizuError/storage(reason:)``;
    ///   ``MizuError/closed(what:)``.
    public func clear(flushWithin: TimeInterval? = nil, discardPending: Bool = false) throws {
        let ms = flushWithin.map(milliseconds)
        try translating { try raw.clear(flushWithinMs: ms, discardPending: discardPending) }
    }

    /// ``clear(flushWithin:discardPending:)``, awaited: it runs on a global dispatch queue, so
    /// no task's thread blocks. Cancelling the task does not stop the clear.
    ///
    /// - Throws: as the blocking ``clear(flushWithin:discardPending:)``.
    public func clear(flushWithin: TimeInterval? = nil, discardPending: Bool = false) async throws {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, Error>) in
            DispatchQueue.global().async {
                done.resume(with: Result {
                    try self.clear(flushWithin: flushWithin, discardPending: discardPending)
                })
            }
        }
    }

    /// The mutations waiting for the server, oldest first.
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    public func pending() throws -> [QueuedMutation] {
        try translating { try raw.pending() }.map(QueuedMutation.init)
    }

    /// Rolls back the queued mutation `mutationID` as a server rejection would: its effect is
    /// undone, its entity's ``Entity/syncState()`` becomes ``SyncState/rejected(reason:)``
    /// (`"discarded by the app"`), and the ``onError(_:)`` and ``onRejected(_:)`` observers
    /// are told.
    ///
    /// - Throws: ``MizuError/invalidArgument(reason:)`` when no queued mutation has that id;
    ///   ``MizuError/storage(reason:)``; ``MizuError/closed(what:)``.
    public func discard(_ mutationID: String) throws {
        try translating { try raw.discard(mutationId: mutationID) }
    }

    /// Runs the deliveries waiting for a ``Delivery`` context on the calling thread, in order,
    /// and returns how many ran: 0 without a delivery context, or while another thread
    /// dispatches (that one runs them). The client calls it on its ``Delivery`` context by
    /// itself; call it directly only to drain deliveries at a point of your choosing.
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    @discardableResult
    public func dispatchPending() throws -> Int {
        Int(try translating { try raw.dispatchPending() })
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

    /// ``mutate(_:)``, committed off the caller's thread (queued in call order); returns the
    /// mutation's id once durable. Cancelling the task ends the wait, never the write.
    ///
    /// - Throws: as ``mutate(_:)``; `CancellationError`.
    @discardableResult
    public func mutate(_ name: String) async throws -> String {
        let raw = raw
        return try await awaiting { try await raw.mutateAsync(name: name, argsJson: nil) }
    }

    /// ``mutate(_:_:)``, committed off the caller's thread (see ``mutate(_:)-async``).
    ///
    /// - Throws: as ``mutate(_:_:)``; `CancellationError`.
    @discardableResult
    public func mutate<Args: Encodable>(_ name: String, _ args: Args) async throws -> String {
        let text = try JSONCoding.encode(args)
        let raw = raw
        return try await awaiting { try await raw.mutateAsync(name: name, argsJson: text) }
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
    /// (usually the sync thread), or on the client's ``Delivery`` context.
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    public func subscribeStatus(
        _ observer: @escaping @Sendable (SyncStatus) throws -> Void
    ) throws -> Subscription {
        let listener = StatusClosure { try observer(SyncStatus($0)) }
        return Subscription(try translating { try raw.subscribeStatus(listener: listener) })
    }

    /// The status now, then each new status, as an `AsyncSequence`. Only the newest status
    /// waits for a slow consumer (see ``Signal/changes``).
    public var statusChanges: AsyncStream<SyncStatus> {
        stateStream { continuation in try subscribeStatus { continuation.yield($0) } }
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

    /// The durability mode the store file is in, read back from SQLite (to check that
    /// ``ClientOptions/durability`` took effect); `nil` for a store in memory.
    ///
    /// - Throws: ``MizuError/closed(what:)``; ``MizuError/storage(reason:)`` when SQLite cannot
    ///   answer.
    public func durability() throws -> Durability? {
        try translating { try raw.durability() }.map(Durability.init)
    }

    /// This client's id (persisted with the store), the prefix of its mutation ids.
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    public func clientID() throws -> String {
        try translating { try raw.clientId() }
    }

    /// Re-encrypts the store file with `newKey` in one transaction: from then on only `newKey`
    /// opens it (as ``ClientOptions/encryptionKey``). Blocks for a time in proportion to the
    /// file's size: call it off the main thread.
    ///
    /// - Throws: ``MizuError/invalidArgument(reason:)`` for an empty key or a store opened
    ///   without an encryption key; ``MizuError/closed(what:)``.
    public func rekey(_ newKey: String) throws {
        try translating { try raw.rekey(newKey: newKey) }
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

    /// Calls `observer` on the sync thread (or the ``Delivery`` context) with the new cursor
    /// after each completed pull or snapshot. What it throws goes to the ``onError(_:)``
    /// observers.
    public func onSync(_ observer: @escaping @Sendable (UInt64) throws -> Void) -> Subscription {
        Subscription(raw.onSync(listener: SyncClosure(observer)))
    }

    /// Calls `observer` on the sync thread (or the ``Delivery`` context) with `true` when the
    /// client goes online and `false` when it goes offline.
    public func onConnectivity(_ observer: @escaping @Sendable (Bool) throws -> Void) -> Subscription {
        Subscription(raw.onConnectivity(listener: ConnectivityClosure(observer)))
    }

    /// Calls `observer` with each error: the engine's (network trouble, rejected mutations,
    /// storage failures) and what this client's other observers threw. What `observer`
    /// itself throws is dropped.
    public func onError(_ observer: @escaping @Sendable (MizuError) throws -> Void) -> Subscription {
        Subscription(raw.onError(listener: ErrorClosure(observer)))
    }

    /// Calls `observer` on the sync thread (or the ``Delivery`` context) for each mutation the
    /// server rejects (after its rollback).
    public func onRejected(
        _ observer: @escaping @Sendable (RejectedMutation) throws -> Void
    ) -> Subscription {
        Subscription(raw.onRejected(listener: RejectionClosure(observer)))
    }

    /// The cursor after each completed pull or snapshot, as an `AsyncSequence` (see
    /// ``onSync(_:)``). At most ``eventBuffer`` events wait for a slow consumer; when more
    /// arrive, the oldest are dropped.
    public var syncs: AsyncStream<UInt64> {
        eventsStream { continuation in onSync { continuation.yield($0) } }
    }

    /// `true` on going online, `false` on going offline, as an `AsyncSequence` (see
    /// ``onConnectivity(_:)``), buffered as ``syncs``.
    public var connectivity: AsyncStream<Bool> {
        eventsStream { continuation in onConnectivity { continuation.yield($0) } }
    }

    /// Each error, as an `AsyncSequence` (see ``onError(_:)``), buffered as ``syncs``.
    public var errors: AsyncStream<MizuError> {
        eventsStream { continuation in onError { continuation.yield($0) } }
    }

    /// Each rejected mutation, as an `AsyncSequence` (see ``onRejected(_:)``), buffered as
    /// ``syncs``.
    public var rejections: AsyncStream<RejectedMutation> {
        eventsStream { continuation in onRejected { continuation.yield($0) } }
    }
}
