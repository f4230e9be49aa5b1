#if canImport(Observation)
import Foundation
import MizuSyncFFI
import Observation

// UI state holders for SwiftUI: `@Observable` classes on the main actor whose reads never throw,
// kept up to date by a subscription that each holds and cancels when released.
//
// Each holder's subscription pushes the newest state into a ``MainFeed`` from whatever thread
// the library delivers on; the feed hops to the main actor once per burst and applies only the
// newest state (a view wants the state now, not every state in between).

/// An entity's value for SwiftUI views: ``value`` and ``error`` are read without `try`, on the
/// main actor, and views that read them update when the entity changes (a local write, an
/// awaited write, a server change). Made by ``Entity/observable()``; releasing it stops
/// observing.
///
/// ```swift
/// struct TodoView: View {
///     let todo: ObservableEntity<Todo>
///     var body: some View { Text(todo.value?.title ?? "deleted") }
/// }
/// ```
@available(macOS 14, iOS 17, tvOS 17, watchOS 10, *)
@MainActor
@Observable
public final class ObservableEntity<Value: Codable & Sendable> {
    /// The entity's value, `nil` when it does not exist.
    public private(set) var value: Value?
    /// The last failure: a stored value that does not decode as `Value`, or a closed handle.
    /// `nil` while everything works.
    public private(set) var error: MizuError?
    /// Where the entity stands with the server (``Entity/syncState()``), for a badge: views
    /// that read it update when the queue changes.
    public private(set) var syncState: SyncState
    /// The entity's id.
    @ObservationIgnored public let id: String
    @ObservationIgnored private let feed = MainFeed<Result<Value?, MizuError>>()
    @ObservationIgnored private let stateFeed: MainFeed<Result<SyncState, MizuError>>
    /// Reads the sync state (a tracked read) and runs again when it may have changed.
    @ObservationIgnored private let stateEffect: Effect

    init(_ entity: Entity<Value>) {
        id = entity.id
        value = nil
        error = nil
        syncState = .synced
        // The effect runs once now: its first state waits in the feed until the drain below.
        let stateFeed = MainFeed<Result<SyncState, MizuError>>()
        self.stateFeed = stateFeed
        stateEffect = Effect {
            stateFeed.push(Result { try entity.syncState() }.mapError(MizuError.wrapping))
        }
        let feed = self.feed
        feed.target { [weak self] in self?.receive($0) }
        do {
            feed.keep(try entity.subscribeDecoding { feed.push($0) })
        } catch {
            self.error = MizuError.wrapping(error)
        }
        stateFeed.target { [weak self] in self?.receiveState($0) }
        feed.drain()
        stateFeed.drain()
    }

    deinit {
        feed.cancel()
        stateEffect.stop()
        stateFeed.cancel()
    }

    private func receiveState(_ result: Result<SyncState, MizuError>) {
        switch result {
        case .success(let new): if syncState != new { syncState = new }
        case .failure(let failure): error = failure
        }
    }

    private func receive(_ result: Result<Value?, MizuError>) {
        switch result {
        case .success(let new): value = new
        case .failure(let failure): error = failure
        }
    }
}

/// A live query's rows for SwiftUI views: ``rows`` (in order) and ``error``, read without
/// `try` on the main actor, updated when the result changes. Made by ``Query/observable()``;
/// releasing it stops observing.
///
/// ```swift
/// List(openTodos.rows) { row in Text(row.value.title) }   // Row is Identifiable
/// ```
@available(macOS 14, iOS 17, tvOS 17, watchOS 10, *)
@MainActor
@Observable
public final class ObservableQuery<Value: Codable & Sendable> {
    /// The matching entities in order, within the query's window.
    public private(set) var rows: [Row<Value>]
    /// The last failure: an invalid query, a value that does not decode, a closed handle.
    public private(set) var error: MizuError?
    @ObservationIgnored private let feed = MainFeed<Result<[Row<Value>], MizuError>>()

    init(_ query: Query<Value>) {
        rows = []
        error = nil
        let feed = self.feed
        feed.target { [weak self] in self?.receive($0) }
        do {
            let list = RowList<Value>()
            feed.keep(try query.register(QueryClosure { event in
                feed.push(Result { list.apply(try QueryEvent<Value>(event)) }.mapError(MizuError.wrapping))
            }))
        } catch {
            self.error = MizuError.wrapping(error)
        }
        feed.drain()
    }

    deinit {
        feed.cancel()
    }

    private func receive(_ result: Result<[Row<Value>], MizuError>) {
        switch result {
        case .success(let new): rows = new
        case .failure(let failure): error = failure
        }
    }
}

