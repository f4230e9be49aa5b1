import Foundation
import MizuSync
import XCTest

/// The wrapper's direct calls (its fast path), through the public API: typed values round-trip
/// (signals' and computeds'), the version cache never hides a write made elsewhere, errors keep
/// their type, callbacks run on the writing thread and report what they throw, and handles and
/// closures are released.
final class DirectCallTests: XCTestCase {
    /// Writes `values` one by one and reads each back, tracked and untracked.
    private func roundTrip<Value: Codable & Sendable & Equatable>(
        _ values: [Value], file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let signal = try Signal(values[0])
        XCTAssertEqual(try signal.get(), values[0], file: file, line: line)
        for value in values {
            try signal.set(value)
            XCTAssertEqual(try signal.get(), value, file: file, line: line)
            XCTAssertEqual(try signal.peek(), value, file: file, line: line)
        }
        // The last value again, through a fresh read of what the library stores: an observer
        // gets it from Rust, not from this wrapper's cache.
        let seen = Log<Value>()
        let subscription = try signal.subscribe { seen.append($0) }
        XCTAssertEqual(seen.all, [values[values.count - 1]], file: file, line: line)
        subscription.cancel()
    }

    func testEveryScalarTypeRoundTrips() throws {
        try roundTrip([0, 1, -1, 42, Int.max, Int.min])
        try roundTrip([0.5, 0.1, -2.25, 6.0, -0.0, 1e300, Double.leastNonzeroMagnitude, Double.greatestFiniteMagnitude])
        try roundTrip([false, true, false])
        try roundTrip(["", "a", "é \"quoted\" \\ / \n\t", "日本語 🍣", String(repeating: "x", count: 10_000)])
        try roundTrip([Int?.none, 5, nil, 0])
        try roundTrip([Double?.none, 2.5, nil])
        try roundTrip([Bool?.none, true, nil, false])
        try roundTrip([String?.none, "text", nil, ""])
    }

    func testJSONValuesRoundTrip() throws {
        struct Point: Codable, Sendable, Equatable { var x: Int; var y: Double; var label: String? }
        enum Mode: String, Codable, Sendable { case light, dark }
        try roundTrip([Point(x: 1, y: 2.5, label: nil), Point(x: -3, y: 0, label: "é")])
        try roundTrip([[1, 2, 3], [], [Int.max]])
        try roundTrip([["a": 1], ["b": 2, "a": 3], [:]])
        try roundTrip([Mode.light, .dark])   // a string in JSON, decoded as the enum
        try roundTrip([Int64(1) << 40, -7])
        try roundTrip([Float(1.5), 0.25])
        try roundTrip([Point?.none, Point(x: 0, y: 0, label: "")])
        try roundTrip([[0.5, 1.0], [1e-7]])
    }

    func testAWholeDoubleIsStoredAsTheJSONPathsStoreIt() throws {
        // init and update encode with JSONEncoder ("6"); set must store the same text, or an
        // equal value would wake the observers.
        let price = try Signal(6.0)
        let seen = Log<Double>()
        let subscription = try price.subscribe { seen.append($0) }
        try price.set(6.0)
        try price.update { $0 }
        try price.set(6.5)
        try price.update { _ in 6.5 }
        XCTAssertEqual(seen.all, [6.0, 6.5])
        subscription.cancel()
    }

    func testJSONKindWritesStoreWhatJSONEncoderStores() throws {
        // init encodes with JSONEncoder, set with the wrapper's own encoder: an equal value
        // must give the same stored text, or it would wake the observers.
        let prices = try Signal(["a": 6.0, "b": 0.5, "c": -0.0, "d": 1e20])
        let weight = try Signal(Float(2.0))
        let seen = Log<String>()
        let first = try prices.subscribe { seen.append("prices \($0["b"] ?? 0)") }
        let second = try weight.subscribe { seen.append("weight \($0)") }
        try prices.set(["a": 6.0, "b": 0.5, "c": -0.0, "d": 1e20])
        try weight.set(2.0)
        try prices.set(["a": 6.0, "b": 0.25, "c": -0.0, "d": 1e20])
        try weight.set(2.5)
        XCTAssertEqual(seen.all, ["prices 0.5", "weight 2.0", "prices 0.25", "weight 2.5"])
        first.cancel()
        second.cancel()
    }

