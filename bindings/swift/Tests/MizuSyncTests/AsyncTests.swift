import Foundation
import MizuSync
import XCTest

/// The `async` surface against the reference server and real SQLite files: awaited sync and
/// flush, cancellation against a server that hangs, awaited writes from the main actor, the
/// delivery context, and the token providers.
final class AsyncTests: ServerTestCase {
    func testAnAwaitedSyncAndFlushComplete() async throws {
        let scope = uniqueScope("awaited")
        let writer = track(try Client(fastOptions(server, scope: scope)))
        let reader = track(try Client(fastOptions(server, scope: scope)))
        try writer.start()
        try reader.start()
        let todos = try writer.collection("todo", of: Todo.self)
        try await todos.create("a", Todo(title: "awaited"))
        try await writer.flush()
        XCTAssertEqual(try writer.pendingCount(), 0)
        try await reader.sync()
        XCTAssertEqual(try reader.collection("todo", of: Todo.self).get("a"), Todo(title: "awaited"))

        // The blocking overloads, picked outside async code.
        try blockingRound(writer, reader)
    }

    private func blockingRound(_ writer: Client, _ reader: Client) throws {
        try writer.collection("todo", of: Todo.self).set("b", Todo(title: "blocking"))
        try writer.flush(timeout: waitLimit)
        try reader.sync()
        XCTAssertEqual(try reader.collection("todo", of: Todo.self).get("b"), Todo(title: "blocking"))
    }

    func testCancellingAnAwaitedSyncOrFlushAgainstAHangingServerReturnsAtOnce() async throws {
        let hanging = try HangingServer()
        defer { hanging.stop() }
        var options = ClientOptions(baseURL: hanging.baseURL)
        options.requestTimeout = 20
        options.pushInterval = 0.05
        let client = track(try Client(options))
        try client.start()

        // The push of this write hangs: the flush waits for it.
        try await client.collection("todo", of: Todo.self).create("a", Todo(title: "stuck"))
        let flush = Task { try await client.flush(timeout: 30) }
        try waitUntil("the push reaches the hanging server") { hanging.requests.current >= 1 }
        let flushElapsed = try await cancelAndTime(flush)

        let sync = Task { try await client.sync() }
        try waitUntil("the client is syncing") { try client.status().isSyncing }
        let syncElapsed = try await cancelAndTime(sync)

        print("cancelled sync returned after \(syncElapsed) s, flush after \(flushElapsed) s (request timeout 20 s)")
        XCTAssertLessThan(syncElapsed, 2)
        XCTAssertLessThan(flushElapsed, 2)
    }

    /// Cancels `task`, which must still be waiting, and returns how long it took to end with
    /// `CancellationError`.
    private func cancelAndTime(_ task: Task<Void, Error>) async throws -> TimeInterval {
        let start = Date()
        task.cancel()
        do {
            try await task.value
            XCTFail("the cancelled call completed")
        } catch is CancellationError {
        } catch {
            XCTFail("the cancelled call threw \(error) instead of CancellationError")
        }
        return Date().timeIntervalSince(start)
    }

    @MainActor
    func testAwaitedWritesFromTheMainActorNeverBlockItForTheCommit() async throws {
        let path = temporaryPath("main.db")
        let client = track(try Client(fastOptions(server, scope: uniqueScope("main"), storagePath: path)))
        let todos = try client.collection("todo", of: Todo.self)
        let commitThreads = Log<Bool>()
        let observer = try todos.subscribe { change in
            if !change.changed.isEmpty { commitThreads.append(Thread.isMainThread) }
        }

        // A ticker on the main actor: it only advances while the main actor is free.
        let ticker = Ticker()
        let ticking = Task { @MainActor in await ticker.run() }
        let writes = 300
        var ticksDuringWrites = 0
        var longestWrite: TimeInterval = 0
        for i in 0..<writes {
            let before = ticker.ticks
            let start = Date()
            try await todos.set("t\(i)", Todo(title: "todo \(i)"))
            longestWrite = max(longestWrite, Date().timeIntervalSince(start))
            if ticker.ticks > before { ticksDuringWrites += 1 }
        }
        ticker.running = false
        await ticking.value
        observer.cancel()

        print("main actor ticked during \(ticksDuringWrites) of \(writes) awaited writes (\(ticker.ticks) ticks); longest await \(longestWrite) s")
        XCTAssertGreaterThan(ticksDuringWrites, writes / 2, "the main actor was free while the writes committed")
        XCTAssertEqual(commitThreads.all.count, writes)
        XCTAssertFalse(commitThreads.all.contains(true), "a commit ran on the main thread")
        XCTAssertEqual(try todos.count(), writes)

        // Durable: another client of the same file sees every write.
        await client.close()
        let reopened = track(try Client(fastOptions(server, scope: uniqueScope("main"), storagePath: path)))
        XCTAssertEqual(try reopened.collection("todo", of: Todo.self).get("t\(writes - 1)"), Todo(title: "todo \(writes - 1)"))
    }

