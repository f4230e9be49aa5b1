import Foundation
import MizuSync
import Testing

/// The `AsyncSequence` side of the wrapper, written with Swift Testing.
@Suite("Async streams", .timeLimit(.minutes(1)))
struct StreamTests {
    @Test("a computed's stream yields the current value, then each change")
    func computedStreamFollowsItsSignal() async throws {
        let count = try Signal(1)
        let doubled = Computed { try count.get() * 2 }
        var values = doubled.changes.makeAsyncIterator()
        #expect(await values.next() == 2)
        try count.set(5)
        #expect(await values.next() == 10)
    }

    @Test("leaving a for-await loop cancels the observer")
    func leavingTheLoopCancels() async throws {
        let count = try Signal(0)
        for await value in count.changes where value == 0 {
            break
        }
        try count.set(1)   // nobody listens any more; this must not block or crash
        #expect(try count.get() == 1)
    }

    @Test("an entity's stream sees a change made by another client, through the server")
    func entityStreamSeesServerChanges() async throws {
        let server = try TestServer()
        defer { server.stop() }
        let scope = uniqueScope("stream")
        let writer = try Client(fastOptions(server, scope: scope))
        let reader = try Client(fastOptions(server, scope: scope))
        defer { writer.close(); reader.close() }
        try writer.start()
        try reader.start()

        var updates = try reader.collection("todo", of: Todo.self).entity("todo-1").changes
            .makeAsyncIterator()
        #expect(await updates.next() == .some(nil))
        try await writer.collection("todo", of: Todo.self).create("todo-1", Todo(title: "from the writer"))
        try await writer.flush(timeout: waitLimit)
        #expect(await updates.next() == Todo(title: "from the writer"))
    }

