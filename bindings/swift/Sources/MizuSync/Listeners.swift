import MizuSyncFFI

// Closure adapters for the listener and function protocols of the generated bindings. Each
// runs app code through `reporting`, so that what it throws reaches Rust as an error (which
// Rust reports and survives) instead of crashing.

/// Receives a signal's or computed's JSON text.
final class TextListener: SignalListener, Sendable {
    private let body: @Sendable (String) throws -> Void
    init(_ body: @escaping @Sendable (String) throws -> Void) { self.body = body }
    func onChange(valueJson: String) throws { try reporting { try body(valueJson) } }
}

/// Receives an entity's JSON text, or `nil` when it does not exist.
final class OptionalTextListener: EntityListener, Sendable {
    private let body: @Sendable (String?) throws -> Void
    init(_ body: @escaping @Sendable (String?) throws -> Void) { self.body = body }
    func onChange(valueJson: String?) throws { try reporting { try body(valueJson) } }
}

/// Receives a collection's contents and what changed.
final class ChangeListener: CollectionListener, Sendable {
    private let body: @Sendable (MizuSyncFFI.CollectionChange) throws -> Void
    init(_ body: @escaping @Sendable (MizuSyncFFI.CollectionChange) throws -> Void) {
        self.body = body
    }
    func onChange(change: MizuSyncFFI.CollectionChange) throws {
        try reporting { try body(change) }
    }
}

/// Receives a live query's whole result, then its diffs.
final class QueryClosure: QueryListener, Sendable {
    /// What the library delivered.
    enum Event {
        case result([EntityRecord])
        case diff([MizuSyncFFI.QueryDiffOp])
    }

    private let body: @Sendable (Event) throws -> Void
    init(_ body: @escaping @Sendable (Event) throws -> Void) { self.body = body }
    func onResult(rows: [EntityRecord]) throws { try reporting { try body(.result(rows)) } }
    func onDiff(diff: [MizuSyncFFI.QueryDiffOp]) throws { try reporting { try body(.diff(diff)) } }
}

/// Receives the sync status.
final class StatusClosure: StatusListener, Sendable {
    private let body: @Sendable (MizuSyncFFI.SyncStatus) throws -> Void
    init(_ body: @escaping @Sendable (MizuSyncFFI.SyncStatus) throws -> Void) { self.body = body }
    func onStatus(status: MizuSyncFFI.SyncStatus) throws { try reporting { try body(status) } }
}

/// Told the cursor after each completed pull.
final class SyncClosure: SyncListener, Sendable {
    private let body: @Sendable (UInt64) throws -> Void
    init(_ body: @escaping @Sendable (UInt64) throws -> Void) { self.body = body }
    func onSync(cursor: UInt64) throws { try reporting { try body(cursor) } }
}

/// Told online / offline transitions.
final class ConnectivityClosure: ConnectivityListener, Sendable {
    private let body: @Sendable (Bool) throws -> Void
    init(_ body: @escaping @Sendable (Bool) throws -> Void) { self.body = body }
    func onConnectivity(online: Bool) throws { try reporting { try body(online) } }
}

/// Receives errors.
final class ErrorClosure: ErrorListener, Sendable {
    private let body: @Sendable (MizuError) throws -> Void
    init(_ body: @escaping @Sendable (MizuError) throws -> Void) { self.body = body }
    func onError(error: MizuSyncFFI.MizuError) throws {
        try reporting { try body(MizuError(error)) }
    }
}

/// Told rejected mutations.
final class RejectionClosure: RejectionListener, Sendable {
    private let body: @Sendable (RejectedMutation) throws -> Void
    init(_ body: @escaping @Sendable (RejectedMutation) throws -> Void) { self.body = body }
    func onRejected(mutation: MizuSyncFFI.RejectedMutation) throws {
        try reporting { try body(RejectedMutation(mutation)) }
    }
}

/// A computed's function, returning JSON text.
final class ComputeClosure: ComputedFn, Sendable {
    private let body: @Sendable () throws -> String
    init(_ body: @escaping @Sendable () throws -> String) { self.body = body }
    func compute() throws -> String { try reporting { try body() } }
}

/// An effect's function.
final class RunClosure: EffectFn, Sendable {
    private let body: @Sendable () throws -> Void
    init(_ body: @escaping @Sendable () throws -> Void) { self.body = body }
    func run() throws { try reporting { try body() } }
}

// Functions that Rust calls back only during the call that received them, on the calling
// thread (`batch`, `untracked`, `Signal.update`), so they need not be `@Sendable`: the public
// API takes non-escaping closures and passes them through `withoutActuallyEscaping`, which
// also checks that Rust released them before the call returned.

/// A block of writes for `batch`.
final class ScopedRun: BatchFn, @unchecked Sendable {
    private let body: () throws -> Void
    init(_ body: @escaping () throws -> Void) { self.body = body }
    func run() throws { try reporting { try body() } }
}

/// A function for `untracked`, returning JSON text.
final class ScopedCompute: ComputedFn, @unchecked Sendable {
    private let body: () throws -> String
    init(_ body: @escaping () throws -> String) { self.body = body }
    func compute() throws -> String { try reporting { try body() } }
}

/// A signal's update function over JSON text.
final class ScopedUpdate: SignalUpdateFn, @unchecked Sendable {
    private let body: (String) throws -> String
    init(_ body: @escaping (String) throws -> String) { self.body = body }
    func update(valueJson: String) throws -> String { try reporting { try body(valueJson) } }
}
