import MizuSyncFFI

/// How important a log record is, from the most to the least severe (`.error < .trace`).
public enum LogLevel: Int, Comparable, Sendable, CaseIterable {
    /// Something failed and the app may need to act (a store error).
    case error = 1
    /// Something failed and the engine copes (a rejection, going offline, a lost live
    /// connection).
    case warn
    /// A milestone: a push's outcome, a snapshot, catching up, a backoff, an auth refresh, the
    /// live connection opening.
    case info
    /// Per-request detail: each push, pull page, live notification and failed attempt.
    case debug
    /// The finest detail: each HTTP exchange's status, size and time.
    case trace

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    var raw: MizuSyncFFI.LogLevel {
        switch self {
        case .error: return .error
        case .warn: return .warn
        case .info: return .info
        case .debug: return .debug
        case .trace: return .trace
        }
    }

    init(_ raw: MizuSyncFFI.LogLevel) {
        switch raw {
        case .error: self = .error
        case .warn: self = .warn
        case .info: self = .info
        case .debug: self = .debug
        case .trace: self = .trace
        }
    }
}

/// Receives the engine's log records: `(level, target, message)`, where `target` names the
/// kind of decision (`mizu_sync::push`, `mizu_sync::pull`, `mizu_sync::snapshot`,
/// `mizu_sync::backoff`, `mizu_sync::rejection`, `mizu_sync::auth`, `mizu_sync::live`,
/// `mizu_sync::store`, `mizu_sync::engine`, `mizu_sync::http`). Called on the library's threads
/// as records happen (never through a ``Delivery``), with no library lock held. Records never
/// hold a token or a header value.
public typealias LogHandler = @Sendable (_ level: LogLevel, _ target: String, _ message: String) -> Void

/// The app's log closure as the generated layer's listener.
final class LogClosure: MizuSyncFFI.LogListener, Sendable {
    private let body: LogHandler
    init(_ body: @escaping LogHandler) { self.body = body }
    func onLog(level: MizuSyncFFI.LogLevel, target: String, message: String) throws {
        body(LogLevel(level), target, message)
    }
}
