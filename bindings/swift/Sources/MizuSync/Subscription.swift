import MizuSyncFFI

/// A registered observer. ``cancel()`` stops it; so does releasing the last reference to
/// the subscription. Keep it for as long as you want the observer called.
///
/// The subscription owns the observer closure: cancelling it also releases the closure and
/// what the closure captured.
public final class Subscription: Sendable {
    private let raw: MizuSyncFFI.Subscription

    init(_ raw: MizuSyncFFI.Subscription) {
        self.raw = raw
    }

    /// Stops the observer: it is not called again once this returns (except a call already
    /// running on another thread, which finishes). Idempotent.
    public func cancel() {
        raw.cancel()
    }

    /// Whether ``cancel()`` was called.
    public var isCancelled: Bool {
        raw.isCancelled()
    }
}
