import Foundation

// The `AsyncSequence` side of the wrapper: how observers become streams, and how much a stream
// holds for a consumer that reads slower than the library changes. Nothing here grows without
// bound:
//
// - A state stream (``Signal/changes``, ``Computed/changes``, ``Entity/changes``,
//   ``Client/statusChanges``, ``Query/results``) keeps only the newest value: each element is a
//   whole state, so a slow consumer skips the states it had no time for and reads the latest.
// - An event stream (``Query/diffs``, ``Collection/changes``) keeps at most ``eventBuffer``
//   events; when a new event finds the buffer full, the buffered events and the new one are
//   replaced by one event to the same effect (a fresh whole result, a merged change), so a
//   consumer that applies every event in order still ends with the right state.
// - A client's event streams (``Client/syncs``, ``Client/connectivity``, ``Client/errors``,
//   ``Client/rejections``) keep the newest ``eventBuffer`` events: each event stands alone, so
//   the oldest are dropped first.

/// How many events an event stream (``Query/diffs``, ``Collection/changes``) holds for a
/// consumer that has not read them yet: 64, as in every binding of the library.
///
/// When a new event finds the buffer full:
/// - ``Query/diffs`` drops the buffered events and holds one ``QueryEvent/result(_:)`` with the
///   whole result as of the new event instead; a consumer that applies the diffs in order
///   restarts from it and stays correct.
/// - ``Collection/changes`` merges the buffered changes and the new one into one
///   ``CollectionChange``: each entity changed in any of them with its last value, each id
///   removed and not re-added since, so a consumer that applies the changes in order stays
///   correct and the merged change is at most one entry per entity touched.
public let eventBuffer = 64

/// A stream of states that keeps only the newest one for a slow consumer, tied to a
/// subscription: when the consumer stops iterating (or the stream is dropped), the
/// subscription is cancelled.
///
/// - Parameter subscribe: registers an observer that yields into the continuation.
func stateStream<Element: Sendable>(
    _ subscribe: (AsyncStream<Element>.Continuation) throws -> Subscription
) -> AsyncStream<Element> {
    let (stream, continuation) = AsyncStream<Element>.makeStream(bufferingPolicy: .bufferingNewest(1))
    do {
        let subscription = try subscribe(continuation)
        continuation.onTermination = { _ in subscription.cancel() }
    } catch {
        // A closed handle: the stream ends at once, as a sequence with nothing to give.
        continuation.finish()
    }
    return stream
}

/// A stream of standalone events that keeps the newest ``eventBuffer`` for a slow consumer,
/// tied to a subscription as ``stateStream(_:)`` is.
///
/// - Parameter subscribe: registers an observer that yields into the continuation.
func eventsStream<Element: Sendable>(
    _ subscribe: (AsyncStream<Element>.Continuation) -> Subscription
) -> AsyncStream<Element> {
    let (stream, continuation) = AsyncStream<Element>.makeStream(
        bufferingPolicy: .bufferingNewest(eventBuffer))
    let subscription = subscribe(continuation)
    continuation.onTermination = { _ in subscription.cancel() }
    return stream
}

/// A stream of states as ``stateStream(_:)``, which may also end with an error: one from
/// `subscribe` (the stream throws it at once) or one the observer finishes the stream with (the
/// subscription is then cancelled, even when that happens during `subscribe`).
func throwingStateStream<Element: Sendable>(
    _ subscribe: (AsyncThrowingStream<Element, Error>.Continuation) throws -> Subscription
) -> AsyncThrowingStream<Element, Error> {
    let (stream, continuation) = AsyncThrowingStream<Element, Error>.makeStream(
        bufferingPolicy: .bufferingNewest(1))
    let link = SubscriptionLink()
    continuation.onTermination = { _ in link.end() }
    do {
        link.attach(try subscribe(continuation))
    } catch {
        continuation.finish(throwing: error)
    }
    return stream
}

/// A stream of events held in an ``EventBuffer`` of ``eventBuffer`` events, tied to a
/// subscription as ``stateStream(_:)`` is.
///
/// - Parameters:
///   - whenFull: what replaces the buffered events and a new one when the buffer is full.
///   - subscribe: registers an observer that pushes into the sink.
func eventStream<Element: Sendable>(
    whenFull: @escaping @Sendable ([Element], Element) -> [Element],
    _ subscribe: (EventSink<Element>) throws -> Subscription
) -> AsyncStream<Element> {
    let buffer = EventBuffer(whenFull: whenFull)
    do {
        buffer.attach(try subscribe(EventSink(buffer)))
    } catch {
        buffer.finish()
    }
    return AsyncStream(unfolding: { (try? await buffer.next()) ?? nil })
}

