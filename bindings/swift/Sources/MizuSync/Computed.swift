import MizuSyncFFI

/// A value derived by a closure from signals, computeds, collections and entities.
///
/// The closure runs lazily (at the first read, then at the next read after a dependency
/// changed), on the reading thread, and its result is cached. What it reads through this
/// library (``Signal/get()``, ``Computed/get()``, ``Collection/count()``, ``Entity/get()``,
/// ...) are its dependencies. A result equal to the previous one wakes nobody downstream.
///
/// ```swift
/// let price = try Signal(10.0), quantity = try Signal(3)
/// let total = Computed { try price.get() * Double(quantity.get()) }
/// try total.get()   // 30.0
/// ```
public final class Computed<Value: Codable & Sendable>: Sendable {
    let raw: MizuSyncFFI.Computed

    /// A computed whose value is what `compute` returns. `compute` does not run yet.
    ///
    /// `compute` may run on any thread that reads the computed (or a dependent), hence
    /// `@Sendable`.
    public init(_ compute: @escaping @Sendable () throws -> Value) {
        raw = MizuSyncFFI.Computed(f: ComputeClosure { try JSONCoding.encode(compute()) })
    }

    /// The value, computing it if needed. Inside a ``Computed`` or ``Effect`` closure, the
    /// read is tracked.
    ///
    /// - Throws: what the closure threw, as ``MizuError`` (kept until a dependency changes;
    ///   a non-`MizuError` arrives as ``MizuError/callback(reason:)``);
    ///   ``MizuError/closed(what:)``.
    public func get() throws -> Value {
        try JSONCoding.decode(Value.self, from: translating { try raw.get() })
    }

    /// The value, without becoming a dependency of the running computed or effect.
    ///
    /// - Throws: as ``get()``.
    public func getUntracked() throws -> Value {
        try JSONCoding.decode(Value.self, from: translating { try raw.getUntracked() })
    }

    /// Calls `observer` with the value now, then after each change, until the returned
    /// subscription is cancelled or released.
    ///
    /// An error of the closure or the observer is reported to ``onUnhandledError(_:)``; the
    /// observer keeps observing.
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    public func observe(_ observer: @escaping @Sendable (Value) throws -> Void) throws -> Subscription {
        let listener = TextListener { text in try observer(JSONCoding.decode(Value.self, from: text)) }
        return Subscription(try translating { try raw.subscribe(listener: listener) })
    }

    /// The value now, then each new value, as an `AsyncSequence` (see ``Signal/values``).
    public var values: AsyncStream<Value> {
        stateStream { continuation in try observe { continuation.yield($0) } }
    }

    /// Releases the computed (and its closure, once nothing else depends on it) and cancels
    /// the observers registered through it. Idempotent.
    public func close() {
        raw.close()
    }

    /// Whether ``close()`` was called.
    public var isClosed: Bool {
        raw.isClosed()
    }
}
