import Dispatch
import Foundation
import MizuSyncFFI

// The `async` side of the wrapper: awaiting the library's own futures with a wait that task
// cancellation ends at once, where deliveries run (``Delivery``), and the app's async token
// provider run from a library thread.

/// Awaits `operation` (a call of the generated bindings' `async` methods, which run on the
/// library's runtime) so that cancelling the calling task ends the wait at once with
/// `CancellationError`.
///
/// The generated `async` call waits for the library's future until it completes, whatever
/// happens to the task; so it runs in a task of its own, and the caller waits on a gate that
/// either the call's outcome or the cancellation opens, whichever comes first. After a
/// cancellation the library's operation goes on in the background (a sync round finishes, a
/// write commits; a flush's wait ends at its timeout) and its outcome is dropped.
func awaiting<R: Sendable>(
    _ operation: @escaping @Sendable () async throws -> R
) async throws -> R {
    let gate = Gate<R>()
    let call = Task.detached(priority: Task.currentPriority) {
        do {
            gate.open(.success(try await operation()))
        } catch let error as MizuSyncFFI.MizuError {
            gate.open(.failure(MizuError(error)))
        } catch {
            gate.open(.failure(error))
        }
    }
    return try await withTaskCancellationHandler {
        try await gate.wait()
    } onCancel: {
        call.cancel()
        gate.open(.failure(CancellationError()))
    }
}

/// A one-shot outcome that one waiter awaits; the first ``open(_:)`` wins.
private final class Gate<R: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var outcome: Result<R, Error>?
    private var waiter: CheckedContinuation<R, Error>?

    func open(_ result: Result<R, Error>) {
        lock.lock()
        guard outcome == nil else {
            lock.unlock()
            return
        }
        outcome = result
        let waiter = self.waiter
        self.waiter = nil
        lock.unlock()
        waiter?.resume(with: result)
    }

    func wait() async throws -> R {
        try await withCheckedThrowingContinuation { continuation in
            lock.lock()
            if let outcome {
                lock.unlock()
                continuation.resume(with: outcome)
            } else {
                waiter = continuation
                lock.unlock()
            }
        }
    }
}

/// Where a client's deliveries run: the observers woken by server changes and by awaited
/// writes, effects re-run by them, status observers and the event observers (``Client/onSync(_:)``,
/// ``Client/onConnectivity(_:)``, ``Client/onError(_:)``, ``Client/onRejected(_:)``).
///
/// Without one, they run on the client's sync thread. With one, the library queues them and
/// runs them, in order, when the client's ``Client/dispatchPending()`` is called on the chosen
/// context, which the client arranges each time deliveries start waiting. Observers of a
/// blocking local write still run on the writing thread before the write returns.
///
/// ```swift
/// let client = try Client(options, delivery: .mainActor)   // observers run on the main actor
/// ```
public enum Delivery: Sendable {
    /// On the main actor (the main thread, through the main dispatch queue): for UI state.
    case mainActor
    /// On a dispatch queue (a serial one keeps deliveries from overlapping one another).
    case queue(DispatchQueue)
    /// Isolated to an actor.
    case actor(any Actor)
    /// Wherever `schedule` runs the block it is given (for an executor or run loop of the app's
    /// own). `schedule` is called on a library thread and must not run the block inline.
    case custom(@Sendable (_ block: @escaping @Sendable () -> Void) -> Void)

    /// Runs `block` on this context, later.
    func schedule(_ block: @escaping @Sendable () -> Void) {
        switch self {
        case .mainActor:
            DispatchQueue.main.async(execute: block)
        case .queue(let queue):
            queue.async(execute: block)
        case .actor(let actor):
            Task { await actor.mizuRun(block) }
        case .custom(let schedule):
            schedule(block)
        }
    }
}

extension Actor {
    /// Runs `block` isolated to this actor.
    fileprivate func mizuRun(_ block: @Sendable () -> Void) {
        block()
    }
}

/// The client's pending listener: told (on a library thread) that deliveries wait, it has the
/// client's ``Client/dispatchPending()`` run on the chosen ``Delivery`` context. It holds the
/// client weakly: the client owns it.
final class PendingHop: PendingListener, @unchecked Sendable {
    private let delivery: Delivery
    private let lock = NSLock()
    private weak var client: MizuSyncFFI.Client?

    init(_ delivery: Delivery) {
        self.delivery = delivery
    }

    /// Attaches the client whose deliveries this runs (once it exists).
    func attach(_ client: MizuSyncFFI.Client) {
        lock.lock()
        self.client = client
        lock.unlock()
    }

    func onPending() throws {
        delivery.schedule { [weak self] in
            guard let self else { return }
            self.lock.lock()
            let client = self.client
            self.lock.unlock()
            _ = try? client?.dispatchPending()
        }
    }
}

/// The app's synchronous token provider, called on a library I/O thread.
final class TokenClosure: TokenProvider, Sendable {
    private let body: @Sendable (Bool) throws -> String?
    init(_ body: @escaping @Sendable (Bool) throws -> String?) { self.body = body }
    func token(refresh: Bool) throws -> String? { try reporting { try body(refresh) } }
}

/// The app's `async` token provider: the library I/O thread that asks for a token starts it in
/// a task and waits for it, at most `limit` seconds (the request timeout), so that a provider
/// that never answers fails the request instead of wedging syncing.
final class AsyncTokenClosure: TokenProvider, Sendable {
    private let body: @Sendable (Bool) async throws -> String?
    private let limit: TimeInterval

    init(_ body: @escaping @Sendable (Bool) async throws -> String?, limit: TimeInterval) {
        self.body = body
        self.limit = limit
    }

    func token(refresh: Bool) throws -> String? {
        try reporting {
            let outcome = Locked<Result<String?, Error>?>(nil)
            let done = DispatchSemaphore(value: 0)
            let body = self.body
            let task = Task.detached {
                let result: Result<String?, Error>
                do {
                    result = .success(try await body(refresh))
                } catch {
                    result = .failure(error)
                }
                outcome.set(result)
                done.signal()
            }
            if done.wait(timeout: .now() + limit) == .timedOut {
                task.cancel()
                throw MizuError.timeout(reason: "the token provider did not answer within \(limit) s")
            }
            return try outcome.get()?.get() ?? nil
        }
    }
}

/// A value guarded by a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func get() -> Value { lock.lock(); defer { lock.unlock() }; return value }
    func set(_ new: Value) { lock.lock(); value = new; lock.unlock() }
}
