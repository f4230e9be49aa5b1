import Foundation
import MizuSync
import XCTest

/// The client against the reference server: the seed's quick example, convergence, outages,
/// rejections, misbehaving observers, threads, closing and bad input.
final class ClientTests: ServerTestCase {
    override var durableServer: Bool { true }

    func testQuickExampleWithATodoCollection() async throws {
        let client = try startedClient(scope: uniqueScope("quick"))
        let synced = Log<UInt64>()
        let onSync = client.onSync { synced.append($0) }
        let todos = try client.collection("todo", of: Todo.self)
        let todo = try await todos.create("todo-1", Todo(title: "Learn sync"))
        let printed = Log<String>()
        let effect = Effect {
            if let t = try todo.get() { printed.append("\(t.title) [\(t.completed ? "done" : "pending")]") }
        }
        try await todo.set(Todo(title: "Learn sync", completed: true))
        try await client.flush(timeout: waitLimit)

        XCTAssertEqual(printed.all, ["Learn sync [pending]", "Learn sync [done]"])
        XCTAssertEqual(try client.pendingCount(), 0)
        XCTAssertGreaterThan(try client.cursor(), 0)
        XCTAssertTrue(try client.isOnline())
        XCTAssertFalse(synced.all.isEmpty)
        XCTAssertEqual(try todos.values(), [Todo(title: "Learn sync", completed: true)])
        effect.stop()
        onSync.cancel()
    }

    func testTwoClientsConverge() async throws {
        let scope = uniqueScope("converge")
        let phone = try startedClient(scope: scope), laptop = try startedClient(scope: scope)
        let phoneTodos = try phone.collection("todo", of: Todo.self)
        let laptopTodos = try laptop.collection("todo", of: Todo.self)

        try await phoneTodos.create("milk", Todo(title: "Buy milk"))
        try await phoneTodos.create("docs", Todo(title: "Read the docs"))
        try await phone.flush(timeout: waitLimit)
        try await laptop.sync()
        XCTAssertEqual(try laptopTodos.ids(), ["docs", "milk"])

        try laptopTodos.update("milk", Todo(title: "Buy milk", completed: true))
        try await laptopTodos.delete("docs")
        try await laptop.flush(timeout: waitLimit)
        try await phone.sync()
        XCTAssertEqual(try phoneTodos.get("milk"), Todo(title: "Buy milk", completed: true))
        XCTAssertFalse(try phoneTodos.has("docs"))
        XCTAssertEqual(try phoneTodos.entries().map(\.id), try laptopTodos.entries().map(\.id))
    }

    func testOfflineWritesReachTheServerAfterItComesBack() async throws {
        let scope = uniqueScope("offline")
        let writer = try startedClient(scope: scope, storagePath: temporaryPath("writer.db"))
        let went = Log<Bool>()
        let connectivity = writer.onConnectivity { went.append($0) }
        try await writer.sync()

        server.stop()
        let todos = try writer.collection("todo", of: Todo.self)
        try await todos.create("offline", Todo(title: "Written offline"))
        try waitUntil("the writer notices the outage") { try !writer.isOnline() }
        XCTAssertEqual(try todos.get("offline")?.title, "Written offline")
        XCTAssertEqual(try writer.pendingCount(), 1)

        try server.start()
        try await writer.flush(timeout: waitLimit)
        XCTAssertEqual(try writer.pendingCount(), 0)
        try waitUntil("the writer is back online") { went.all.last == true }
        XCTAssertTrue(went.all.contains(false))

        let reader = try startedClient(scope: scope)
        try await reader.sync()
        XCTAssertEqual(try reader.collection("todo", of: Todo.self).get("offline")?.title, "Written offline")
        connectivity.cancel()
    }

