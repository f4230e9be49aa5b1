#if canImport(Observation)
import Foundation
import MizuSync
import Observation
import XCTest

/// The `@Observable` holders through the Observation framework (as SwiftUI uses them): reads
/// without `try`, `withObservationTracking` told of server changes and local writes, updates on
/// the main actor, and release.
@MainActor
final class ObservableTests: XCTestCase {
    private var server: TestServer!
    private var clients: [Client] = []

    override func setUp() async throws {
        server = try TestServer()
    }

    override func tearDown() async throws {
        clients.forEach { $0.close() }
        clients = []
        server.stop()
    }

    private func startedClient(scope: String) throws -> Client {
        let client = try Client(fastOptions(server, scope: scope))
        clients.append(client)
        try client.start()
        return client
    }

    /// Tracks `read` once, and returns a flag that `withObservationTracking` sets on the next
    /// change, on the main thread or not.
    private func track(_ read: @escaping () -> Void) -> ChangeFlag {
        let flag = ChangeFlag()
        withObservationTracking(read) { flag.set(mainThread: Thread.isMainThread) }
        return flag
    }

    /// Yields the main actor until `condition` holds (the holders update there).
    private func yield(until what: String, _ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(waitLimit)
        while !condition() {
            if Date() > deadline { throw SupportError(description: "timed out waiting until \(what)") }
            await Task.yield()
        }
    }

    func testAnObservableEntityFollowsServerChangesAndLocalWrites() async throws {
        let scope = uniqueScope("observable-entity")
        let writer = try startedClient(scope: scope), reader = try startedClient(scope: scope)
        let todos = try reader.collection("todo", of: Todo.self)
        let model = try todos.entity("a").observable()
        XCTAssertNil(model.value)
        XCTAssertNil(model.error)

        let serverChange = track { _ = model.value }
        try await writer.collection("todo", of: Todo.self).create("a", Todo(title: "from the server"))
        try await writer.flush()
        try await reader.sync()
        try await yield(until: "the server change is observed") { serverChange.isSet }
        try await yield(until: "the value arrives") { model.value != nil }
        XCTAssertEqual(model.value, Todo(title: "from the server"))
        XCTAssertEqual(serverChange.onMain, true, "the holder changed on the main actor")

        let localWrite = track { _ = model.value }
        try blockingSet(todos, "a", Todo(title: "local", completed: true))
        try await yield(until: "the local write is observed") { localWrite.isSet }
        try await yield(until: "the new value arrives") { model.value?.completed == true }
        XCTAssertEqual(model.value, Todo(title: "local", completed: true))
    }

    func testAnObservableEntityHoldsADecodingFailureInError() async throws {
        let client = try startedClient(scope: uniqueScope("observable-error"))
        try await client.collection("todo", of: Todo.self).create("a", Todo(title: "not a number"))
        let model = try client.collection("todo", of: Int.self).entity("a").observable()
        XCTAssertNil(model.value)
        guard case .invalidJSON = model.error else { return XCTFail("error is \(String(describing: model.error))") }
    }

    func testAnObservableEntityFollowsItsSyncState() async throws {
        let client = try startedClient(scope: uniqueScope("observable-sync-state"))
        let todos = try client.collection("todo", of: Todo.self)
        let model = try todos.entity("a").observable()
        XCTAssertEqual(model.syncState, .synced)

        try client.pause()
        let pending = track { _ = model.syncState }
        try await todos.set("a", Todo(title: "typed while paused"))
        try await yield(until: "the pending state is observed") { pending.isSet }
        try await yield(until: "the pending state arrives") { model.syncState == .pending(mutations: 1) }

        let synced = track { _ = model.syncState }
        try client.resume()
        try await client.flush(timeout: waitLimit)
        try await yield(until: "the synced state is observed") { synced.isSet }
        try await yield(until: "the synced state arrives") { model.syncState == .synced }
        XCTAssertEqual(synced.onMain, true, "the holder changed on the main actor")
        XCTAssertNil(model.error)
    }

    func testAnObservableQueryFollowsItsRows() async throws {
        let scope = uniqueScope("observable-query")
        let writer = try startedClient(scope: scope), reader = try startedClient(scope: scope)
        let todos = try reader.collection("todo", of: Todo.self)
        try await todos.create("local", Todo(title: "local"))
        let model = todos.query().where(Field("completed") == false).observable()
        XCTAssertEqual(model.rows.map(\.id), ["local"])

        let changed = track { _ = model.rows }
        try await writer.collection("todo", of: Todo.self).create("remote", Todo(title: "remote"))
        try await writer.flush()
        try await reader.sync()
        try await yield(until: "the query's change is observed") { changed.isSet }
        try await yield(until: "the rows arrive") { model.rows.count == 2 }
        XCTAssertEqual(model.rows.map(\.id), ["local", "remote"])
        XCTAssertNil(model.error)

        let bad = todos.query().limit(-1).observable()
        guard case .invalidQuery = bad.error else { return XCTFail("error is \(String(describing: bad.error))") }
    }

    func testAnObservableSyncStatusFollowsTheClient() async throws {
        let client = try startedClient(scope: uniqueScope("observable-status"))
        let model = client.observableStatus()
        let changed = track { _ = model.status }
        try await client.collection("todo", of: Todo.self).create("a", Todo(title: "pending"))
        try await client.flush()
        try await yield(until: "the status change is observed") { changed.isSet }
        try await yield(until: "the status is online with nothing pending") {
            model.status.isOnline && model.status.pending == 0 && model.status.cursor != nil
        }
        XCTAssertNil(model.error)
    }

    func testAnObservableSyncStatusShowsHasSyncedAndProgress() async throws {
        let client = try startedClient(scope: uniqueScope("observable-progress"))
        let model = client.observableStatus()
        XCTAssertFalse(model.hasSynced)
        try await client.waitForFirstSync()
        try await client.collection("todo", of: Todo.self).create("a", Todo(title: "pending"))
        try await client.flush()
        try await yield(until: "the first sync and the upload are observed") {
            model.hasSynced && model.upload == SyncProgress(done: 1, total: 1)
        }
        XCTAssertTrue(model.download.isComplete)
        XCTAssertEqual(model.upload.fraction, 1)
        XCTAssertEqual(model.download, model.status.download)
    }

    func testReleasingAHolderStopsObserving() async throws {
        let client = try startedClient(scope: uniqueScope("observable-release"))
        let todos = try client.collection("todo", of: Todo.self)
        weak var released: ObservableEntity<Todo>?
        do {
            let model = try todos.entity("a").observable()
            released = model
            try await todos.set("a", Todo(title: "seen"))
            try await yield(until: "the value arrives") { model.value != nil }
        }
        XCTAssertNil(released, "nothing but the view keeps a holder alive")
        try await todos.set("a", Todo(title: "after release"))   // no holder to update
    }
}

/// A blocking write (the overload picked outside async code).
private func blockingSet<Value>(_ collection: MizuSync.Collection<Value>, _ id: String, _ value: Value) throws {
    try collection.set(id, value)
}

/// Set once by an observation's `onChange`, from any thread.
final class ChangeFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var main: Bool?

    func set(mainThread: Bool) {
        lock.lock()
        if main == nil { main = mainThread }
        lock.unlock()
    }

    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return main != nil }
    var onMain: Bool? { lock.lock(); defer { lock.unlock() }; return main }
}
#endif
