import Foundation
import MizuSyncFFI

/// An error raised by mizu-sync.
///
/// Each case answers "what would the app do differently?". Every throwing API of this module
/// throws only `MizuError`. Observers, computed and effect closures may throw any error: the
/// library reports it (see ``Client/onError(_:)`` and ``onUnhandledError(_:)``) and keeps
/// running; a `MizuError` thrown there keeps its case, any other error arrives as
/// ``callback(reason:)``.
public enum MizuError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The caller passed something unusable: an empty id, a malformed URL, bad options, an
    /// entity id that already exists on `create`.
    case invalidArgument(reason: String)
    /// A query is malformed: an empty or malformed field path, an unknown operator or key in a
    /// JSON spec, an operand that is not JSON or of the wrong kind, a negative limit or offset.
    case invalidQuery(reason: String)
    /// A value is not valid JSON, or does not encode or decode as the Swift type asks.
    case invalidJSON(reason: String)
    /// The entity (or other named thing) the operation needs does not exist.
    case notFound(what: String)
    /// The handle (client, collection, entity, signal, ...) was closed.
    case closed(what: String)
    /// Syncing is not running (the client is not started, or paused): start or resume it.
    case offline(reason: String)
    /// The server could not be reached, the connection broke, or it did not answer in time.
    /// Local reads and writes keep working; the client retries by itself.
    case network(reason: String)
    /// A wait (``Client/flush(timeout:)``) ran out of time before the server confirmed
    /// everything.
    case timeout(reason: String)
    /// The server refused the credentials, even after a token refresh.
    case unauthorized(status: UInt16, reason: String)
    /// The server answered with an error, or with something this client cannot read.
    case server(status: UInt16, code: String?, reason: String)
    /// The server rejected one mutation; its optimistic effect has been rolled back.
    case rejected(mutationID: String, name: String, reason: String)
    /// The local store could not read or write (disk full, corrupt file, file in use).
    case storage(reason: String)
    /// ``Client/clear(flushWithin:discardPending:)`` refused: `count` local writes have not
    /// reached the server, and discarding them was not asked for. Nothing was deleted.
    case pendingWrites(count: UInt64)
    /// The store file is encrypted and ``ClientOptions/encryptionKey`` is wrong or missing, or
    /// a key was given for a plain store file. Nothing was changed; open it again with the
    /// right key.
    case wrongKey(reason: String)
    /// The server's snapshot is larger than ``ClientOptions/maxSnapshotBytes`` (`limit` bytes);
    /// the local state was kept. Asked for again at the next pull interval, live notice or sync.
    case snapshotTooLarge(limit: UInt64)
    /// App code called by the library (an observer, a computed or effect closure) failed.
    case callback(reason: String)
    /// A bug or an environment failure (a thread that could not start).
    case `internal`(reason: String)

    /// A one-line description, as the Rust library words it.
    public var description: String {
        switch self {
        case .invalidArgument(let reason): return "invalid argument: \(reason)"
        case .invalidQuery(let reason): return "invalid query: \(reason)"
        case .invalidJSON(let reason): return "invalid JSON: \(reason)"
        case .notFound(let what): return "not found: \(what)"
        case .closed(let what): return "\(what) is closed"
        case .offline(let reason): return "offline: \(reason)"
        case .network(let reason): return "network: \(reason)"
        case .timeout(let reason): return "timed out: \(reason)"
        case .unauthorized(let status, let reason):
            return "not authorized (HTTP \(status)): \(reason)"
        case .server(let status, _, let reason): return "server error (HTTP \(status)): \(reason)"
        case .rejected(let id, let name, let reason):
            return "mutation \(id) (\(name)) was rejected: \(reason)"
        case .storage(let reason): return "storage: \(reason)"
        case .pendingWrites(let count):
            return "\(count) local write(s) have not reached the server"
        case .wrongKey(let reason): return "wrong encryption key: \(reason)"
        case .snapshotTooLarge(let limit):
            return "the snapshot is larger than the configured limit of \(limit) bytes"
        case .callback(let reason): return "callback failed: \(reason)"
        case .internal(let reason): return "internal error: \(reason)"
        }
    }
}