    func testARejectedMutationRollsBackAndIsReported() async throws {
        try server.reject(name: "todo.create", argContains: "forbidden", error: "titles may not say forbidden")
        let client = try startedClient(scope: uniqueScope("rejected"))
        let rejected = Log<RejectedMutation>(), errors = Log<MizuError>()
        let onRejected = client.onRejected { rejected.append($0) }
        let onError = client.onError { errors.append($0) }
        let todos = try client.collection("todo", of: Todo.self)

        try await todos.create("bad", Todo(title: "forbidden"))
        try await todos.create("good", Todo(title: "allowed"))
        XCTAssertEqual(try todos.count(), 2)
        try await client.flush(timeout: waitLimit)

        try waitUntil("the rejection arrives") { rejected.all.count == 1 }
        XCTAssertEqual(rejected.all[0].name, "todo.create")
        XCTAssertTrue(rejected.all[0].reason.contains("titles may not say forbidden"))
        XCTAssertEqual(try todos.ids(), ["good"])
        try waitUntil("the error observer hears of it") {
            errors.all.contains { if case .rejected(rejected.all[0].mutationID, "todo.create", _) = $0 { return true }; return false }
        }
        onRejected.cancel()
        onError.cancel()
    }

    func testASnapshotOverMaxSnapshotBytesIsReportedAndTheClientStaysOnline() async throws {
        let scope = uniqueScope("snapshot-limit")
        let writer = try startedClient(scope: scope)
        let todos = try writer.collection("todo", of: Todo.self)
        for i in 0..<3 { try await todos.create("t\(i)", Todo(title: String(repeating: "x", count: 2000))) }
        try await writer.flush(timeout: waitLimit)
        var options = fastOptions(server, scope: scope)
        options.maxSnapshotBytes = 1000
        let reader = track(try Client(options))
        let errors = Log<MizuError>()
        let onError = reader.onError { errors.append($0) }
        try reader.start()
        try waitUntil("the limit is reported") {
            errors.all.contains { if case .snapshotTooLarge(1000) = $0 { return true }; return false }
        }
        let status = try reader.status()
        XCTAssertTrue(status.isOnline)
        XCTAssertTrue(status.lastError?.contains("limit of 1000 bytes") ?? false, "\(status)")
        XCTAssertEqual(try reader.collection("todo", of: Todo.self).count(), 0)
        onError.cancel()
    }

    func testAThrowingObserverDoesNotBreakSync() async throws {
        let scope = uniqueScope("throwing")
        let writer = try startedClient(scope: scope), reader = try startedClient(scope: scope)
        let errors = Log<MizuError>()
        let onError = reader.onError { errors.append($0) }
        let readerTodos = try reader.collection("todo", of: Todo.self)
        struct ObserverFailure: Error {}
        let seen = Log<String>()
        let observer = try readerTodos.subscribe { change in
            change.changed.forEach { seen.append($0.id) }
            throw ObserverFailure()
        }
        let writerTodos = try writer.collection("todo", of: Todo.self)

        try await writerTodos.create("one", Todo(title: "one"))
        try await writer.flush(timeout: waitLimit)
        try waitUntil("the reader sees the first todo") { try readerTodos.count() == 1 }
        try await writerTodos.create("two", Todo(title: "two"))
        try await writer.flush(timeout: waitLimit)
        try waitUntil("the reader sees the second todo") { try readerTodos.count() == 2 }

        try waitUntil("the observer saw both") { Set(seen.all) == ["one", "two"] }
        XCTAssertTrue(errors.all.contains { if case .callback(let r) = $0 { return r.contains("ObserverFailure") }; return false })
        XCTAssertEqual(try reader.status().lastError, nil)
        observer.cancel()
        onError.cancel()
    }

    func testSyncThreadCallbacksWhileTheTestCallsIn() async throws {
        let scope = uniqueScope("threads")
        let writer = try startedClient(scope: scope), reader = try startedClient(scope: scope)
        let readerTodos = try reader.collection("todo", of: Todo.self)
        let notes = try reader.collection("note", of: String.self)
        let counts = Log<Int>()
        // The observer keeps the contents itself, from the changes alone.
        let contents = Locked<[String: Todo]>([:])
        // Runs on the reader's sync thread for server changes, and calls back in.
        let observer = try readerTodos.subscribe { change in
            _ = try reader.status()
            _ = try notes.count()
            let kept = contents.update { byID in
                for (id, todo) in change.changed { byID[id] = todo }
                for id in change.removed { byID[id] = nil }
                return byID.count
            }
            counts.append(try readerTodos.count())
            XCTAssertEqual(kept, try readerTodos.count())
        }
        let writerTodos = try writer.collection("todo", of: Todo.self)
        for i in 0..<20 { try await writerTodos.create("t\(i)", Todo(title: "todo \(i)")) }
        try await writer.flush(timeout: waitLimit)

        // Meanwhile this thread writes and reads the same client.
        var written = 0
        try waitUntil("the reader has all 20 todos") {
            try notes.set("n\(written)", "note \(written)")
            written += 1
            _ = try reader.pendingCount()
            return try readerTodos.count() == 20
        }
        try waitUntil("the observer saw all 20") { counts.all.last == 20 }
        XCTAssertEqual(try notes.count(), written)
        observer.cancel()
    }