/// The client's sync status for SwiftUI views: ``status`` and ``error``, read without `try` on
/// the main actor, updated on each change. Made by ``Client/observableStatus()``; releasing it
/// stops observing.
///
/// ```swift
/// if model.status.pending > 0 { Text("\(model.status.pending) to sync") }
/// ```
@available(macOS 14, iOS 17, tvOS 17, watchOS 10, *)
@MainActor
@Observable
public final class ObservableSyncStatus {
    /// The status now (all false and empty until the client reports one).
    public private(set) var status: SyncStatus
    /// The last failure (a closed client). The status's own ``SyncStatus/lastError`` says how
    /// syncing goes.
    public private(set) var error: MizuError?
    @ObservationIgnored private let feed = MainFeed<SyncStatus>()

    /// ``SyncStatus/hasSynced`` of the status now: whether a first full catch-up has completed.
    public var hasSynced: Bool { status.hasSynced }
    /// ``SyncStatus/download`` of the status now (`ProgressView(value: model.download.fraction)`).
    public var download: SyncProgress { status.download }
    /// ``SyncStatus/upload`` of the status now.
    public var upload: SyncProgress { status.upload }

    init(_ client: Client) {
        status = SyncStatus(MizuSyncFFI.SyncStatus(
            online: false, syncing: false, pending: 0, cursor: nil, lastError: nil,
            lastSyncedMs: nil, paused: false, hasSynced: false,
            download: MizuSyncFFI.SyncProgress(done: 0, total: 0),
            upload: MizuSyncFFI.SyncProgress(done: 0, total: 0)))
        error = nil
        let feed = self.feed
        feed.target { [weak self] in self?.status = $0 }
        do {
            feed.keep(try client.subscribeStatus { feed.push($0) })
        } catch {
            self.error = MizuError.wrapping(error)
        }
        feed.drain()
    }

    deinit {
        feed.cancel()
    }
}

extension Entity {
    /// An `@Observable` holder of this entity's value for SwiftUI (see ``ObservableEntity``).
    @available(macOS 14, iOS 17, tvOS 17, watchOS 10, *)
    @MainActor
    public func observable() -> ObservableEntity<Value> {
        ObservableEntity(self)
    }
}

extension Query {
    /// An `@Observable` holder of this query's rows for SwiftUI (see ``ObservableQuery``).
    @available(macOS 14, iOS 17, tvOS 17, watchOS 10, *)
    @MainActor
    public func observable() -> ObservableQuery<Value> {
        ObservableQuery(self)
    }
}

extension Client {
    /// An `@Observable` holder of the sync status for SwiftUI (see ``ObservableSyncStatus``).
    @available(macOS 14, iOS 17, tvOS 17, watchOS 10, *)
    @MainActor
    public func observableStatus() -> ObservableSyncStatus {
        ObservableSyncStatus(self)
    }
}
#endif

/// The newest state pushed from any thread, applied on the main actor: a burst of pushes costs
/// one hop, and the hop applies the newest. Owns the holder's subscription.
final class MainFeed<Element: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var latest: Element?
    private var scheduled = false
    private var subscription: Subscription?
    private var cancelled = false
    private var apply: (@MainActor (Element) -> Void)?

    /// Sets what the newest state is handed to (on the main actor).
    func target(_ apply: @escaping @MainActor (Element) -> Void) {
        lock.lock()
        self.apply = apply
        lock.unlock()
    }

    /// Keeps `subscription` until ``cancel()`` (cancels it at once when already cancelled).
    func keep(_ subscription: Subscription) {
        lock.lock()
        if cancelled {
            lock.unlock()
            subscription.cancel()
        } else {
            self.subscription = subscription
            lock.unlock()
        }
    }

    /// Records `element` as the newest state and has it applied on the main actor.
    func push(_ element: Element) {
        lock.lock()
        latest = element
        let schedule = !scheduled && !cancelled
        scheduled = true
        lock.unlock()
        if schedule {
            Task { @MainActor in self.drain() }
        }
    }

    /// Applies the newest state, if one waits.
    @MainActor
    func drain() {
        lock.lock()
        let element = latest
        latest = nil
        scheduled = false
        let apply = cancelled ? nil : self.apply
        lock.unlock()
        if let element, let apply {
            apply(element)
        }
    }

    /// Cancels the subscription and drops what waits. Idempotent.
    func cancel() {
        lock.lock()
        cancelled = true
        let subscription = self.subscription
        self.subscription = nil
        latest = nil
        apply = nil
        lock.unlock()
        subscription?.cancel()
    }
}

extension MizuError {
    /// `error` as a ``MizuError`` (one of the generated bindings' is translated; another error
    /// becomes ``MizuError/callback(reason:)``).
    static func wrapping(_ error: Error) -> MizuError {
        switch error {
        case let error as MizuError: return error
        case let error as MizuSyncFFI.MizuError: return MizuError(error)
        default: return .callback(reason: String(describing: error))
        }
    }
}