extension MizuError {
    /// The Swift error for an error of the generated bindings.
    init(_ raw: MizuSyncFFI.MizuError) {
        switch raw {
        case .InvalidArgument(let reason): self = .invalidArgument(reason: reason)
        case .InvalidQuery(let reason): self = .invalidQuery(reason: reason)
        case .InvalidJson(let reason): self = .invalidJSON(reason: reason)
        case .NotFound(let what): self = .notFound(what: what)
        case .Closed(let what): self = .closed(what: what)
        case .Offline(let reason): self = .offline(reason: reason)
        case .Network(let reason): self = .network(reason: reason)
        case .Timeout(let reason): self = .timeout(reason: reason)
        case .Unauthorized(let status, let reason):
            self = .unauthorized(status: status, reason: reason)
        case .Server(let status, let code, let reason):
            self = .server(status: status, code: code, reason: reason)
        case .Rejected(let id, let name, let reason):
            self = .rejected(mutationID: id, name: name, reason: reason)
        case .Storage(let reason): self = .storage(reason: reason)
        case .PendingWrites(let count): self = .pendingWrites(count: count)
        case .WrongKey(let reason): self = .wrongKey(reason: reason)
        case .SnapshotTooLarge(let limit): self = .snapshotTooLarge(limit: limit)
        case .Callback(let reason): self = .callback(reason: reason)
        case .Internal(let reason): self = .internal(reason: reason)
        }
    }

    /// The error of the generated bindings that carries this one back into Rust.
    var raw: MizuSyncFFI.MizuError {
        switch self {
        case .invalidArgument(let reason): return .InvalidArgument(reason: reason)
        case .invalidQuery(let reason): return .InvalidQuery(reason: reason)
        case .invalidJSON(let reason): return .InvalidJson(reason: reason)
        case .notFound(let what): return .NotFound(what: what)
        case .closed(let what): return .Closed(what: what)
        case .offline(let reason): return .Offline(reason: reason)
        case .network(let reason): return .Network(reason: reason)
        case .timeout(let reason): return .Timeout(reason: reason)
        case .unauthorized(let status, let reason):
            return .Unauthorized(status: status, reason: reason)
        case .server(let status, let code, let reason):
            return .Server(status: status, code: code, reason: reason)
        case .rejected(let id, let name, let reason):
            return .Rejected(mutationId: id, name: name, reason: reason)
        case .storage(let reason): return .Storage(reason: reason)
        case .pendingWrites(let count): return .PendingWrites(count: count)
        case .wrongKey(let reason): return .WrongKey(reason: reason)
        case .snapshotTooLarge(let limit): return .SnapshotTooLarge(limit: limit)
        case .callback(let reason): return .Callback(reason: reason)
        case .internal(let reason): return .Internal(reason: reason)
        }
    }
}

/// Runs `body`, a call into the generated bindings, translating their error into ``MizuError``.
func translating<R>(_ body: () throws -> R) throws -> R {
    do {
        return try body()
    } catch let error as MizuSyncFFI.MizuError {
        throw MizuError(error)
    }
}

/// Runs `body`, app code called back by Rust, so that what it throws crosses back as an error
/// of the generated bindings: a ``MizuError`` keeps its case, any other error becomes
/// ``MizuError/callback(reason:)`` with the error's description.
func reporting<R>(_ body: () throws -> R) throws -> R {
    do {
        return try body()
    } catch let error as MizuError {
        throw error.raw
    } catch let error as MizuSyncFFI.MizuError {
        throw error
    } catch {
        throw MizuSyncFFI.MizuError.Callback(reason: String(describing: error))
    }
}