    func testEntityValuesOfEveryShapeRoundTrip() throws {
        let client = try Client(ClientOptions(baseURL: "http://127.0.0.1:9/_sync"))
        defer { client.close() }
        let shapes = try client.collection("shape", of: Shape.self)
        let values = Shape.samples
        for (index, value) in values.enumerated() {
            let entity = try shapes.create("s\(index)", value)
            XCTAssertEqual(try entity.get(), value)
            try shapes.set("t\(index)", value)
            XCTAssertEqual(try shapes.get("t\(index)"), value)
            try entity.set(values[1 - index])
            XCTAssertEqual(try shapes.get("s\(index)"), values[1 - index])
        }
        let derived = try client.collection("derived", of: Derived.self)
        try derived.set("d", Derived(base: 1, extra: "x"))
        XCTAssertEqual(try derived.get("d"), Derived(base: 1, extra: "x"))
    }

    func testTheCacheSeesAWriteFromAnotherThread() throws {
        let count = try Signal(1)
        XCTAssertEqual(try count.get(), 1)   // cached now
        let done = expectation(description: "written from another thread")
        Thread.detachNewThread {
            try? count.set(2)
            done.fulfill()
        }
        wait(for: [done], timeout: waitLimit)
        XCTAssertEqual(try count.get(), 2)
        XCTAssertEqual(try count.peek(), 2)
    }

    func testTheCacheSeesWritesMadeInRustAndInsideAnEffect() throws {
        let name = try Signal("Ada")
        XCTAssertEqual(try name.get(), "Ada")
        // update runs its compare-and-set in Rust, through the generated bindings.
        try name.update { $0 + " Lovelace" }
        XCTAssertEqual(try name.get(), "Ada Lovelace")

        let source = try Signal(1), mirror = try Signal(0)
        XCTAssertEqual(try mirror.get(), 0)
        let effect = Effect { try mirror.set(try source.get() * 10) }
        XCTAssertEqual(try mirror.get(), 10)
        try source.set(2)
        XCTAssertEqual(try mirror.get(), 20)
        XCTAssertEqual(try mirror.peek(), 20)
        effect.stop()
    }

    func testATrackedReadOfACachedValueStillBecomesADependency() throws {
        let count = try Signal(3)
        XCTAssertEqual(try count.get(), 3)   // the effect's first read is answered "unchanged"
        let seen = Log<Int>()
        let effect = Effect { seen.append(try count.get()) }
        try count.set(4)
        let doubled = Computed { try count.get() * 2 }
        XCTAssertEqual(try doubled.get(), 8)
        try count.set(5)
        XCTAssertEqual(try doubled.get(), 10)
        XCTAssertEqual(seen.all, [3, 4, 5])
        effect.stop()
    }

    func testClosedSignalsThrowClosedAndCancelTheirObservers() throws {
        let signal = try Signal("x")
        XCTAssertEqual(try signal.get(), "x")
        let released = expectation(description: "the observer's closure is released")
        let subscription = try signal.subscribe(ReleaseProbe(released).observer)
        signal.close()
        wait(for: [released], timeout: waitLimit)
        XCTAssertTrue(subscription.isCancelled)
        for (what, call) in [
            ("get", { _ = try signal.get() }),
            ("peek", { _ = try signal.peek() }),
            ("set", { try signal.set("y") }),
            ("subscribe", { _ = try signal.subscribe { _ in } }),
        ] as [(String, () throws -> Void)] {
            XCTAssertThrowsError(try call(), what) {
                XCTAssertEqual($0 as? MizuError, .closed(what: "signal"), what)
            }
        }
    }

