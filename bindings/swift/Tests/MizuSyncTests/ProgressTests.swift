import Foundation
import MizuSync
import XCTest

/// Sync you can see, against the reference server and real SQLite files: download progress
/// through a long pull (seen by a status observer), `hasSynced` and `waitForFirstSync`
/// (persisted across a reopen), and `syncOnce` for background tasks, bounded against a server
/// that hangs.
final class ProgressTests: ServerTestCase {
    private let pullLimit: UInt32 = 100
    private let longPull = 1_200

    func testDownloadProgressRisesMonotonicallyToCompleteThroughALongPull() throws {
        let scope = uniqueScope("progress-pull")
        let writer = try startedClient(scope: scope)
        let todos = try writer.collection("todo", of: Todo.self)
        // A first change, so the reader's cursor is past 0 and it pulls (a cursor of 0 snapshots).
        _ = try todos.create("first", Todo(title: "x"))
        try writer.flush(timeout: waitLimit)
        var options = fastOptions(server, scope: scope)
        options.pullLimit = pullLimit
        let reader = track(try Client(options))
        try reader.start()
        try reader.sync()
        XCTAssertGreaterThan(try reader.cursor(), 0)
        try reader.pause()
        let seen = Log<SyncProgress>()
        let subscription = try reader.subscribeStatus { seen.append($0.download) }

        for i in 0..<longPull {
            _ = try todos.create(String(format: "t%04d", i), Todo(title: "x"))
        }
        try writer.flush(timeout: 30)
        let before = seen.all.count
        try reader.resume()
        try reader.sync()
        XCTAssertEqual(try reader.collection("todo", of: Todo.self).count(), longPull + 1)
        try waitUntil("the observer saw the pull complete") {
            guard let last = seen.all.last else { return false }
            return last.isComplete && last.total >= UInt64(longPull)
        }
        subscription.cancel()

        let downloads = Array(seen.all.dropFirst(before))
        XCTAssertGreaterThanOrEqual(downloads.count, longPull / Int(pullLimit), "a status per page at least")
        for (earlier, later) in zip(downloads, downloads.dropFirst()) {
            XCTAssertGreaterThanOrEqual(later.done, earlier.done, "never backwards: \(downloads)")
            XCTAssertLessThanOrEqual(later.done, later.total)
        }
        let last = try XCTUnwrap(downloads.last)
        XCTAssertTrue(last.isComplete && last.total >= UInt64(longPull) && last.fraction == 1, "\(last)")
        let partway = downloads.filter { $0.done > 0 && !$0.isComplete }
        XCTAssertGreaterThanOrEqual(partway.count, 5, "partway shown page by page: \(downloads)")
        XCTAssertTrue(partway.allSatisfy { $0.fraction > 0 && $0.fraction < 1 })
        XCTAssertTrue(try reader.status().download.isComplete)
    }

    func testHasSyncedIsFalseBeforeTrueAfterWaitForFirstSyncAndPersisted() throws {
        let scope = uniqueScope("first-sync"), db = temporaryPath("store.db")
        let client = track(try Client(fastOptions(server, scope: scope, storagePath: db)))
        XCTAssertFalse(try client.status().hasSynced)
        XCTAssertThrowsError(try client.waitForFirstSync(timeout: 1) as Void) { error in
            guard case .offline = error as? MizuError else { return XCTFail("\(error)") }
        }
        try client.start()
        try client.waitForFirstSync() as Void
        XCTAssertTrue(try client.status().hasSynced)
        client.close()

        let reopened = track(try Client(fastOptions(server, scope: scope, storagePath: db)))
        XCTAssertTrue(try reopened.status().hasSynced, "persisted with the store")
        let start = Date()
        try reopened.waitForFirstSync(timeout: 0) as Void
        XCTAssertLessThan(Date().timeIntervalSince(start), 0.5, "at once, even before start")
        try reopened.clear()
        XCTAssertFalse(try reopened.status().hasSynced, "cleared with the store")
    }

