import Foundation
import MizuSync
import XCTest

/// The seed's reactive examples in Swift, over the Rust graph, and the wrapper's contracts.
final class ReactiveTests: XCTestCase {
    func testSignalGoesFrom0To5To6() throws {
        let count = try Signal(0)
        XCTAssertEqual(try count.get(), 0)
        try count.set(5)
        XCTAssertEqual(try count.get(), 5)
        try count.update { $0 + 1 }
        XCTAssertEqual(try count.get(), 6)
    }

    func testComputedIsLazyCachedAndFollowsItsSignals() throws {
        let price = try Signal(10.0), quantity = try Signal(5)
        let runs = Counter()
        let total = Computed { () throws -> Double in
            _ = runs.next()
            return try price.get() * Double(quantity.get())
        }
        XCTAssertEqual(runs.current, 0)
        XCTAssertEqual(try total.get(), 50)
        XCTAssertEqual(try total.get(), 50)
        XCTAssertEqual(runs.current, 1)
        try price.set(20)
        XCTAssertEqual(try total.get(), 100)
        XCTAssertEqual(runs.current, 2)
    }

    func testEffectRunsOnCreationAndEachSetAndIsSilentAfterStop() throws {
        let count = try Signal(0)
        let seen = Log<Int>()
        let effect = Effect { seen.append(try count.get()) }
        try count.set(5)
        try count.set(6)
        effect.stop()
        try count.set(7)
        XCTAssertEqual(seen.all, [0, 5, 6])
        XCTAssertTrue(effect.isStopped)
    }

    func testBatchRunsEachEffectOnceWithAllWrites() throws {
        let first = try Signal("Ada"), last = try Signal("Lovelace")
        let seen = Log<String>()
        let effect = Effect { seen.append("\(try first.get()) \(try last.get())") }
        try batch {
            try first.set("Grace")
            try last.set("Hopper")
        }
        XCTAssertEqual(seen.all, ["Ada Lovelace", "Grace Hopper"])
        effect.stop()
    }

    func testBatchAndComputedRethrowWhatTheClosureThrew() throws {
        XCTAssertThrowsError(try batch { throw MizuError.notFound(what: "milk") }) {
            XCTAssertEqual($0 as? MizuError, .notFound(what: "milk"))
        }
        struct Oops: Error {}
        let failing = Computed<Int> { throw Oops() }
        XCTAssertThrowsError(try failing.get()) { error in
            guard case .callback(let reason) = error as? MizuError else {
                return XCTFail("expected a callback error, got \(error)")
            }
            XCTAssertTrue(reason.contains("Oops"), reason)
        }
    }

    func testUntrackedReadsDoNotRerunAnEffect() throws {
        let tracked = try Signal(1), ignored = try Signal(1)
        let runs = Counter()
        let effect = Effect {
            _ = runs.next()
            _ = try tracked.get()
            _ = try untracked { try ignored.get() }
        }
        try ignored.set(2)
        XCTAssertEqual(runs.current, 1)
        try tracked.set(2)
        XCTAssertEqual(runs.current, 2)
        effect.stop()
    }

    func testEqualWritesNotifyNobody() throws {
        struct Point: Codable, Sendable, Equatable { var x: Int; var y: Int }
        let point = try Signal(Point(x: 1, y: 2))
        let seen = Log<Point>()
        let subscription = try point.subscribe { seen.append($0) }
        try point.set(Point(x: 1, y: 2))
        try point.set(Point(x: 3, y: 2))
        XCTAssertEqual(seen.all, [Point(x: 1, y: 2), Point(x: 3, y: 2)])
        subscription.cancel()
    }

    func testCancellingOrReleasingASubscriptionStopsTheObserver() throws {
        let count = try Signal(0)
        let seen = Log<Int>()
        let subscription = try count.subscribe { seen.append($0) }
        try count.set(1)
        subscription.cancel()
        subscription.cancel()
        XCTAssertTrue(subscription.isCancelled)
        try count.set(2)
        do {
            _ = try count.subscribe { seen.append($0 * 100) }   // released at once
        }
        try count.set(3)
        XCTAssertEqual(seen.all, [0, 1, 200])
    }