    func testBadValuesThrowInvalidJSON() throws {
        let number = try Signal(1.0)
        for bad in [Double.nan, .infinity, -.infinity] {
            XCTAssertThrowsError(try number.set(bad)) { error in
                guard case .invalidJSON = error as? MizuError else {
                    return XCTFail("expected invalidJSON, got \(error)")
                }
            }
        }
        XCTAssertEqual(try number.get(), 1.0)
        struct Unencodable: Codable, Sendable {
            func encode(to encoder: Encoder) throws { throw MizuError.invalidJSON(reason: "no") }
            init() {}
            init(from decoder: Decoder) throws {}
        }
        XCTAssertThrowsError(try Signal(Unencodable())) {
            XCTAssertEqual($0 as? MizuError, .invalidJSON(reason: "no"))
        }
    }

    func testAnEffectAndAnObserverRunOnTheWritingThread() throws {
        let count = try Signal(0)
        let effectSaw = Log<(Int, Bool)>(), observerSaw = Log<(Int, Bool)>()
        let effect = Effect { effectSaw.append((try count.get(), Thread.isMainThread)) }
        let subscription = try count.subscribe { observerSaw.append(($0, Thread.isMainThread)) }
        let done = expectation(description: "written from another thread")
        Thread.detachNewThread {
            try? count.set(7)
            done.fulfill()
        }
        wait(for: [done], timeout: waitLimit)
        XCTAssertEqual(effectSaw.all.map(\.0), [0, 7])
        XCTAssertEqual(effectSaw.all.map(\.1), [Thread.isMainThread, false])
        XCTAssertEqual(observerSaw.all.map(\.0), [0, 7])
        XCTAssertEqual(observerSaw.all.map(\.1), [Thread.isMainThread, false])
        effect.stop()
        subscription.cancel()
    }

    func testFailingCallbacksAreReportedWithTheirTypeAndKeepRunning() throws {
        struct Oops: Error {}
        let reported = Log<MizuError>()
        let handler = onUnhandledError { reported.append($0) }
        defer { handler.cancel() }
        let count = try Signal(0)
        let effectRuns = Log<Int>(), observerCalls = Log<Int>()
        let effect = Effect {
            let value = try count.get()
            effectRuns.append(value)
            if value == 1 { throw MizuError.notFound(what: "direct-effect") }
            if value == 2 { throw Oops() }
        }
        let subscription = try count.subscribe { value in
            observerCalls.append(value)
            if value == 2 { throw MizuError.storage(reason: "direct-observer") }
            if value == 3 { throw Oops() }
        }
        for value in 1...4 { try count.set(value) }
        XCTAssertEqual(effectRuns.all, [0, 1, 2, 3, 4])
        XCTAssertEqual(observerCalls.all, [0, 1, 2, 3, 4])
        let all = reported.all
        XCTAssertTrue(all.contains(.notFound(what: "direct-effect")), "\(all)")
        XCTAssertTrue(all.contains(.storage(reason: "direct-observer")), "\(all)")
        let untyped = all.filter { if case .callback(let r) = $0 { return r.contains("Oops") }; return false }
        XCTAssertEqual(untyped.count, 2, "\(all)")
        effect.stop()
        subscription.cancel()
    }

    func testStoppingOrReleasingAnEffectReleasesItsClosure() throws {
        let count = try Signal(0)
        let released = expectation(description: "the stopped effect's closure is released")
        let runs = Counter()
        let effect = Effect(EffectProbe(released, runs).body(count))
        XCTAssertEqual(runs.current, 1)
        effect.stop()
        wait(for: [released], timeout: waitLimit)
        XCTAssertTrue(effect.isStopped)
        try count.set(1)
        XCTAssertEqual(runs.current, 1)

        let dropped = expectation(description: "a released effect's closure is released")
        do {
            _ = Effect(EffectProbe(dropped, runs).body(count))
        }
        wait(for: [dropped], timeout: waitLimit)
        try count.set(2)
        XCTAssertEqual(runs.current, 2)
    }

