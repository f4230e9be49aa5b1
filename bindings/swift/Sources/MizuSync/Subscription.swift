import MizuSyncFFI

/// A registered observer. ``cancel()`` stops it; so does releasing the last reference to
/// the subscription. Keep it for as long as you want the observer called.
///
/// The subscription owns the observer closure: cancelling it also releases the closure and
/// what the closure captured.
public final class Subscription: Sendable {
    /// A subscription of the generated bindings, or one made by a direct call (a signal's
    /// observer).
    private enum Backing: Sendable {
        case generated(MizuSyncFFI.Subscription)
        case direct(DirectSubscription)
    }

    private let backing: Backing

    init(_ raw: MizuSyncFFI.Subscription) {
        backing = .generated(raw)
    }

    init(direct: DirectSubscription) {
        backing = .direct(direct)
    }

    /// Stops the observer: it is not called again once this returns (except a call already
    /// running on another thread, which finishes). Idempotent.
    public func cancel() {
        switch backing {
        case .generated(let raw): raw.cancel()
        case .direct(let direct): direct.cancel()
        }
    }

    /// Whether ``cancel()`` was called.
    public var isCancelled: Bool {
        switch backing {
        case .generated(let raw): return raw.isCancelled()
        case .direct(let direct): return direct.isCancelled
        }
    }
}
