import Foundation
import MizuSyncFFI

/// A snapshot of what the sync engine is doing.
public struct SyncStatus: Sendable, Equatable {
    /// Whether the last exchange with the server succeeded (false until one has).
    public var isOnline: Bool
    /// Whether a push, pull or snapshot is in flight.
    public var isSyncing: Bool
    /// How many local mutations wait to be acknowledged by the server.
    public var pending: UInt64
    /// The pull cursor, `nil` before the first snapshot.
    public var cursor: UInt64?
    /// The text of the last error, cleared by the next successful exchange.
    public var lastError: String?
    /// When the last pull or snapshot completed.
    public var lastSynced: Date?
    /// Whether syncing is paused (``Client/pause()``).
    public var isPaused: Bool
    /// Whether a first full catch-up with the server has completed; persisted with the store
    /// (true on a reopened file client before ``Client/start()``) and reset by ``Client/clear(flushWithin:discardPending:)``.
    public var hasSynced: Bool
    /// The current (or last) download: server changes applied of those known to exist.
    public var download: SyncProgress
    /// The current (or last) upload: mutations acknowledged of those queued since the queue
    /// was last empty.
    public var upload: SyncProgress

    init(_ raw: MizuSyncFFI.SyncStatus) {
        isOnline = raw.online
        isSyncing = raw.syncing
        pending = raw.pending
        cursor = raw.cursor
        lastError = raw.lastError
        lastSynced = raw.lastSyncedMs.map { Date(timeIntervalSince1970: Double($0) / 1000) }
        isPaused = raw.paused
        hasSynced = raw.hasSynced
        download = SyncProgress(raw.download)
        upload = SyncProgress(raw.upload)
    }
}

/// `done` of `total` (equal when complete), e.g. for `ProgressView(value: status.download.fraction)`.
public struct SyncProgress: Sendable, Equatable {
    /// How much is done.
    public var done: UInt64
    /// How much there is, as known now (it can grow while a download runs).
    public var total: UInt64

    /// Makes a progress of `done` of `total`.
    public init(done: UInt64, total: UInt64) {
        self.done = done
        self.total = total
    }

    init(_ raw: MizuSyncFFI.SyncProgress) {
        self.init(done: raw.done, total: raw.total)
    }

    /// `done` / `total`, from 0 to 1; 1 when there is nothing to do.
    public var fraction: Double {
        total == 0 ? 1 : min(1, Double(done) / Double(total))
    }

    /// Whether everything known is done.
    public var isComplete: Bool { done >= total }
}

/// What ``Client/syncOnce(within:)`` did.
public struct SyncReport: Sendable, Equatable {
    /// Mutations that left the queue (acknowledged or rejected).
    public var pushed: UInt64
    /// How far the pull cursor moved.
    public var pulled: UInt64
    /// Whether it ended caught up: nothing left to push, nothing newer on the server.
    public var caughtUp: Bool
    /// The last failed round's error when it did not end caught up (the deadline itself is not
    /// an error).
    public var error: String?
    /// How long it took, in seconds.
    public var elapsed: TimeInterval

    init(_ raw: MizuSyncFFI.SyncReport) {
        pushed = raw.pushed
        pulled = raw.pulled
        caughtUp = raw.caughtUp
        error = raw.error
        elapsed = Double(raw.elapsedMs) / 1000
    }
}

/// A mutation the server rejected; its optimistic effect has been rolled back.
public struct RejectedMutation: Sendable, Equatable {
    /// The mutation's id (as returned by ``Client/mutate(_:)``; entity writes have ids too).
    public var mutationID: String
    /// The mutation's name, e.g. `todo.update`.
    public var name: String
    /// The server's reason.
    public var reason: String

    init(_ raw: MizuSyncFFI.RejectedMutation) {
        mutationID = raw.mutationId
        name = raw.name
        reason = raw.reason
    }
}

/// Where an entity stands with the server (``Entity/syncState()``).
public enum SyncState: Sendable, Equatable, Hashable {
    /// No local write of the entity waits for the server.
    case synced
    /// `mutations` local writes of the entity wait for the server.
    case pending(mutations: UInt64)
    /// The entity's last local write was rejected by the server (or discarded with
    /// ``Client/discard(_:)``, `reason` `"discarded by the app"`) and rolled back; until it
    /// is written again.
    case rejected(reason: String)

    init(_ raw: EntitySyncState) {
        switch raw {
        case .synced: self = .synced
        case .pending(let mutations): self = .pending(mutations: mutations)
        case .rejected(let reason): self = .rejected(reason: reason)
        }
    }
}

/// A local mutation waiting for the server (``Client/pending()``).
public struct QueuedMutation: Sendable, Equatable {
    /// Its idempotency id (pass it to ``Client/discard(_:)``).
    public var id: String
    /// Its name, e.g. `todo.update`.
    public var name: String
    /// The data scope it was made in.
    public var scope: String
    /// How long ago it was made, in seconds.
    public var age: TimeInterval
    /// How many times it was pushed since the process started (0: not yet).
    public var attempts: Int

    init(_ raw: MizuSyncFFI.QueuedMutation) {
        id = raw.id
        name = raw.name
        scope = raw.scope
        age = TimeInterval(raw.ageMs) / 1000
        attempts = Int(raw.attempts)
    }
}

/// What changed in a ``Collection`` since the observer's previous call: only the entities
/// that changed, never the whole collection (except on the first call, which has every
/// entity), so a call costs the change. An observer that wants the whole contents keeps them
/// itself, e.g. in a dictionary:
///
/// ```swift
/// var byID: [String: Todo] = [:]
/// for await change in todos.changes {
///     for (id, todo) in change.changed { byID[id] = todo }
///     for id in change.removed { byID[id] = nil }
/// }
/// ```
public struct CollectionChange<Value: Codable & Sendable>: Sendable {
    /// Entities created or changed since the previous call (all of them on the first call),
    /// as (id, value), ordered by id.
    public var changed: [(id: String, value: Value)]
    /// Ids of the entities deleted since the previous call.
    public var removed: [String]

    init(_ raw: MizuSyncFFI.CollectionChange) throws {
        changed = try decodeRecords(raw.changed, as: Value.self)
        removed = raw.removed
    }

    /// One change to the effect of `changes` applied in order: each entity changed in any of
    /// them with its last value, each id removed and not changed since, both ordered by id.
    init(merging changes: [CollectionChange]) {
        var values: [String: Value] = [:]
        var removed: Set<String> = []
        for change in changes {
            for id in change.removed {
                values[id] = nil
                removed.insert(id)
            }
            for (id, value) in change.changed {
                values[id] = value
                removed.remove(id)
            }
        }
        changed = values.sorted { $0.key < $1.key }.map { (id: $0.key, value: $0.value) }
        self.removed = removed.sorted()
    }
}

/// Decodes entity records of the generated bindings as (id, value) pairs.
func decodeRecords<Value: Decodable>(
    _ records: [EntityRecord], as type: Value.Type
) throws -> [(id: String, value: Value)] {
    try records.map { ($0.id, try JSONCoding.decode(Value.self, from: $0.valueJson)) }
}
