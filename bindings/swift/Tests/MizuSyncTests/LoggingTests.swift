import MizuSync
import XCTest

/// One record an `onLog` closure received.
private struct Line: Sendable {
    let level: LogLevel
    let target: String
    let message: String
}

final class LoggingTests: ServerTestCase {
    private let stale = "swift-stale-token-marker-6a1f"
    private let fresh = "swift-fresh-token-marker-0e5b"
    private let header = "swift-header-marker-d93c"

    func testOnLogSeesEachEngineDecisionAndNoSecret() async throws {
        try server.reject(name: "todo.create", argContains: "reject-me", error: "refused for the log")
        let proxy = try AuthProxy(upstream: server.addr, token: fresh)
        defer { proxy.stop() }
        let scope = uniqueScope("logging")
        var options = fastOptions(server, scope: scope)
        options.baseURL = proxy.baseURL
        options.liveURL = "ws://\(server.addr)/ws?scope=\(scope)"
        options.headers = ["X-App-Secret": header]
        let lines = Log<Line>()
        let refreshed = Locked(false)
        let (stale, fresh) = (self.stale, self.fresh)
        let client = track(try Client(
            options,
            tokenProvider: { refresh in
                if refresh { refreshed.update { $0 = true } }
                return refreshed.update { $0 } ? fresh : stale
            },
            logLevel: .trace,
            onLog: { level, target, message in lines.append(Line(level: level, target: target, message: message)) }
        ))
        try client.start()
        let todos = try client.collection("todo", of: Todo.self)
        try await todos.create("kept", Todo(title: "fine"))
        try await todos.create("doomed", Todo(title: "reject-me"))
        try await client.flush()
        try waitUntil("the live connection is logged") {
            lines.all.contains { $0.target == "mizu_sync::live" && $0.message.contains("open") }
        }
        await client.close()

        func has(_ target: String, _ text: String) -> Bool {
            lines.all.contains { $0.target == target && $0.message.contains(text) }
        }
        XCTAssertTrue(has("mizu_sync::auth", "retrying once with a refreshed token"))
        XCTAssertTrue(has("mizu_sync::snapshot", "applying a snapshot"))
        XCTAssertTrue(has("mizu_sync::push", "pushing"))
        XCTAssertTrue(has("mizu_sync::pull", "pulled from cursor"))
        XCTAssertTrue(has("mizu_sync::rejection", "refused for the log"))
        XCTAssertTrue(lines.all.contains { $0.level == .trace && $0.target == "mizu_sync::http" })
        XCTAssertTrue(lines.all.contains { $0.level == .warn && $0.target == "mizu_sync::rejection" })
        for line in lines.all {
            for secret in [stale, fresh, header] {
                XCTAssertFalse(line.message.contains(secret) || line.target.contains(secret), "\(line)")
            }
        }
    }

    func testTheDefaultLevelHoldsBackPerRequestDetail() async throws {
        let lines = Log<Line>()
        let client = track(try Client(
            fastOptions(server, scope: uniqueScope("log-level")),
            onLog: { level, target, message in lines.append(Line(level: level, target: target, message: message)) }
        ))
        try client.start()
        try await client.collection("todo", of: Todo.self).create("a", Todo(title: "one"))
        try await client.flush()
        XCTAssertTrue(lines.all.contains { $0.target == "mizu_sync::push" && $0.message.contains("1 acknowledged") })
        XCTAssertTrue(lines.all.allSatisfy { $0.level <= .info }, "\(lines.all.map(\.message))")
    }
}