    func testManyWrappersMadeAndDroppedReleaseEverything() throws {
        let client = try Client(ClientOptions(baseURL: "http://127.0.0.1:9/_sync"))
        defer { client.close() }
        let todos = try client.collection("todo", of: Todo.self)
        let released = Counter()
        let rounds = 2000
        for i in 0..<rounds {
            let signal = try Signal(i)
            let probe = CountingProbe(released)
            let subscription = try signal.subscribe(probe.observer)
            let effect = Effect(probe.effect(signal))
            try signal.set(i + 1)
            if i % 2 == 0 {
                subscription.cancel()
                effect.stop()
            }
            if i % 3 == 0 {
                signal.close()
            }
            let entity = try todos.create("t\(i)", Todo(title: "\(i)"))
            XCTAssertEqual(try entity.get()?.title, "\(i)")
            if i % 5 == 0 {
                _ = try entity.subscribe { _ in }
                entity.close()
            }
        }
        // Every probe (captured by one observer and one effect) was released.
        XCTAssertEqual(released.current, rounds)
        XCTAssertEqual(try todos.count(), rounds)
    }

    func testEntitiesReadAndWriteByIdWithTypedErrors() throws {
        let client = try Client(ClientOptions(baseURL: "http://127.0.0.1:9/_sync"))
        defer { client.close() }
        let todos = try client.collection("todo", of: Todo.self)
        XCTAssertNil(try todos.get("a"))
        let a = try todos.create("a", Todo(title: "A"))
        XCTAssertEqual(a.id, "a")
        XCTAssertEqual(try a.get(), Todo(title: "A"))
        XCTAssertTrue(try a.exists())
        try a.set(Todo(title: "A", completed: true))
        XCTAssertEqual(try todos.get("a"), Todo(title: "A", completed: true))
        try todos.set("b", Todo(title: "B"))
        XCTAssertEqual(try todos.entity("b").get(), Todo(title: "B"))
        XCTAssertNil(try todos.entity("missing").get())

        XCTAssertThrowsError(try todos.create("a", Todo(title: "again"))) { error in
            guard case .invalidArgument = error as? MizuError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try todos.create("", Todo(title: "nobody"))) { error in
            guard case .invalidArgument = error as? MizuError else { return XCTFail("\(error)") }
        }
        let numbers = try client.collection("todo", of: Int.self)
        XCTAssertThrowsError(try numbers.entity("a").get()) { error in
            guard case .invalidJSON = error as? MizuError else { return XCTFail("\(error)") }
        }

        // A tracked entity read wakes an effect on that entity's changes only.
        let seen = Log<String?>()
        let effect = Effect { seen.append(try a.get()?.title) }
        try todos.set("b", Todo(title: "B2"))
        try todos.set("a", Todo(title: "A2"))
        try a.delete()
        XCTAssertEqual(seen.all, ["A", "A2", nil])
        effect.stop()

        // A closed entity handle throws closed; closing the collection leaves entity handles
        // working, as before, while the collection itself throws closed.
        let b = try todos.entity("b")
        a.close()
        for (what, call) in [
            ("get", { _ = try a.get() }),
            ("set", { try a.set(Todo(title: "?")) }),
            ("exists", { _ = try a.exists() }),
            ("delete", { try a.delete() }),
            ("subscribe", { _ = try a.subscribe { _ in } }),
        ] as [(String, () throws -> Void)] {
            XCTAssertThrowsError(try call(), what) {
                XCTAssertEqual($0 as? MizuError, .closed(what: "entity"), what)
            }
        }
        todos.close()
        XCTAssertEqual(try b.get(), Todo(title: "B2"))
        try b.set(Todo(title: "B3"))
        for (what, call) in [
            ("create", { _ = try todos.create("c", Todo(title: "C")) }),
            ("set", { try todos.set("c", Todo(title: "C")) }),
            ("value", { _ = try todos.get("b") }),
            ("entity", { _ = try todos.entity("b") }),
        ] as [(String, () throws -> Void)] {
            XCTAssertThrowsError(try call(), what) {
                XCTAssertEqual($0 as? MizuError, .closed(what: "collection"), what)
            }
        }
        XCTAssertEqual(try client.collection("todo", of: Todo.self).get("b"), Todo(title: "B3"))
    }

    // MARK: Computeds

