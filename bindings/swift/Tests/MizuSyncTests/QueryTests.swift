import Foundation
import MizuSync
import XCTest

/// An item of the query tests: enough fields for every operator.
struct Item: Codable, Sendable, Equatable {
    var title: String
    var completed = false
    var priority = 0
    var tags: [String] = []
    var note: String?
}

/// A query's result as a subscriber sees it: the first result, then each diff applied.
final class Mirror<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [Row<Value>] = []
    private var diffs: [QueryDiff<Value>] = []
    private var results = 0

    func receive(_ event: QueryEvent<Value>) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .result(let rows):
            results += 1
            list = rows
        case .diff(let diff):
            diffs.append(diff)
            list.apply(diff)
        }
    }

    var rows: [Row<Value>] { lock.lock(); defer { lock.unlock() }; return list }
    var allDiffs: [QueryDiff<Value>] { lock.lock(); defer { lock.unlock() }; return diffs }
    var resultCount: Int { lock.lock(); defer { lock.unlock() }; return results }
}

/// Live queries against the reference server: the builder, reads, subscriptions whose diffs
/// rebuild the result, writes of a second client, the JSON form, indexes and bad input.
final class QueryTests: ServerTestCase {
    /// Six items: a(3), b(1), c(3, completed), d(2), e(5), f(2).
    private func sixItems(_ items: MizuSync.Collection<Item>) throws {
        try items.create("a", Item(title: "a", priority: 3))
        try items.create("b", Item(title: "b", priority: 1))
        try items.create("c", Item(title: "c", completed: true, priority: 3))
        try items.create("d", Item(title: "d", priority: 2))
        try items.create("e", Item(title: "e", priority: 5))
        try items.create("f", Item(title: "f", priority: 2))
    }