/// A stream of events as ``eventStream(whenFull:_:)``, which may also end with an error as
/// ``throwingStateStream(_:)`` does.
func throwingEventStream<Element: Sendable>(
    whenFull: @escaping @Sendable ([Element], Element) -> [Element],
    _ subscribe: (EventSink<Element>) throws -> Subscription
) -> AsyncThrowingStream<Element, Error> {
    let buffer = EventBuffer(whenFull: whenFull)
    do {
        buffer.attach(try subscribe(EventSink(buffer)))
    } catch {
        buffer.finish(throwing: error)
    }
    return AsyncThrowingStream(unfolding: { try await buffer.next() })
}

/// What an observer pushes a stream's events into. It holds the buffer weakly, so that the
/// subscription (which owns the observer) does not keep the stream's buffer alive: releasing
/// the stream releases the buffer, which cancels the subscription.
final class EventSink<Element: Sendable>: @unchecked Sendable {
    private weak var buffer: EventBuffer<Element>?

    init(_ buffer: EventBuffer<Element>) {
        self.buffer = buffer
    }

    /// Hands `event` to the waiting consumer, or buffers it.
    func push(_ event: Element) {
        buffer?.push(event)
    }

    /// Ends the stream once the buffered events are read, then throws `error` if there is one.
    func finish(throwing error: Error? = nil) {
        buffer?.finish(throwing: error)
    }
}

/// The events of one stream that its one consumer has not read yet: at most `capacity`
/// (``eventBuffer``). A new event that finds the buffer full is handed with the buffered ones to
/// `whenFull`, whose result becomes the buffer. The producer never waits for the consumer.
///
/// The buffer owns the stream's subscription and cancels it when the stream ends, the
/// consumer's task is cancelled, or the buffer is released.
final class EventBuffer<Element: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private let capacity: Int
    private let whenFull: @Sendable ([Element], Element) -> [Element]
    private var events: [Element] = []
    /// The consumer suspended in ``next()`` (only when `events` is empty).
    private var waiter: CheckedContinuation<Element?, Error>?
    private var subscription: Subscription?
    private var finished = false
    /// What ``next()`` throws once `events` is empty, after ``finish(throwing:)``.
    private var failure: Error?

    init(capacity: Int = eventBuffer, whenFull: @escaping @Sendable ([Element], Element) -> [Element]) {
        self.capacity = capacity
        self.whenFull = whenFull
    }

    deinit {
        subscription?.cancel()
    }

    /// Keeps `subscription` until the stream ends (cancels it at once if it has ended).
    func attach(_ subscription: Subscription) {
        lock.lock()
        if finished {
            lock.unlock()
            subscription.cancel()
        } else {
            self.subscription = subscription
            lock.unlock()
        }
    }

    /// Hands `event` to the waiting consumer, or buffers it (see the type's docs). Ignored once
    /// the stream has ended.
    func push(_ event: Element) {
        lock.lock()
        if finished {
            lock.unlock()
            return
        }
        if let waiter {
            self.waiter = nil
            lock.unlock()
            waiter.resume(returning: event)
            return
        }
        if events.count < capacity {
            events.append(event)
        } else {
            events = whenFull(events, event)
        }
        lock.unlock()
    }

    /// Ends the stream: the consumer reads the buffered events, then `nil` (or `error`, once).
    /// Cancels the subscription. Idempotent.
    func finish(throwing error: Error? = nil) {
        lock.lock()
        if finished {
            lock.unlock()
            return
        }
        finished = true
        failure = error
        let subscription = self.subscription
        self.subscription = nil
        let waiter = self.waiter
        self.waiter = nil
        if waiter != nil { failure = nil }
        lock.unlock()
        subscription?.cancel()
        if let error {
            waiter?.resume(throwing: error)
        } else {
            waiter?.resume(returning: nil)
        }
    }

    /// The oldest buffered event, waiting for one when there is none; `nil` once the stream has
    /// ended (or the consumer's task is cancelled, which ends it).
    ///
    /// - Throws: the error the stream was finished with, once.
    func next() async throws -> Element? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<Element?, Error>) in
                lock.lock()
                if !events.isEmpty {
                    let event = events.removeFirst()
                    lock.unlock()
                    continuation.resume(returning: event)
                } else if finished {
                    let failure = self.failure
                    self.failure = nil
                    lock.unlock()
                    if let failure {
                        continuation.resume(throwing: failure)
                    } else {
                        continuation.resume(returning: nil)
                    }
                } else {
                    let busy = waiter != nil
                    waiter = continuation
                    lock.unlock()
                    // As AsyncStream: one consumer at a time.
                    precondition(!busy, "attempt to await next() on more than one task")
                }
            }
        } onCancel: {
            finish()
        }
    }
}

/// A subscription that is cancelled when its stream ends, whichever happens first.
private final class SubscriptionLink: @unchecked Sendable {
    private let lock = NSLock()
    private var subscription: Subscription?
    private var ended = false

    func attach(_ subscription: Subscription) {
        lock.lock()
        if ended {
            lock.unlock()
            subscription.cancel()
        } else {
            self.subscription = subscription
            lock.unlock()
        }
    }

    func end() {
        lock.lock()
        ended = true
        let subscription = self.subscription
        self.subscription = nil
        lock.unlock()
        subscription?.cancel()
    }
}