    func testComputedsOfEveryKindReadDirectlyAndFollowTheirSignal() throws {
        let count = try Signal(2)
        let doubled = Computed { try count.get() * 2 }
        let label = Computed { "n = \(try count.get()) é 🍣" }
        let half = Computed { Double(try count.get()) / 2 }
        let odd = Computed<Int?> { try count.get() % 2 != 0 ? count.get() : nil }
        struct Summary: Codable, Sendable, Equatable { var n: Int; var tags: [String]; var note: String? }
        let summary = Computed { Summary(n: try count.get(), tags: ["a", "b"], note: nil) }
        for n in [2, 3, -7, Int.max / 2, 0] {
            if n != 2 { try count.set(n) }
            for read in [{ try doubled.get() }, { try doubled.peek() }] as [() throws -> Int] {
                XCTAssertEqual(try read(), n * 2)
            }
            XCTAssertEqual(try label.get(), "n = \(n) é 🍣")
            XCTAssertEqual(try label.peek(), "n = \(n) é 🍣")
            XCTAssertEqual(try half.get(), Double(n) / 2)
            XCTAssertEqual(try odd.get(), n % 2 != 0 ? n : nil)
            XCTAssertEqual(try summary.get(), Summary(n: n, tags: ["a", "b"], note: nil))
            XCTAssertEqual(try summary.peek(), Summary(n: n, tags: ["a", "b"], note: nil))
        }
        // A computed of a computed.
        let quadrupled = Computed { try doubled.get() * 2 }
        XCTAssertEqual(try quadrupled.get(), 0)
        try count.set(5)
        XCTAssertEqual(try quadrupled.get(), 20)
    }

    func testComputedValuesOfEveryShapeRoundTrip() throws {
        // The closure's value is encoded by the fast encoder when it can, else by JSONEncoder.
        let values = Shape.samples
        let index = try Signal(0)
        let shape = Computed { values[try index.get()] }
        let prices = Computed { ["a": 6.0, "b": 0.5 * Double(try index.get() + 1), "c": -0.0] }
        for i in [0, 1, 0] {
            try index.set(i)
            XCTAssertEqual(try shape.get(), values[i])
            XCTAssertEqual(try prices.peek(), ["a": 6.0, "b": 0.5 * Double(i + 1), "c": -0.0])
        }
    }

    func testReadsOfAnUnchangedComputedRunItsClosureOnce() throws {
        let name = try Signal("Ada")
        let runs = Counter()
        let greeting = Computed { () throws -> String in
            _ = runs.next()
            return "Hello, \(try name.get())"
        }
        for _ in 0..<100 {
            XCTAssertEqual(try greeting.get(), "Hello, Ada")
            XCTAssertEqual(try greeting.peek(), "Hello, Ada")
        }
        XCTAssertEqual(runs.current, 1)
        // An equal write notifies nobody; a different one recomputes once, at the next read.
        try name.set("Ada")
        XCTAssertEqual(try greeting.get(), "Hello, Ada")
        XCTAssertEqual(runs.current, 1)
        try name.set("Grace")
        try name.set("Grace Hopper")
        XCTAssertEqual(runs.current, 1)
        XCTAssertEqual(try greeting.get(), "Hello, Grace Hopper")
        XCTAssertEqual(try greeting.get(), "Hello, Grace Hopper")
        XCTAssertEqual(runs.current, 2)
    }

    func testAComputedRecomputesAfterAWriteFromAnotherThreadOrFromRust() throws {
        let count = try Signal(1)
        let runs = Counter()
        let doubled = Computed { () throws -> Int in
            _ = runs.next()
            return try count.get() * 2
        }
        XCTAssertEqual(try doubled.get(), 2)   // cached now
        let done = expectation(description: "written from another thread")
        Thread.detachNewThread {
            try? count.set(2)
            done.fulfill()
        }
        wait(for: [done], timeout: waitLimit)
        XCTAssertEqual(try doubled.peek(), 4)
        XCTAssertEqual(try doubled.get(), 4)
        // update writes in Rust, through the generated bindings.
        try count.update { $0 + 1 }
        XCTAssertEqual(try doubled.get(), 6)
        XCTAssertEqual(runs.current, 3)

        // Read on another thread too: the computed runs its closure there, once for both.
        let read = expectation(description: "read on another thread")
        let seen = Log<Int>()
        try count.set(10)
        Thread.detachNewThread {
            if let value = try? doubled.get() { seen.append(value) }
            read.fulfill()
        }
        wait(for: [read], timeout: waitLimit)
        XCTAssertEqual(seen.all, [20])
        XCTAssertEqual(try doubled.get(), 20)
        XCTAssertEqual(runs.current, 4)
    }

