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
        var values = doubled.values.makeAsyncIterator()
        #expect(await values.next() == 2)
        try count.set(5)
        #expect(await values.next() == 10)
    }

    @Test("leaving a for-await loop cancels the observer")
    func leavingTheLoopCancels() async throws {
        let count = try Signal(0)
        for await value in count.values where value == 0 {
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

        var updates = try reader.collection("todo", of: Todo.self).entity("todo-1").values
            .makeAsyncIterator()
        #expect(await updates.next() == .some(nil))
        try writer.collection("todo", of: Todo.self).create("todo-1", Todo(title: "from the writer"))
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
        for await status in client.statusUpdates where status.isOnline {
            #expect(status.cursor != nil)
            break
        }
    }
}
