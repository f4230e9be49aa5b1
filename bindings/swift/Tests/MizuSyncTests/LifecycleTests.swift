import Foundation
import MizuSync
import XCTest

/// Logout and the queue against the reference server and real SQLite files: clear (checked on
/// disk), its refusal without consent, each entity's sync state as a tracked read, the queued
/// mutations and discarding one.
final class LifecycleTests: ServerTestCase {
    override var durableServer: Bool { true }

    /// Whether the store file or its WAL, as found on disk, holds `text`.
    private func onDisk(_ db: String, contains text: String) -> Bool {
        let needle = Data(text.utf8)
        return [db, db + "-wal"].contains { path in
            guard let bytes = FileManager.default.contents(atPath: path) else { return false }
            return bytes.range(of: needle) != nil
        }
    }

    func testClearDeletesTheFilesAndStartsAfreshWithANewClientID() throws {
        let scope = uniqueScope("clear"), db = temporaryPath("store.db")
        let client = try startedClient(scope: scope, storagePath: db)
        let todos = try client.collection("todo", of: Todo.self)
        _ = try todos.create("t1", Todo(title: "secret-groceries-7f3a"))
        try client.flush(timeout: waitLimit)
        XCTAssertTrue(onDisk(db, contains: "secret-groceries-7f3a"))
        let oldID = try client.clientID()
        let counts = Log<Int>()
        let effect = Effect { counts.append(try todos.count()) }

        try client.clear()

        XCTAssertFalse(onDisk(db, contains: "secret-groceries-7f3a"), "the old file and its WAL are gone")
        XCTAssertNotEqual(try client.clientID(), oldID)
        XCTAssertEqual(try todos.count(), 0)
        XCTAssertEqual(counts.all.last, 0, "readers woke to the empty store")
        XCTAssertEqual(try client.cursor(), 0)
        XCTAssertTrue(try client.isStarted(), "syncing again, as before")
        try client.sync()
        XCTAssertEqual(try todos.get("t1"), Todo(title: "secret-groceries-7f3a"), "caught up as a new installation")
        XCTAssertTrue(try client.mutate("todo.noop").hasPrefix(try client.clientID()))
        effect.stop()
        let newID = try client.clientID()
        client.close()
        let reopened = track(try Client(fastOptions(server, scope: scope, storagePath: db)))
        XCTAssertEqual(try reopened.clientID(), newID)
    }

    func testClearWithPendingWritesRefusesWithoutConsentAndKeepsEverything() throws {
        let db = temporaryPath("store.db")
        var options = ClientOptions(baseURL: "http://127.0.0.1:9/_sync")
        options.storagePath = db
        let client = track(try Client(options))
        let todos = try client.collection("todo", of: Todo.self)
        _ = try todos.create("t1", Todo(title: "typed offline"))
        _ = try todos.create("t2", Todo(title: "also offline"))
        let id = try client.clientID()

        XCTAssertThrowsError(try client.clear()) { error in
            XCTAssertEqual(error as? MizuError, .pendingWrites(count: 2))
        }
        XCTAssertEqual(try todos.get("t1"), Todo(title: "typed offline"))
        XCTAssertEqual(try todos.count(), 2)
        XCTAssertEqual(try client.pendingCount(), 2)
        XCTAssertEqual(try client.clientID(), id)
        XCTAssertTrue(onDisk(db, contains: "typed offline"))

        try client.clear(discardPending: true)
        XCTAssertEqual(try todos.count(), 0)
        XCTAssertEqual(try client.pendingCount(), 0)
        XCTAssertNotEqual(try client.clientID(), id)
        XCTAssertFalse(onDisk(db, contains: "typed offline"))
    }

    func testClearCanFlushFirstAwaitedAndThenNeedsNoConsent() async throws {
        let scope = uniqueScope("clear-flush")
        let client = try startedClient(scope: scope, storagePath: temporaryPath("store.db"))
        _ = try await client.collection("todo", of: Todo.self).create("t1", Todo(title: "pushed before the wipe"))
        try await client.clear(flushWithin: waitLimit)
        XCTAssertEqual(try client.pendingCount(), 0)
        let other = try startedClient(scope: scope)
        try await other.sync()
        XCTAssertEqual(try other.collection("todo", of: Todo.self).get("t1"), Todo(title: "pushed before the wipe"))
    }

