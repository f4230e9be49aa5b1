import Foundation
import MizuSyncFFI
import MizuSyncHot

/// A writable reactive value, shared with the Rust graph: computeds and effects on either
/// side that read it re-run when it changes.
///
/// The value crosses as JSON (`Value` is `Codable`); writing a value equal to the current one
/// notifies nobody.
///
/// ```swift
/// let count = try Signal(0)
/// let doubled = Computed { try count.get() * 2 }
/// try count.set(5)
/// try doubled.get()          // 10
/// for await n in count.changes { print(n) }   // 5, then each new value
/// ```
///
/// ## Threading
/// Every method may be called from any thread. Dependents (computeds, effects, observers) run
/// on the writing thread before ``set(_:)`` returns.
///
/// ## Performance
/// `Int`, `Double`, `Bool` and `String` values (and their optionals) cross as numbers and
/// characters, one direct C call per ``get()`` or ``set(_:)``, and the signal keeps the last
/// such value it saw with its version: a read of an unchanged value copies nothing. Other
/// types cross as JSON text.
public final class Signal<Value: Codable & Sendable>: Sendable {
    let raw: MizuSyncFFI.Signal
    /// The hot handle of `raw` for direct calls, given back in `deinit`.
    private let handle: UInt64
    private let reads = DirectReads<Value>()
    private let subscriptions = DirectSubscriptions()

    /// A signal holding `value`.
    ///
    /// - Throws: ``MizuError/invalidJSON(reason:)`` when `value` does not encode as JSON.
    public init(_ value: Value) throws {
        let text = try JSONCoding.encode(value)
        raw = try translating { try MizuSyncFFI.Signal(valueJson: text) }
        handle = raw.hotHandle()
    }

    deinit {
        mizu_hot_signal_release(handle)
    }

    /// The value. Inside a ``Computed`` or ``Effect`` closure, the read is tracked.
    ///
    /// - Throws: ``MizuError/closed(what:)`` after ``close()``.
    public func get() throws -> Value {
        try read(tracked: true)
    }

    /// The value, without becoming a dependency of the running computed or effect.
    ///
    /// - Throws: ``MizuError/closed(what:)`` after ``close()``.
    public func peek() throws -> Value {
        try read(tracked: false)
    }

    /// One direct read (see ``DirectReads/read(_:)``).
    private func read(tracked: Bool) throws -> Value {
        try reads.read { known in
            withExtendedLifetime(self) { mizu_hot_signal_get(handle, tracked ? 1 : 0, known) }
        }
    }

    /// Replaces the value; dependents re-run on this thread before this returns.
    ///
    /// - Throws: ``MizuError/invalidJSON(reason:)``; ``MizuError/closed(what:)``.
    public func set(_ value: Value) throws {
        let version = try withExtendedLifetime(self) { try reads.codec.write(value, to: handle) }
        if version < 0 {
            throw directError()
        }
        reads.wrote(value, version: UInt64(version))
    }

    /// Replaces the value with `transform(current)`, atomically (a compare-and-set loop, as
    /// Kotlin's `MutableStateFlow.update`): when another thread writes the signal while
    /// `transform` runs, `transform` runs again on the newer value, so concurrent updates never
    /// lose one another. `transform` may therefore run more than once for one call: keep it
    /// free of side effects. It runs on the calling thread with no lock held (it may call into
    /// the library). The read of the current value is not tracked.
    ///
    /// ```swift
    /// try hits.update { $0 + 1 }    // from any number of threads: no increment is lost
    /// ```
    ///
    /// - Throws: what `transform` throws (the value is then unchanged), as ``MizuError``;
    ///   ``MizuError/closed(what:)``.
    public func update(_ transform: (Value) throws -> Value) throws {
        try withoutActuallyEscaping(transform) { transform in
            let function = ScopedUpdate { text in
                try JSONCoding.encode(transform(JSONCoding.decode(Value.self, from: text)))
            }
            try translating { try raw.update(f: function) }
        }
    }

    /// Calls `observer` with the value now, then after each change, until the returned
    /// subscription is cancelled or released.
    ///
    /// `observer` runs on the writing thread. What it throws is reported to
    /// ``onUnhandledError(_:)``; it keeps observing.
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    public func subscribe(_ observer: @escaping @Sendable (Value) throws -> Void) throws -> Subscription {
        let codec = reads.codec
        let subscription = try withExtendedLifetime(self) {
            try DirectSubscription(signal: handle) { value in try observer(codec.decode(value)) }
        }
        subscriptions.keep(subscription)
        return Subscription(direct: subscription)
    }

    /// The value now, then each new value, as an `AsyncSequence`. Iterating ends when the
    /// consumer stops (or the signal is closed before it starts). Only the newest value waits
    /// for a slow consumer: the values it had no time for are skipped, so it reads the latest.
    public var changes: AsyncStream<Value> {
        stateStream { continuation in try subscribe { continuation.yield($0) } }
    }

    /// Releases the value and cancels the observers registered through this signal; every
    /// later call throws ``MizuError/closed(what:)``. Idempotent.
    public func close() {
        raw.close()
        subscriptions.cancelAll()
    }

    /// Whether ``close()`` was called.
    public var isClosed: Bool {
        raw.isClosed()
    }
}
