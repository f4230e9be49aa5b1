import MizuSyncFFI

/// A side effect: the closure runs once now, then again after every change of the signals,
/// computeds, collections and entities it read through this library in its last run.
///
/// It re-runs on the thread whose write triggered it (the client's sync thread for server
/// changes), before that write returns. What the closure throws is reported to
/// ``onUnhandledError(_:)``; the effect keeps running.
///
/// Keep a reference: ``stop()``, or releasing the effect, stops it.
///
/// ```swift
/// let count = try Signal(0)
/// let effect = Effect { print("count =", try count.get()) }   // prints "count = 0"
/// try count.set(5)                                            // prints "count = 5"
/// effect.stop()
/// ```
public final class Effect: Sendable {
    /// An effect made by a direct call (the closure is a C function pointer's registered
    /// closure), or, if the library refused one, by the generated bindings.
    private enum Backing: Sendable {
        case direct(DirectEffect)
        case generated(MizuSyncFFI.Effect)
    }

    private let backing: Backing

    /// Creates the effect and runs `body` once, on this thread, before returning.
    public init(_ body: @escaping @Sendable () throws -> Void) {
        if let direct = DirectEffect(body) {
            backing = .direct(direct)
        } else {
            backing = .generated(MizuSyncFFI.Effect(f: RunClosure(body)))
        }
    }

    /// Stops the effect and releases its closure: it never runs again once this returns (a
    /// run in progress on another thread finishes). Idempotent.
    public func stop() {
        switch backing {
        case .direct(let direct): direct.stop()
        case .generated(let raw): raw.stop()
        }
    }

    /// Whether ``stop()`` was called.
    public var isStopped: Bool {
        switch backing {
        case .direct(let direct): return direct.isStopped
        case .generated(let raw): return raw.isStopped()
        }
    }
}

/// Runs `body`, deferring the effects its writes trigger on this thread until it returns;
/// each effect then runs once and sees all the writes.
///
/// - Throws: what `body` threw, as ``MizuError`` (its writes stay, and their effects run).
public func batch(_ body: () throws -> Void) throws {
    try withoutActuallyEscaping(body) { body in
        let function = ScopedRun(body)
        try translating { try MizuSyncFFI.batch(f: function) }
    }
}

/// Runs `body` and returns its result without tracking its reads: inside a computed or
/// effect closure, what `body` reads does not become a dependency.
///
/// - Throws: what `body` threw, as ``MizuError``.
public func untracked<Value: Codable>(_ body: () throws -> Value) throws -> Value {
    try withoutActuallyEscaping(body) { body in
        let function = ScopedCompute { try JSONCoding.encode(body()) }
        let text = try translating { try MizuSyncFFI.untracked(f: function) }
        return try JSONCoding.decode(Value.self, from: text)
    }
}

/// Calls `handler` with each error that has nobody else to go to: thrown by a signal's or
/// computed's observer, a computed's or effect's closure, or a listener of a client without
/// ``Client/onError(_:)`` observers. Without a handler, such errors are printed to standard
/// error. The handler runs on the thread where the error happened.
///
/// - Returns: a subscription; cancelling it restores the default.
public func onUnhandledError(_ handler: @escaping @Sendable (MizuError) -> Void) -> Subscription {
    Subscription(MizuSyncFFI.onUnhandledError(listener: ErrorClosure { handler($0) }))
}