    @Test("the status stream reports the client online once it has synced")
    func statusStreamReportsOnline() async throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try Client(fastOptions(server, scope: uniqueScope("status")))
        defer { client.close() }
        try client.start()
        try await client.sync()
        for await status in client.statusChanges where status.isOnline {
            #expect(status.cursor != nil)
            break
        }
    }

    @Test("a query's results stream yields the list, then each new list, also for another client's write")
    func queryResultsFollowWrites() async throws {
        let server = try TestServer()
        defer { server.stop() }
        let scope = uniqueScope("results")
        let writer = try Client(fastOptions(server, scope: scope))
        let reader = try Client(fastOptions(server, scope: scope))
        defer { writer.close(); reader.close() }
        try writer.start()
        try reader.start()
        let todos = try reader.collection("todo", of: Todo.self)
        try await todos.create("a", Todo(title: "a"))
        let open = todos.query().where(Field("completed") == false).orderBy("title")

        var results = open.results.makeAsyncIterator()
        #expect(try await results.next() == [Row(id: "a", value: Todo(title: "a"))])
        try await todos.create("b", Todo(title: "b"))
        let afterB = try await results.next()
        #expect(try afterB == open.get())
        #expect(afterB?.map(\.id) == ["a", "b"])
        try todos.update("a", Todo(title: "c"))
        let afterRename = try await results.next()
        #expect(try afterRename == open.get())
        #expect(afterRename?.map(\.value.title) == ["b", "c"])

        try await reader.flush(timeout: waitLimit)
        try await writer.sync()
        try writer.collection("todo", of: Todo.self).update("b", Todo(title: "b", completed: true))
        try await writer.flush(timeout: waitLimit)
        while let rows = try await results.next() {
            if rows.map(\.id) == ["a"] { break }
        }
        #expect(try open.ids() == ["a"])
    }

    @Test("a query's diffs sequence starts with the whole result, then one diff per write")
    func queryDiffsRebuildTheResult() async throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try Client(fastOptions(server, scope: uniqueScope("diffs")))
        defer { client.close() }
        let todos = try client.collection("todo", of: Todo.self)
        try await todos.create("a", Todo(title: "a"))
        let open = todos.query().orderBy("title")

        var events = open.diffs.makeAsyncIterator()
        var rows: [Row<Todo>] = []
        guard case .result(let first)? = try await events.next() else {
            Issue.record("the first event is not the result")
            return
        }
        rows = first
        #expect(rows == [Row(id: "a", value: Todo(title: "a"))])
        try await todos.create("b", Todo(title: "b"))
        #expect(
            try await events.next()
                == QueryEvent.diff([.inserted(index: 1, id: "b", value: Todo(title: "b"))]))
        rows.apply([.inserted(index: 1, id: "b", value: Todo(title: "b"))])
        try todos.update("a", Todo(title: "z"))
        try await todos.delete("b")
        for _ in 0..<2 {
            guard case .diff(let diff)? = try await events.next() else {
                Issue.record("a later event is not a diff")
                return
            }
            rows.apply(diff)
        }
        #expect(try rows == open.get())
        #expect(rows == [Row(id: "a", value: Todo(title: "z"))])
    }

    @Test("leaving a query's for-await loop cancels its subscription")
    func leavingAQueryLoopCancels() async throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try Client(fastOptions(server, scope: uniqueScope("leave")))
        defer { client.close() }
        let todos = try client.collection("todo", of: Todo.self)
        try await todos.create("a", Todo(title: "a"))
        for try await rows in todos.query().results where rows.count == 1 {
            break
        }
        try await todos.create("b", Todo(title: "b"))  // nobody listens any more
        #expect(try todos.query().count() == 2)
    }

    @Test("a slow consumer of a signal's values reads only the newest of 10,000 writes")
    func slowSignalConsumerReadsTheNewest() async throws {
        let count = try Signal(0)
        var values = count.changes.makeAsyncIterator()
        for n in 1...10_000 {   // nobody reads meanwhile
            try count.set(n)
        }
        #expect(await values.next() == 10_000)
        try count.set(-1)
        #expect(await values.next() == -1)   // nothing older was left waiting
    }

    @Test("a slow consumer of a collection's streams gets at most eventBuffer events, and the right state")
    func slowCollectionConsumersStayBounded() async throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try Client(fastOptions(server, scope: uniqueScope("slow")))
        defer { client.close() }
        let todos = try client.collection("todo", of: Todo.self)
        for i in 0..<50 {
            try await todos.create("t\(i)", Todo(title: "\(i * 7919 % 1000)"))
        }
        let open = todos.query().where(Field("completed") == false).orderBy("title").limit(30)
        var diffs = open.diffs.makeAsyncIterator()
        var results = open.results.makeAsyncIterator()
        var changes = todos.changes.makeAsyncIterator()
        var entity = try todos.entity("t7").changes.makeAsyncIterator()

        // 10,000 writes that nobody reads meanwhile: new titles (rows move within and across the
        // window), completions (rows leave the result) and deletes, over 200 ids. The last write
        // ("end", titled "" to sort first) is the last event of every stream.
        for i in 0..<10_000 {
            let id = "t\(i * 37 % 200)"
            switch i % 5 {
            case 0: try await todos.delete(id)
            case 1: try await todos.set(id, Todo(title: "\(i)", completed: true))
            default: try await todos.set(id, Todo(title: "\(i * 7919 % 1000)"))
            }
        }
        try await todos.set("end", Todo(title: ""))

        // The diffs: a fresh result replaced what overflowed; applied in order, they give the result.
        var rows: [Row<Todo>] = []
        var events: [QueryEvent<Todo>] = []
        while !rows.contains(where: { $0.id == "end" }) {
            let event = try #require(try await diffs.next())
            events.append(event)
            switch event {
            case .result(let all): rows = all
            case .diff(let diff): rows.apply(diff)
            }
        }
        #expect(events.count <= eventBuffer)
        #expect(try rows == open.get())
        guard case .result? = events.first else {
            Issue.record("the first unread event is not a whole result")
            return
        }

        // The changes: merged when they overflowed; applied in order, they give the contents.
        var contents: [String: Todo] = [:]
        var received = 0
        while contents["end"] == nil {
            let change = try #require(await changes.next())
            received += 1
            for (id, value) in change.changed { contents[id] = value }
            for id in change.removed { contents[id] = nil }
        }
        let entries = try todos.entries()
        #expect(received <= eventBuffer)
        #expect(contents == Dictionary(uniqueKeysWithValues: entries.map { ($0.id, $0.value) }))

        // The state streams: only the newest list and value were waiting.
        let t7 = try todos.get("t7")
        #expect(try await results.next() == open.get())
        #expect(await entity.next() == .some(t7))
    }
}