    func testAComputedReadInsideAnEffectReRunsTheEffect() throws {
        let count = try Signal(1), other = try Signal(0)
        let doubled = Computed { try count.get() * 2 }
        let ignored = Computed { try other.get() }
        XCTAssertEqual(try doubled.get(), 2)   // the effect's first read is answered "unchanged"
        XCTAssertEqual(try ignored.get(), 0)
        let seen = Log<Int>()
        let effect = Effect {
            seen.append(try doubled.get())
            _ = try ignored.peek()
        }
        try count.set(2)
        try other.set(1)   // read untracked: the effect does not re-run
        try count.set(3)
        XCTAssertEqual(seen.all, [2, 4, 6])
        effect.stop()
        try count.set(4)
        XCTAssertEqual(seen.all, [2, 4, 6])
    }

    func testWhatAComputedsClosureThrewIsRethrownAsBefore() throws {
        struct Oops: Error {}
        let mode = try Signal(0)
        let runs = Counter()
        let failing = Computed { () throws -> Int in
            _ = runs.next()
            switch try mode.get() {
            case 1: throw MizuError.notFound(what: "milk")
            case 2: throw Oops()
            default: return 7
            }
        }
        XCTAssertEqual(try failing.get(), 7)
        try mode.set(1)
        for read in [{ try failing.get() }, { try failing.peek() }] as [() throws -> Int] {
            // A MizuError keeps its case; the error is kept until a dependency changes.
            XCTAssertThrowsError(try read()) {
                XCTAssertEqual($0 as? MizuError, .notFound(what: "milk"))
            }
        }
        XCTAssertEqual(runs.current, 2)
        try mode.set(2)
        XCTAssertThrowsError(try failing.get()) { error in
            guard case .callback(let reason) = error as? MizuError else {
                return XCTFail("expected a callback error, got \(error)")
            }
            XCTAssertTrue(reason.contains("Oops"), reason)
        }
        try mode.set(0)
        XCTAssertEqual(try failing.get(), 7)
        // A failing read inside the closure (a closed signal) arrives with its own case.
        mode.close()
        let reading = Computed { try mode.get() }
        XCTAssertThrowsError(try reading.get()) {
            XCTAssertEqual($0 as? MizuError, .closed(what: "signal"))
        }
    }

    func testAClosedComputedThrowsClosedEvenWhenItsValueIsCached() throws {
        let count = try Signal(1)
        let doubled = Computed { try count.get() * 2 }
        let text = Computed { "\(try count.get())" }
        XCTAssertEqual(try doubled.get(), 2)
        XCTAssertEqual(try text.get(), "1")
        doubled.close()
        text.close()
        doubled.close()
        XCTAssertTrue(doubled.isClosed)
        for (what, call) in [
            ("get", { _ = try doubled.get() }),
            ("peek", { _ = try doubled.peek() }),
            ("get of a string", { _ = try text.get() }),
            ("subscribe", { _ = try doubled.subscribe { _ in } }),
        ] as [(String, () throws -> Void)] {
            XCTAssertThrowsError(try call(), what) {
                XCTAssertEqual($0 as? MizuError, .closed(what: "computed"), what)
            }
        }
    }

    func testReleasedComputedsReleaseTheirHandleAndClosure() throws {
        let count = try Signal(0)
        let released = expectation(description: "a released computed's closure is released")
        do {
            let computed = Computed(ComputedProbe(released).body(count))
            XCTAssertEqual(try computed.get(), 0)
        }
        wait(for: [released], timeout: waitLimit)

        let counted = Counter()
        let rounds = 2000
        for i in 0..<rounds {
            let computed = Computed(CountingProbe(counted).computed(count))
            try count.set(i)
            XCTAssertEqual(try computed.get(), i)
            XCTAssertEqual(try computed.peek(), i)
            if i % 3 == 0 {
                computed.close()
            }
        }
        XCTAssertEqual(counted.current, rounds)
    }
}