    func testClosingHandlesMakesCallsThrowClosed() async throws {
        let client = try startedClient(scope: uniqueScope("closing"))
        let todos = try client.collection("todo", of: Todo.self)
        let entity = try await todos.create("a", Todo(title: "a"))
        let subscription = try entity.subscribe { _ in }

        entity.close()
        XCTAssertThrowsError(try entity.get()) { XCTAssertEqual($0 as? MizuError, .closed(what: "entity")) }
        XCTAssertTrue(subscription.isCancelled)
        XCTAssertEqual(try todos.get("a")?.title, "a")

        await client.close()
        await client.close()
        XCTAssertTrue(client.isClosed)
        XCTAssertThrowsError(try client.status()) { XCTAssertEqual($0 as? MizuError, .closed(what: "client")) }
        XCTAssertThrowsError(try client.collection("todo", of: Todo.self))
        do {
            try await client.sync()
            XCTFail("sync on a closed client returned")
        } catch {
            XCTAssertEqual(error as? MizuError, .closed(what: "client"))
        }
        var ended = true
        for await _ in client.statusChanges { ended = false }
        XCTAssertTrue(ended, "a closed client's status stream ends at once")
    }

    func testBadInputThrowsClearErrors() async throws {
        func expect(_ what: String, _ body: () throws -> Void, _ matches: (MizuError) -> Bool) {
            do {
                try body()
                XCTFail("\(what): no error")
            } catch let error as MizuError {
                XCTAssertTrue(matches(error), "\(what): \(error)")
            } catch {
                XCTFail("\(what): not a MizuError: \(error)")
            }
        }
        expect("a bad URL", { _ = try Client(ClientOptions(baseURL: "not a url")) }) {
            if case .invalidArgument = $0 { return true }; return false
        }
        var badMessage = ClientOptions(baseURL: server.baseURL)
        badMessage.subscribeMessageJSON = "{"
        expect("a bad subscribe message", { _ = try Client(badMessage) }) {
            if case .invalidJSON = $0 { return true }; return false
        }
        let client = track(try Client(fastOptions(server, scope: uniqueScope("bad"))))
        let todos = try client.collection("todo", of: Todo.self)
        expect("an empty collection name", { _ = try client.collection("", of: Todo.self) }) {
            if case .invalidArgument = $0 { return true }; return false
        }
        expect("an empty mutation name", { try client.mutate("") }) {
            if case .invalidArgument = $0 { return true }; return false
        }
        try await todos.create("a", Todo(title: "a"))
        expect("a duplicate id", { try todos.create("a", Todo(title: "again")) }) {
            if case .invalidArgument = $0 { return true }; return false
        }
        expect("an empty id", { try todos.create("", Todo(title: "nobody")) }) {
            if case .invalidArgument = $0 { return true }; return false
        }
        expect("updating a missing id", { try todos.update("missing", Todo(title: "?")) }) {
            $0 == .notFound(what: "todo/missing")
        }
        let numbers = try client.collection("todo", of: Int.self)
        expect("reading todos as numbers", { _ = try numbers.get("a") }) {
            if case .invalidJSON = $0 { return true }; return false
        }
        do {
            try await client.flush(timeout: 1)
            XCTFail("flush before start returned")
        } catch {
            guard case .offline = error as? MizuError else { return XCTFail("flush: \(error)") }
        }
    }
}