    func testListenersOfServerChangesRunOnTheDeliveryContextOnlyWhenDispatched() async throws {
        let scope = uniqueScope("delivery")
        let writer = track(try Client(fastOptions(server, scope: scope)))
        try writer.start()
        // The app's context: a thread of its own that runs the blocks handed to it, when told.
        let context = ManualContext()
        let reader = track(try Client(fastOptions(server, scope: scope), delivery: .custom { context.enqueue($0) }))
        try reader.start()
        try await reader.sync()

        let todos = try reader.collection("todo", of: Todo.self)
        let entity = try todos.entity("a")
        let ran = Log<String>()
        let record: @Sendable (String) -> Void = { ran.append("\($0)@\(ManualContext.current)") }
        let onEntity = try entity.subscribe { if $0 != nil { record("entity") } }
        let onCollection = try todos.subscribe { if !$0.changed.isEmpty { record("collection") } }
        let onQuery = try todos.query().where(Field("completed") == false).subscribe {
            if case .diff = $0 { record("query") }
        }
        let effect = Effect { if try entity.get() != nil { record("effect") } }
        let onSync = reader.onSync { _ in record("onSync") }
        XCTAssertEqual(ran.all, [])

        try await writer.collection("todo", of: Todo.self).create("a", Todo(title: "from the server"))
        try await writer.flush()
        try await reader.sync()
        try waitUntil("deliveries are handed to the context") { context.waiting > 0 }
        XCTAssertEqual(ran.all, [], "no listener ran before the context dispatched")
        XCTAssertEqual(try todos.get("a")?.title, "from the server")

        context.runWaiting()
        let names = Set(ran.all)
        XCTAssertTrue(names.isSuperset(of: ["entity@delivery", "collection@delivery", "query@delivery",
                                            "effect@delivery", "onSync@delivery"]), "\(ran.all)")
        XCTAssertTrue(ran.all.allSatisfy { $0.hasSuffix("@delivery") }, "\(ran.all)")
        [onEntity, onCollection, onQuery, onSync].forEach { $0.cancel() }
        effect.stop()
    }

    func testListenersRunOnADispatchQueueDelivery() async throws {
        let scope = uniqueScope("queue")
        let key = SpecificKey()
        let queue = DispatchQueue(label: "deliveries")
        queue.setSpecific(key: key.key, value: "deliveries")
        let writer = track(try Client(fastOptions(server, scope: scope)))
        let reader = track(try Client(fastOptions(server, scope: scope), delivery: .queue(queue)))
        try writer.start()
        try reader.start()
        let seen = Log<String?>()
        let onChange = try reader.collection("todo", of: Todo.self).subscribe { change in
            if !change.changed.isEmpty { seen.append(DispatchQueue.getSpecific(key: key.key)) }
        }
        try await writer.collection("todo", of: Todo.self).create("a", Todo(title: "queued"))
        try await writer.flush()
        try await reader.sync()
        try waitUntil("the listener ran") { !seen.all.isEmpty }
        XCTAssertEqual(seen.all, ["deliveries"])
        onChange.cancel()
    }