    func testClosedHandlesThrowClosed() throws {
        let signal = try Signal(1)
        signal.close()
        signal.close()
        XCTAssertTrue(signal.isClosed)
        XCTAssertThrowsError(try signal.get()) {
            XCTAssertEqual($0 as? MizuError, .closed(what: "signal"))
        }
        XCTAssertThrowsError(try signal.set(2))
        let computed = Computed { 1 }
        computed.close()
        XCTAssertThrowsError(try computed.get()) {
            XCTAssertEqual($0 as? MizuError, .closed(what: "computed"))
        }
    }

    func testValuesThatAreNotJSONThrowInvalidJSON() throws {
        XCTAssertThrowsError(try Signal(Double.nan)) { error in
            guard case .invalidJSON = error as? MizuError else {
                return XCTFail("expected invalidJSON, got \(error)")
            }
        }
        let notANumber = Computed { Double.nan }
        XCTAssertThrowsError(try notANumber.get()) { error in
            guard case .invalidJSON = error as? MizuError else {
                return XCTFail("expected invalidJSON, got \(error)")
            }
        }
    }

    func testAThrowingObserverIsReportedAndKeepsObserving() throws {
        let reported = Log<MizuError>()
        let handler = onUnhandledError { reported.append($0) }
        defer { handler.cancel() }
        let count = try Signal(0)
        let seen = Log<Int>()
        let subscription = try count.subscribe { value in
            seen.append(value)
            if value == 1 { throw MizuError.invalidArgument(reason: "one is odd") }
        }
        try count.set(1)
        try count.set(2)
        XCTAssertEqual(seen.all, [0, 1, 2])
        XCTAssertEqual(reported.all, [.invalidArgument(reason: "one is odd")])
        subscription.cancel()
    }

    func testEffectsRunOnTheWritingThread() throws {
        let count = try Signal(0)
        let threads = Log<Bool>()
        let effect = Effect {
            _ = try count.get()
            threads.append(Thread.isMainThread)
        }
        let done = expectation(description: "written from another thread")
        Thread.detachNewThread {
            try? count.set(1)
            done.fulfill()
        }
        wait(for: [done], timeout: waitLimit)
        XCTAssertEqual(threads.all, [Thread.isMainThread, false])
        effect.stop()
    }

    func testValuesStreamYieldsTheCurrentValueThenTheNewestChange() async throws {
        let count = try Signal(0)
        var iterator = count.changes.makeAsyncIterator()
        let first = await iterator.next()
        XCTAssertEqual(first, 0)
        try count.set(1)
        let second = await iterator.next()
        XCTAssertEqual(second, 1)
        try count.set(2)
        try count.set(3)   // the consumer was not reading: 2 is skipped
        try count.set(4)
        let latest = await iterator.next()
        XCTAssertEqual(latest, 4)
    }

    func testUpdatesFromEightThreadsLoseNoIncrement() throws {
        let threads = 8, increments = 500, total = threads * increments
        let count = try Signal(0)
        let effectSaw = Log<Int>()
        let effect = Effect { effectSaw.append(try count.get()) }
        defer { effect.stop() }
        let observerSaw = Log<Int>()
        let subscription = try count.subscribe { observerSaw.append($0) }
        defer { subscription.cancel() }
        let transforms = Counter()
        let failures = Log<String>()

        // Every thread waits at the gate, so that all eight update at once.
        let gate = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        for _ in 0..<threads {
            done.enter()
            Thread.detachNewThread {
                gate.wait()
                for _ in 0..<increments {
                    do {
                        try count.update { value in
                            _ = transforms.next()
                            return value + 1
                        }
                    } catch {
                        failures.append("\(error)")
                    }
                }
                done.leave()
            }
        }
        for _ in 0..<threads { gate.signal() }
        XCTAssertEqual(done.wait(timeout: .now() + waitLimit), .success, "the threads did not finish")

        XCTAssertEqual(failures.all, [])
        XCTAssertEqual(try count.get(), total)
        // A transform that lost a race ran again: at least one run per increment.
        XCTAssertGreaterThanOrEqual(transforms.current, total)
        XCTAssertTrue(effectSaw.all.contains(total), "the effect never saw \(total)")
        XCTAssertEqual(observerSaw.all.max(), total)
    }
}