/// A value with most of what Codable offers, for the entity write path's encoder.
private struct Shape: Codable, Sendable, Equatable {
    struct Inner: Codable, Sendable, Equatable {
        var level: Int
        var note: String?
    }
    enum Choice: Codable, Sendable, Equatable {
        case none
        case both(Int, String)
    }
    var name: String
    var count: Int
    var ratio: Double
    var whole: Double
    var flag: Bool
    var tags: [String?]
    var nested: Inner?
    var bytes: Data?
    var link: URL?
    var when: Date?
    var amount: Decimal?
    var byNumber: [Int: String]
    var choice: Choice
    var small: Float
    var big: UInt64
}

/// A subclass encoding its superclass through `superEncoder`.
private class Base: Codable, @unchecked Sendable {
    let base: Int
    init(base: Int) { self.base = base }
}

private final class Derived: Base, Equatable, @unchecked Sendable {
    let extra: String
    private enum Keys: String, CodingKey { case extra, base }
    init(base: Int, extra: String) {
        self.extra = extra
        super.init(base: base)
    }
    required init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        extra = try container.decode(String.self, forKey: .extra)
        try super.init(from: container.superDecoder(forKey: .base))
    }
    override func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(extra, forKey: .extra)
        try super.encode(to: container.superEncoder(forKey: .base))
    }
    static func == (a: Derived, b: Derived) -> Bool { a.base == b.base && a.extra == b.extra }
}

/// Fulfils an expectation when the closure holding it is released.
private final class ReleaseProbe: @unchecked Sendable {
    private let released: XCTestExpectation
    init(_ released: XCTestExpectation) { self.released = released }
    deinit { released.fulfill() }
    var observer: @Sendable (String) throws -> Void { { _ in _ = self } }
}

/// An effect body that counts its runs and fulfils an expectation when released.
private final class EffectProbe: @unchecked Sendable {
    private let released: XCTestExpectation
    private let runs: Counter
    init(_ released: XCTestExpectation, _ runs: Counter) {
        self.released = released
        self.runs = runs
    }
    deinit { released.fulfill() }
    func body(_ signal: Signal<Int>) -> @Sendable () throws -> Void {
        { _ = try signal.get(); _ = self.runs.next() }
    }
}

/// A computed's closure that fulfils an expectation when released.
private final class ComputedProbe: @unchecked Sendable {
    private let released: XCTestExpectation
    init(_ released: XCTestExpectation) { self.released = released }
    deinit { released.fulfill() }
    func body(_ signal: Signal<Int>) -> @Sendable () throws -> Int { { _ = self; return try signal.get() } }
}

/// Counts its own release.
private final class CountingProbe: @unchecked Sendable {
    private let released: Counter
    init(_ released: Counter) { self.released = released }
    deinit { _ = released.next() }
    var observer: @Sendable (Int) throws -> Void { { _ in _ = self } }
    func effect(_ signal: Signal<Int>) -> @Sendable () throws -> Void { { _ = try signal.get(); _ = self } }
    func computed(_ signal: Signal<Int>) -> @Sendable () throws -> Int { { _ = self; return try signal.get() } }
}

extension Shape {
    /// Two values covering every field kind, the awkward ones included (escapes, -0.0, nil, huge).
    static let samples: [Shape] = [
        Shape(
            name: "a \"quoted\" \\ name\n\t\u{01}é 🍣 /", count: -3, ratio: 0.1, whole: 6,
            flag: true, tags: ["x", nil, "z"], nested: Shape.Inner(level: 2, note: nil),
            bytes: Data([0, 1, 254]), link: URL(string: "https://example.com/a?b=c"),
            when: Date(timeIntervalSinceReferenceDate: 12.5), amount: Decimal(string: "12.34"),
            byNumber: [1: "one", 2: "two"], choice: .both(1, "b"), small: 1.5, big: UInt64.max),
        Shape(
            name: "", count: 0, ratio: -0.0, whole: 1e300, flag: false, tags: [], nested: nil,
            bytes: nil, link: nil, when: nil, amount: nil, byNumber: [:], choice: .none,
            small: -0.25, big: 0),
    ]
}