    @MainActor
    func testListenersRunOnTheMainActorDelivery() async throws {
        let scope = uniqueScope("mainactor")
        let writer = track(try Client(fastOptions(server, scope: scope)))
        let reader = track(try Client(fastOptions(server, scope: scope), delivery: .mainActor))
        try writer.start()
        try reader.start()
        let seen = Log<Bool>()
        let onSync = reader.onSync { _ in seen.append(Thread.isMainThread) }
        try await writer.collection("todo", of: Todo.self).create("a", Todo(title: "main"))
        try await writer.flush()
        try await reader.sync()
        while seen.all.isEmpty { await Task.yield() }   // the main actor runs the delivery
        XCTAssertEqual(Set(seen.all), [true])
        onSync.cancel()
    }

    func testAnAsyncTokenProviderIsAwaitedAndRefreshedAfterA401() async throws {
        let proxy = try AuthProxy(upstream: server.addr, token: "fresh")
        defer { proxy.stop() }
        let asked = Log<Bool>()
        let refreshed = Locked(false)
        var options = fastOptions(server, scope: uniqueScope("async-token"))
        options.baseURL = proxy.baseURL
        let client = track(try Client(options, tokenProvider: { refresh in
            asked.append(refresh)
            try await Task.sleep(nanoseconds: 1_000_000)   // a real suspension, as a refresh call
            if refresh { refreshed.update { $0 = true } }
            return refreshed.update { $0 } ? "fresh" : "stale"
        }))
        try client.start()
        try await client.collection("todo", of: Todo.self).create("a", Todo(title: "with a token"))
        try await client.flush()

        XCTAssertEqual(asked.all.first, false)
        XCTAssertTrue(asked.all.contains(true), "the provider was asked to refresh: \(asked.all)")
        XCTAssertTrue(proxy.seen.all.contains("stale"))
        XCTAssertTrue(proxy.seen.all.contains("fresh"))
        XCTAssertEqual(try client.pendingCount(), 0)
    }

    func testASynchronousTokenProviderStillWorks() async throws {
        let proxy = try AuthProxy(upstream: server.addr, token: "secret")
        defer { proxy.stop() }
        let asked = Counter()
        var options = fastOptions(server, scope: uniqueScope("sync-token"))
        options.baseURL = proxy.baseURL
        let client = track(try Client(options, tokenProvider: { _ in _ = asked.next(); return "secret" }))
        try client.start()
        try await client.collection("todo", of: Todo.self).create("a", Todo(title: "with a token"))
        try await client.flush()
        XCTAssertGreaterThan(asked.current, 0)
        XCTAssertEqual(Set(proxy.seen.all), ["secret"])
    }

    func testTheEventStreamsCarrySyncs() async throws {
        let client = track(try Client(fastOptions(server, scope: uniqueScope("streams"))))
        var syncs = client.syncs.makeAsyncIterator()
        try client.start()
        try await client.sync()
        let cursor = await syncs.next()
        XCTAssertNotNil(cursor)
    }
}

/// A delivery context the test drives: blocks wait until ``runWaiting()`` runs them on a thread
/// named "delivery".
final class ManualContext: @unchecked Sendable {
    private let lock = NSLock()
    private var blocks: [@Sendable () -> Void] = []

    func enqueue(_ block: @escaping @Sendable () -> Void) {
        lock.lock()
        blocks.append(block)
        lock.unlock()
    }

    /// "delivery" on the context's thread, "elsewhere" on any other.
    static var current: String {
        Thread.current.threadDictionary["context"] as? String ?? "elsewhere"
    }

    var waiting: Int {
        lock.lock()
        defer { lock.unlock() }
        return blocks.count
    }

    /// Runs the waiting blocks on the "delivery" thread and returns when they are done.
    func runWaiting() {
        lock.lock()
        let blocks = self.blocks
        self.blocks = []
        lock.unlock()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            Thread.current.threadDictionary["context"] = "delivery"
            blocks.forEach { $0() }
            done.signal()
        }
        thread.name = "delivery"
        thread.start()
        done.wait()
    }
}

/// Counts turns of the main actor while it is free.
@MainActor
final class Ticker {
    var ticks = 0
    var running = true

    func run() async {
        while running {
            ticks += 1
            await Task.yield()
        }
    }
}

/// A dispatch queue's specific key, shared with listeners.
final class SpecificKey: @unchecked Sendable {
    let key = DispatchSpecificKey<String>()
}