    func testSyncStateGoesPendingThenSyncedAndAnEffectFollowsIt() throws {
        let client = try startedClient(scope: uniqueScope("state"))
        let todos = try client.collection("todo", of: Todo.self)
        let entity = try todos.entity("t1")
        XCTAssertEqual(try entity.syncState(), .synced)
        let states = Log<SyncState>()
        let effect = Effect { states.append(try entity.syncState()) }

        try client.pause()
        try entity.set(Todo(title: "first"))
        try entity.set(Todo(title: "second"))
        XCTAssertEqual(try entity.syncState(), .pending(mutations: 2))
        XCTAssertEqual(try todos.syncState("t1"), .pending(mutations: 2))
        XCTAssertEqual(states.all.last, .pending(mutations: 2))
        try client.resume()
        try client.flush(timeout: waitLimit)
        try waitUntil("the effect sees synced") { states.all.last == .synced }
        XCTAssertEqual(try entity.syncState(), .synced)
        effect.stop()
    }

    func testARejectedWriteShowsAsRejectedUntilWrittenAgain() throws {
        try server.reject(name: "todo.create", argContains: "reject-me", error: "sync: not allowed")
        let client = try startedClient(scope: uniqueScope("state-rejected"))
        let entity = try client.collection("todo", of: Todo.self).entity("t1")
        try entity.set(Todo(title: "reject-me"))
        try waitUntil("the write is rejected") {
            if case .rejected = try entity.syncState() { return true }
            return false
        }
        guard case .rejected(let reason) = try entity.syncState() else { return XCTFail("not rejected") }
        XCTAssertTrue(reason.contains("not allowed"), reason)
        XCTAssertNil(try entity.get(), "rolled back")

        try entity.set(Todo(title: "fine"))
        XCTAssertEqual(try entity.syncState(), .pending(mutations: 1))
        try client.flush(timeout: waitLimit)
        XCTAssertEqual(try entity.syncState(), .synced)
    }

    func testPendingListsTheQueueAndDiscardRollsOneBackLikeARejection() throws {
        let scope = uniqueScope("discard")
        let client = try startedClient(scope: scope)
        let errors = Log<MizuError>(), rejected = Log<RejectedMutation>()
        let onError = client.onError { errors.append($0) }
        let onRejected = client.onRejected { rejected.append($0) }
        try client.sync()
        server.stop()
        let todos = try client.collection("todo", of: Todo.self)
        _ = try todos.create("t1", Todo(title: "stuck"))
        _ = try todos.create("t2", Todo(title: "kept"))
        try waitUntil("a push was attempted") { try client.pending().allSatisfy { $0.attempts >= 1 } }

        let queued = try client.pending()
        XCTAssertEqual(queued.map(\.name), ["todo.create", "todo.create"])
        let first = queued[0]
        XCTAssertEqual(first.scope, scope)
        XCTAssertTrue(first.age >= 0 && first.age < 60, "\(first.age)")
        XCTAssertTrue(first.id.hasPrefix(try client.clientID()))

        try client.discard(first.id)
        XCTAssertNil(try todos.get("t1"), "rolled back")
        XCTAssertEqual(try todos.syncState("t1"), .rejected(reason: "discarded by the app"))
        XCTAssertEqual(try client.pendingCount(), 1)
        XCTAssertEqual(try client.pending().map(\.id), [queued[1].id])
        try waitUntil("onError is told") {
            errors.all.contains { if case .rejected(first.id, _, _) = $0 { return true }; return false }
        }
        try waitUntil("onRejected is told") { rejected.all.contains { $0.mutationID == first.id } }
        XCTAssertThrowsError(try client.discard(first.id)) { error in
            guard case .invalidArgument = error as? MizuError else { return XCTFail("\(error)") }
        }

        try server.start()
        try client.flush(timeout: waitLimit)
        let other = try startedClient(scope: scope)
        try other.sync()
        let others = try other.collection("todo", of: Todo.self)
        XCTAssertNil(try others.get("t1"))
        XCTAssertEqual(try others.get("t2"), Todo(title: "kept"))
        onError.cancel()
        onRejected.cancel()
    }
}