    func testWaitForFirstSyncTimesOutAgainstAHangingServer() throws {
        let hanging = try HangingServer()
        defer { hanging.stop() }
        var options = ClientOptions(baseURL: hanging.baseURL)
        options.requestTimeout = 30
        let client = track(try Client(options))
        try client.start()
        let start = Date()
        XCTAssertThrowsError(try client.waitForFirstSync(timeout: 0.3) as Void) { error in
            guard case .timeout = error as? MizuError else { return XCTFail("\(error)") }
        }
        let took = Date().timeIntervalSince(start)
        XCTAssertGreaterThanOrEqual(took, 0.25)
        XCTAssertLessThan(took, 2.3)
        XCTAssertFalse(try client.status().hasSynced)
    }

    func testAwaitedWaitForFirstSyncReturnsAndCancelsAtOnce() async throws {
        let synced = try startedClient(scope: uniqueScope("first-sync-awaited"))
        try await synced.waitForFirstSync()
        XCTAssertTrue(try synced.status().hasSynced)

        let hanging = try HangingServer()
        defer { hanging.stop() }
        var options = ClientOptions(baseURL: hanging.baseURL)
        options.requestTimeout = 30
        let client = track(try Client(options))
        try client.start()
        let wait = Task { try await client.waitForFirstSync(timeout: 30) }
        try await Task.sleep(nanoseconds: 200_000_000)
        let cancelled = Date()
        wait.cancel()
        do {
            try await wait.value
            XCTFail("the cancelled wait completed")
        } catch is CancellationError {}
        XCTAssertLessThan(Date().timeIntervalSince(cancelled), 1)
        XCTAssertFalse(try client.status().hasSynced)
    }

    func testSyncOnceCatchesUpAStoppedClientAndLeavesItStopped() throws {
        let scope = uniqueScope("sync-once")
        let other = try startedClient(scope: scope)
        _ = try other.collection("todo", of: Todo.self).create("from-other", Todo(title: "remote"))
        try other.flush(timeout: waitLimit)

        let client = track(try Client(fastOptions(server, scope: scope)))
        let todos = try client.collection("todo", of: Todo.self)
        for i in 0..<5 { _ = try todos.create("t\(i)", Todo(title: "offline")) }
        XCTAssertEqual(try client.pendingCount(), 5)

        let report = try client.syncOnce(within: waitLimit) as SyncReport

        XCTAssertTrue(report.caughtUp, "\(report)")
        XCTAssertEqual(report.pushed, 5)
        XCTAssertGreaterThan(report.pulled, 0)
        XCTAssertNil(report.error)
        XCTAssertLessThan(report.elapsed, waitLimit)
        XCTAssertFalse(try client.isStarted(), "stopped again")
        XCTAssertEqual(try client.pendingCount(), 0)
        XCTAssertEqual(try todos.get("from-other"), Todo(title: "remote"))
        try other.sync() as Void
        XCTAssertEqual(try other.collection("todo", of: Todo.self).get("t4"), Todo(title: "offline"), "on the server")
    }

    func testAwaitedSyncOnceRunsOffTheCallerAndCatchesUp() async throws {
        let client = track(try Client(fastOptions(server, scope: uniqueScope("sync-once-awaited"))))
        try await client.collection("todo", of: Todo.self).create("t1", Todo(title: "queued"))
        let report = try await client.syncOnce(within: waitLimit)
        XCTAssertTrue(report.caughtUp && report.pushed == 1, "\(report)")
        XCTAssertFalse(try client.isStarted())
    }

    func testSyncOnceReturnsAtItsDeadlineAgainstAHangingServer() throws {
        let hanging = try HangingServer()
        defer { hanging.stop() }
        var options = ClientOptions(baseURL: hanging.baseURL)
        options.scope = uniqueScope("sync-once-hang")
        options.requestTimeout = 30
        let client = track(try Client(options))
        _ = try client.collection("todo", of: Todo.self).create("t1", Todo(title: "waits"))
        let within: TimeInterval = 0.5
        let start = Date()

        let report = try client.syncOnce(within: within) as SyncReport

        let took = Date().timeIntervalSince(start)
        XCTAssertLessThan(took, within + 2, "returned at its deadline")
        XCTAssertGreaterThanOrEqual(report.elapsed, 0.45, "\(report)")
        XCTAssertFalse(report.caughtUp)
        XCTAssertEqual(report.pushed, 0)
        XCTAssertFalse(try client.isStarted())
        XCTAssertEqual(try client.pendingCount(), 1, "the write waits for the next chance")
    }
}