    func testAFilteredSortedLimitedQueryReadsInOrder() async throws {
        let scope = uniqueScope("query")
        let client = try startedClient(scope: scope)
        let items = try client.collection("item", of: Item.self)
        try sixItems(items)

        let open = items.query()
            .where(Field("completed") == false && Field("priority") >= 2)
            .orderBy("priority", .descending)
            .limit(3)
        XCTAssertEqual(try open.ids(), ["e", "a", "d"], "ties (d, f) are broken by id")
        XCTAssertEqual(try open.get().map(\.value.priority), [5, 3, 2])
        XCTAssertEqual(try open.get().first, Row(id: "e", value: Item(title: "e", priority: 5)))
        XCTAssertEqual(try open.count(), 4, "count ignores the limit")
        XCTAssertEqual(try open.offset(2).ids(), ["d", "f"])
        XCTAssertEqual(try open.offset(2).count(), 4)
        XCTAssertEqual(try items.query().ids(), ["a", "b", "c", "d", "e", "f"], "id order by default")
        XCTAssertEqual(
            try items.query().orderBy("priority").orderBy("title", .descending).ids(),
            ["b", "f", "d", "c", "a", "e"])
        XCTAssertEqual(
            try open.specJSON(),
            #"{"filter":{"and":[{"field":"completed","op":"eq","value":false},"#
                + #"{"field":"priority","op":"ge","value":2}]},"limit":3,"#
                + #""order_by":[{"field":"priority","order":"desc"}]}"#)

        // The same query on a second client, once the server has the items.
        try await client.flush(timeout: waitLimit)
        let other = try startedClient(scope: scope)
        try await other.sync()
        let mirrored = try other.collection("item", of: Item.self).query()
            .where(Field("completed") == false && Field("priority") >= 2)
            .orderBy("priority", .descending)
            .limit(3)
        XCTAssertEqual(try mirrored.get(), try open.get())
    }

    func testEachOperatorSelectsWhatItSays() throws {
        let client = try startedClient(scope: uniqueScope("operators"))
        let items = try client.collection("item", of: Item.self)
        try items.create("a", Item(title: "Buy milk", priority: 1, tags: ["home", "shop"], note: "x"))
        try items.create("b", Item(title: "Write docs", completed: true, priority: 2, tags: ["work"]))
        try items.create("c", Item(title: "Milk the cow", priority: 3))
        try items.create("d", Item(title: "Call mom", priority: 2, tags: ["home"], note: ""))

        let cases: [(String, Filter, [String])] = [
            ("==", Field("priority") == 2, ["b", "d"]),
            ("!=", Field("priority") != 2, ["a", "c"]),
            ("<", Field("priority") < 2, ["a"]),
            ("<=", Field("priority") <= 2, ["a", "b", "d"]),
            (">", Field("priority") > 2, ["c"]),
            (">=", Field("priority") >= 2, ["b", "c", "d"]),
            ("a string compared", Field("title") < "Call", ["a"]),
            ("contains an element", Field("tags").contains("home"), ["a", "d"]),
            ("contains a substring", Field("title").contains("ilk"), ["a", "c"]),
            ("isIn", Field("priority").isIn([1, 3]), ["a", "c"]),
            ("isIn strings", Field("title").isIn(["Call mom", "nobody"]), ["d"]),
            ("exists", Field("note").exists, ["a", "d"]),
            ("missing", Field("note").missing, ["b", "c"]),
            ("== nil", Field("note") == nil, ["b", "c"]),
            ("!= nil", Field("note") != nil, ["a", "d"]),
            ("an array index", Field("tags.0") == "home", ["a", "d"]),
            ("||", Field("completed") == true || Field("priority") == 3, ["b", "c"]),
            ("!", !Field("tags").contains("home"), ["b", "c"]),
            ("&& with !", Field("completed") == false && !Field("note").exists, ["c"]),
            ("nested", (Field("priority") == 1 || Field("priority") == 3) && Field("note").missing, ["c"]),
            ("a whole array", Field("tags") == ["work"], ["b"]),
        ]
        for (name, filter, expected) in cases {
            XCTAssertEqual(try items.query().where(filter).ids(), expected, name)
            XCTAssertEqual(try items.query().where(filter).count(), expected.count, name)
        }
        XCTAssertEqual(
            try items.query().where(Field("priority") >= 2).where(Field("tags").contains("home")).ids(),
            ["d"], "two where calls combine with &&")
    }

    func testSubscribedDiffsRebuildTheResultAfterEveryWrite() async throws {
        let scope = uniqueScope("diffs")
        let client = try startedClient(scope: scope), other = try startedClient(scope: scope)
        let items = try client.collection("item", of: Item.self)
        try sixItems(items)
        let open = items.query().where(Field("completed") == false).orderBy("priority", .descending).limit(3)
        let mirror = Mirror<Item>()
        let subscription = try open.subscribe { mirror.receive($0) }
        try waitUntil("the first result arrives") { mirror.resultCount == 1 }
        XCTAssertEqual(mirror.rows, try open.get())
        XCTAssertEqual(mirror.rows.map(\.id), ["e", "a", "d"])

        func step(_ what: String, _ write: () throws -> Void) throws {
            let before = mirror.allDiffs.count
            try write()
            try waitUntil("\(what): a diff arrives") { mirror.allDiffs.count > before }
            XCTAssertEqual(mirror.rows, try open.get(), what)
        }
        try step("a new first item") { try items.create("x", Item(title: "x", priority: 9)) }
        XCTAssertEqual(mirror.rows.map(\.id), ["x", "e", "a"])
        try step("a title changes in place") { try items.update("e", Item(title: "E", priority: 5)) }
        XCTAssertEqual(
            mirror.allDiffs.last, [.updated(index: 1, id: "e", value: Item(title: "E", priority: 5))])
        try step("an item leaves the filter") {
            try items.update("x", Item(title: "x", completed: true, priority: 9))
        }
        try step("an item moves down") { try items.update("e", Item(title: "E", priority: 2)) }
        XCTAssertEqual(mirror.rows.map(\.id), ["a", "d", "e"])
        try step("an item is deleted") { try items.delete("a") }
        try step("a write in a batch of two") {
            try batch {
                try items.update("b", Item(title: "b", priority: 7))
                try items.update("f", Item(title: "f", priority: 8))
            }
        }
        XCTAssertEqual(mirror.rows.map(\.id), ["f", "b", "d"])

        // Writes of a second client, pulled in through the server.
        try await client.flush(timeout: waitLimit)
        let otherItems = try other.collection("item", of: Item.self)
        try await other.sync()
        try await otherItems.create("w", Item(title: "from the other client", priority: 10))
        try await otherItems.delete("f")
        try await other.flush(timeout: waitLimit)
        try waitUntil("the other client's writes arrive") { mirror.rows.map(\.id) == ["w", "b", "d"] }
        XCTAssertEqual(mirror.rows, try open.get())
        XCTAssertEqual(mirror.rows.first?.value.title, "from the other client")
        XCTAssertEqual(mirror.resultCount, 1, "one result, then only diffs")

        subscription.cancel()
        let seen = mirror.allDiffs.count
        try await items.create("y", Item(title: "y", priority: 99))
        XCTAssertEqual(mirror.allDiffs.count, seen, "a cancelled subscription hears nothing")
    }

    func testDiffsFollowManyRandomWrites() throws {
        let client = try startedClient(scope: uniqueScope("random"))
        let items = try client.collection("item", of: Item.self)
        let queries = [
            items.query().where(Field("completed") == false).orderBy("priority", .descending).offset(1).limit(
                4),
            items.query().orderBy("title"),
            items.query().where(Field("tags").contains("red") || Field("priority") < 2).orderBy("priority")
                .limit(5),
        ]
        let mirrors = queries.map { _ in Mirror<Item>() }
        let subscriptions = try zip(queries, mirrors).map { query, mirror in
            try query.subscribe { mirror.receive($0) }
        }
        var random = SeededRandom(seed: 13)
        for step in 0..<120 {
            let id = "i\(random.next(below: 12))"
            switch random.next(below: 4) {
            case 0:
                try items.delete(id)
            default:
                let item = Item(
                    title: "t\(random.next(below: 6))", completed: random.next(below: 3) == 0,
                    priority: random.next(below: 5), tags: random.next(below: 2) == 0 ? ["red"] : [])
                try items.set(id, item)
            }
            for (index, query) in queries.enumerated() {
                try waitUntil("query \(index) catches up after step \(step)") {
                    try mirrors[index].rows == query.get()
                }
                XCTAssertEqual(try query.ids(), mirrors[index].rows.map(\.id))
            }
        }
        XCTAssertTrue(mirrors.allSatisfy { !$0.allDiffs.isEmpty })
        subscriptions.forEach { $0.cancel() }
    }

    func testQueryReadsAreTrackedByEffects() throws {
        let client = try startedClient(scope: uniqueScope("tracked"))
        let items = try client.collection("item", of: Item.self)
        let open = items.query().where(Field("completed") == false)
        let counts = Log<Int>(), titles = Log<[String]>()
        let counting = Effect { counts.append(try open.count()) }
        let listing = Effect { titles.append(try open.get().map(\.value.title)) }

        try items.create("a", Item(title: "a"))
        try items.update("a", Item(title: "renamed"))  // the count stays 1
        try items.create("b", Item(title: "b", completed: true))  // not a match: nobody wakes
        try items.update("a", Item(title: "renamed", completed: true))
        XCTAssertEqual(counts.all, [0, 1, 0])
        XCTAssertEqual(titles.all, [[], ["a"], ["renamed"], []])
        counting.stop()
        listing.stop()

        // A windowed query opened inside an effect: a match outside the window changes the
        // count, not the result, and wakes nobody who read only the result.
        let windows = Log<[String]>()
        let windowed = Effect { windows.append(try items.query().orderBy("title").limit(1).ids()) }
        try items.create("z", Item(title: "z"))
        try items.create("0", Item(title: "0"))
        XCTAssertEqual(windows.all, [["b"], ["0"]])
        windowed.stop()
    }

    func testAQueryFromJSONMatchesTheBuiltOne() throws {
        let client = try startedClient(scope: uniqueScope("json"))
        let items = try client.collection("item", of: Item.self)
        try sixItems(items)
        let built = items.query()
            .where(Field("completed") == false && Field("priority").isIn([2, 3, 5]))
            .orderBy("priority", .descending)
            .offset(1)
            .limit(2)
        let fromJSON = try items.query(
            specJSON: """
                {"filter": {"and": [{"field": "completed", "op": "eq", "value": false},
                                    {"field": "priority", "op": "in", "value": [2, 3, 5]}]},
                 "order_by": [{"field": "priority", "order": "desc"}], "offset": 1, "limit": 2}
                """)
        XCTAssertEqual(try fromJSON.ids(), ["a", "d"])
        XCTAssertEqual(try fromJSON.get(), try built.get())
        XCTAssertEqual(try fromJSON.specJSON(), try built.specJSON())

        // The builder refines a query made from JSON.
        XCTAssertEqual(try fromJSON.limit(3).ids(), ["a", "d", "f"])
        XCTAssertEqual(try fromJSON.where(Field("title") != "a").ids(), ["d", "f"])
        XCTAssertEqual(try fromJSON.orderBy("title").offset(0).limit(10).ids(), ["e", "a", "d", "f"])
        XCTAssertEqual(try items.query(specJSON: "{}").ids(), ["a", "b", "c", "d", "e", "f"])
        XCTAssertEqual(
            try items.query(
                specJSON: #"{"filter": {"not": {"field": "priority", "op": "lt", "value": 2.5}}}"#
            )
            .where(Field("completed") == false).ids(), ["a", "e"])
    }

    func testEnsureIndexServesQueries() throws {
        let client = try startedClient(scope: uniqueScope("index"))
        let items = try client.collection("item", of: Item.self)
        try items.ensureIndex("priority")
        try items.ensureIndex("priority")
        try sixItems(items)
        try items.ensureIndex("title")
        let open = items.query().where(Field("priority") == 3).orderBy("title", .descending)
        XCTAssertEqual(try open.ids(), ["c", "a"])
        try items.update("b", Item(title: "b", priority: 3))
        XCTAssertEqual(try open.ids(), ["c", "b", "a"])
        XCTAssertEqual(try items.query().orderBy("priority").limit(3).ids(), ["d", "f", "a"])
    }

    func testBadQueriesThrowInvalidQuery() async throws {
        let client = try startedClient(scope: uniqueScope("bad"))
        let items = try client.collection("item", of: Item.self)
        try await items.create("a", Item(title: "a", priority: 1))

        func expectInvalid(_ what: String, mentioning: String? = nil, _ body: () throws -> Void) {
            do {
                try body()
                XCTFail("\(what): no error")
            } catch MizuError.invalidQuery(let reason) {
                if let mentioning {
                    XCTAssertTrue(reason.contains(mentioning), "\(what): \(reason)")
                }
            } catch {
                XCTFail("\(what): not invalidQuery: \(error)")
            }
        }
        struct Unencodable: Encodable {
            struct Refused: Error {}
            func encode(to encoder: Encoder) throws { throw Refused() }
        }
        let badQueries: [(String, String?, Query<Item>)] = [
            ("an empty path", "path", items.query().where(Field("") == 1)),
            ("an empty segment", "a..b", items.query().where(Field("a..b") == 1)),
            ("a leading dot", ".a", items.query().where(Field(".a").exists)),
            ("an empty order path", nil, items.query().orderBy("")),
            ("a trailing dot in the order", "due.", items.query().orderBy("due.")),
            ("a negative limit", "limit", items.query().limit(-1)),
            ("a negative offset", "offset", items.query().offset(-3)),
            ("a NaN operand", "score", items.query().where(Field("score") == Double.nan)),
            (
                "an infinite isIn operand", "score",
                items.query().where(Field("score").isIn([1, Double.infinity]))
            ),
            (
                "an operand that refuses to encode", "Refused",
                items.query().where(Field("x").contains(Unencodable()))
            ),
            (
                "a bad operand deep inside", "nope",
                items.query()
                    .where(Field("priority") == 1 || !(Field("nope") > Double.nan))
            ),
        ]
        for (what, mentioning, query) in badQueries {
            expectInvalid("\(what): get", mentioning: mentioning) { _ = try query.get() }
            expectInvalid("\(what): ids", mentioning: mentioning) { _ = try query.ids() }
            expectInvalid("\(what): count", mentioning: mentioning) { _ = try query.count() }
            expectInvalid("\(what): specJSON", mentioning: mentioning) { _ = try query.specJSON() }
            expectInvalid("\(what): subscribe", mentioning: mentioning) { _ = try query.subscribe { _ in } }
            do {
                for try await _ in query.results {
                    XCTFail("\(what): the results stream yielded")
                    break
                }
                XCTFail("\(what): the results stream ended without an error")
            } catch MizuError.invalidQuery {
            } catch {
                XCTFail("\(what): the results stream threw \(error)")
            }
            do {
                for try await _ in query.diffs {
                    XCTFail("\(what): the diffs stream yielded")
                    break
                }
                XCTFail("\(what): the diffs stream ended without an error")
            } catch MizuError.invalidQuery {
            } catch {
                XCTFail("\(what): the diffs stream threw \(error)")
            }
        }

        let badSpecs = [
            "not json",
            "[]",
            #"{"limit": -1}"#,
            #"{"limit": 1.5}"#,
            #"{"offset": "3"}"#,
            #"{"where": {}}"#,
            #"{"filter": {"field": "a", "op": "like", "value": 1}}"#,
            #"{"filter": {"field": "a", "op": "eq"}}"#,
            #"{"filter": {"field": "a", "op": "in", "value": 1}}"#,
            #"{"filter": {"field": "", "op": "eq", "value": 1}}"#,
            #"{"filter": {"field": "a..b", "op": "eq", "value": 1}}"#,
            #"{"filter": {"and": {}}}"#,
            #"{"order_by": [{"field": "a", "order": "up"}]}"#,
        ]
        for spec in badSpecs {
            expectInvalid("the spec \(spec)") { _ = try items.query(specJSON: spec) }
        }
        expectInvalid("an empty index path") { try items.ensureIndex("") }
        expectInvalid("a malformed index path") { try items.ensureIndex("a..b") }

        // A good query still works, and closing it makes reads throw closed.
        let good = items.query().where(Field("priority") == 1)
        XCTAssertEqual(try good.ids(), ["a"])
        let subscription = try good.subscribe { _ in }
        good.close()
        good.close()
        XCTAssertTrue(subscription.isCancelled)
        XCTAssertThrowsError(try good.get()) { XCTAssertEqual($0 as? MizuError, .closed(what: "query")) }
        let neverOpened = items.query()
        neverOpened.close()
        XCTAssertThrowsError(try neverOpened.count()) {
            XCTAssertEqual($0 as? MizuError, .closed(what: "query"))
        }
        items.close()
        XCTAssertThrowsError(try items.query().ids()) {
            XCTAssertEqual($0 as? MizuError, .closed(what: "collection"))
        }
    }

    func testAValueThatDoesNotDecodeEndsTheStreamsWithInvalidJSON() async throws {
        let client = try startedClient(scope: uniqueScope("undecodable"))
        let items = try client.collection("item", of: Item.self)
        let numbers = try client.collection("item", of: Int.self)
        try await items.create("a", Item(title: "a"))

        // The first result does not decode: the streams end at once, with the error.
        func expectInvalidJSON<Element>(_ what: String, _ stream: AsyncThrowingStream<Element, Error>) async {
            do {
                for try await _ in stream {
                    XCTFail("\(what): a stream of undecodable values yielded")
                    break
                }
                XCTFail("\(what): the stream ended without an error")
            } catch MizuError.invalidJSON {
            } catch {
                XCTFail("\(what): \(error)")
            }
        }
        await expectInvalidJSON("results", numbers.query().results)
        await expectInvalidJSON("diffs", numbers.query().diffs)
        XCTAssertThrowsError(try numbers.query().get()) {
            guard case .invalidJSON = $0 as? MizuError else { return XCTFail("get: \($0)") }
        }
        XCTAssertEqual(try numbers.query().ids(), ["a"], "ids need no decoding")

        // A later diff does not decode: the results stream ends with the error; the closure
        // subscriber's failure goes to the client's error observers.
        let errors = Log<MizuError>()
        let onError = client.onError { errors.append($0) }
        let open = items.query().where(Field("title") == "b")
        let subscription = try open.subscribe { _ in }
        var results = open.results.makeAsyncIterator()
        let first = try await results.next()
        XCTAssertEqual(first, [])
        try await numbers.create("b", 7)  // matches nothing: no event
        try await client.collection("item", of: [String: String].self).create("c", ["title": "b"])
        do {
            _ = try await results.next()
            XCTFail("the undecodable row was yielded")
        } catch MizuError.invalidJSON {
        }
        let after = try await results.next()
        XCTAssertNil(after, "the stream has ended")
        try waitUntil("the subscriber's failure is reported") {
            errors.all.contains { if case .invalidJSON = $0 { return true } else { return false } }
        }
        subscription.cancel()
        onError.cancel()
    }

    func testTheChangeStreamDeliversOnlyWhatChanged() throws {
        let client = try startedClient(scope: uniqueScope("changes"))
        let items = try client.collection("item", of: Item.self)
        try items.create("a", Item(title: "a"))
        try items.create("b", Item(title: "b"))
        let changes = Log<CollectionChange<Item>>()
        let observer = try items.subscribe { changes.append($0) }
        try waitUntil("the first call") { changes.all.count == 1 }
        XCTAssertEqual(changes.all[0].changed.map(\.id), ["a", "b"])
        XCTAssertEqual(changes.all[0].removed, [])

        try items.update("b", Item(title: "b2"))
        try waitUntil("the update") { changes.all.count == 2 }
        XCTAssertEqual(changes.all[1].changed.map(\.id), ["b"])
        XCTAssertEqual(changes.all[1].changed.map(\.value), [Item(title: "b2")])
        XCTAssertEqual(changes.all[1].removed, [])

        try items.delete("a")
        try waitUntil("the delete") { changes.all.count == 3 }
        XCTAssertTrue(changes.all[2].changed.isEmpty)
        XCTAssertEqual(changes.all[2].removed, ["a"])
        observer.cancel()
    }
}

/// A small deterministic generator (SplitMix64), so that a failing sequence can be replayed.
struct SeededRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(below bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Int(z % UInt64(bound))
    }
}
