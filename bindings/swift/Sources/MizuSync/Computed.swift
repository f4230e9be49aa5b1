import MizuSyncFFI
import MizuSyncHot

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
///
/// ## Performance
/// A read is one direct C call, as a ``Signal``'s: `Int`, `Double`, `Bool` and `String` values
/// (and their optionals) cross as numbers and characters, and the computed keeps the last
/// such value it read with its version, so a read of an unchanged value copies and decodes
/// nothing. Other types cross as JSON text. A recomputation encodes the closure's value with
/// the wrapper's lean encoder (the library prints the text canonically itself), falling back
/// to `JSONEncoder` for what it does not handle.
public final class Computed<Value: Codable & Sendable>: Sendable {
    let raw: MizuSyncFFI.Computed
    /// The hot handle of `raw` for direct calls, given back in `deinit`.
    private let handle: UInt64
    private let reads = DirectReads<Value>()

    /// A computed whose value is what `compute` returns. `compute` does not run yet.
    ///
    /// `compute` may run on any thread that reads the computed (or a dependent), hence
    /// `@Sendable`.
    public init(_ compute: @escaping @Sendable () throws -> Value) {
        raw = MizuSyncFFI.Computed(f: ComputeClosure {
            String(decoding: try JSONCoding.encodeForLibrary(compute()), as: UTF8.self)
        })
        handle = raw.hotHandle()
    }

    deinit {
        mizu_hot_computed_release(handle)
    }

    /// The value, computing it if needed. Inside a ``Computed`` or ``Effect`` closure, the
    /// read is tracked.
    ///
    /// - Throws: what the closure threw, as ``MizuError`` (kept until a dependency changes;
    ///   a non-`MizuError` arrives as ``MizuError/callback(reason:)``);
    ///   ``MizuError/closed(what:)``.
    public func get() throws -> Value {
        try read(tracked: true)
    }

    /// The value, without becoming a dependency of the running computed or effect.
    ///
    /// - Throws: as ``get()``.
    public func peek() throws -> Value {
        try read(tracked: false)
    }

    /// One direct read, computing first when needed (see ``DirectReads/read(_:)``). What the
    /// closure threw comes back as the generated call's error did: ``ComputeClosure`` handed
    /// it to the library (a ``MizuError`` keeping its case), and ``directError()`` translates
    /// it back.
    private func read(tracked: Bool) throws -> Value {
        try reads.read { known in
            withExtendedLifetime(self) { mizu_hot_computed_get(handle, tracked ? 1 : 0, known) }
        }
    }

    /// Calls `observer` with the value now, then after each change, until the returned
    /// subscription is cancelled or released.
    ///
    /// An error of the closure or the observer is reported to ``onUnhandledError(_:)``; the
    /// observer keeps observing.
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    public func subscribe(_ observer: @escaping @Sendable (Value) throws -> Void) throws -> Subscription {
        let listener = TextListener { text in try observer(JSONCoding.decode(Value.self, from: text)) }
        return Subscription(try translating { try raw.subscribe(listener: listener) })
    }

    /// The value now, then each new value, as an `AsyncSequence` (see ``Signal/changes``).
    public var changes: AsyncStream<Value> {
        stateStream { continuation in try subscribe { continuation.yield($0) } }
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
