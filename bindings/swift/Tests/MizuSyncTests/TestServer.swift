import Foundation
import XCTest
import MizuSync
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Failures of the test support itself (not of the library under test).
struct SupportError: Error, CustomStringConvertible {
    let description: String
}

/// The longest any test waits for a condition.
let waitLimit: TimeInterval = 20

/// Polls `condition` until it holds, or throws after `timeout` seconds naming `what`.
func waitUntil(
    _ what: String, timeout: TimeInterval = waitLimit, _ condition: () throws -> Bool
) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while try !condition() {
        if Date() > deadline { throw SupportError(description: "timed out waiting until \(what)") }
        Thread.sleep(forTimeInterval: 0.01)
    }
}

/// A reference server process (`mizu-sync-server --admin`, found through
/// $MIZU_SYNC_SERVER_BIN). ``stop()`` and ``start()`` keep the address and, with a database
/// file, the data.
final class TestServer: @unchecked Sendable {
    private let binary: String
    private let db: String?
    private(set) var addr = "127.0.0.1:0"
    private var process: Process?

    init(durable: Bool = false) throws {
        guard let binary = ProcessInfo.processInfo.environment["MIZU_SYNC_SERVER_BIN"] else {
            throw SupportError(description: "set MIZU_SYNC_SERVER_BIN to the mizu-sync-server binary")
        }
        self.binary = binary
        db = durable ? temporaryPath("server.db") : nil
        try start()
    }

    deinit { stop() }

    /// Starts the process (again) and waits for its `listening on http://ADDR` line.
    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--addr", addr, "--admin"] + (db.map { ["--db", $0] } ?? [])
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        self.process = process
        var line = Data()
        while true {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        let prefix = "listening on http://"
        guard text.hasPrefix(prefix) else {
            stop()
            throw SupportError(description: "the server did not start: \(text)")
        }
        addr = String(text.dropFirst(prefix.count))
    }

    /// Kills the process (SIGKILL: an outage, not a shutdown) and waits for it to exit.
    func stop() {
        guard let process else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    var baseURL: String { "http://\(addr)/_sync" }

    func liveURL(scope: String) -> String { "ws://\(addr)/ws?scope=\(scope)" }

    /// Makes the server reject mutations named `name` whose arguments contain `argContains`.
    func reject(name: String, argContains: String, error: String) throws {
        try post("/_admin/reject", ["name": name, "arg_contains": argContains, "error": error])
    }

    private func post(_ path: String, _ body: [String: String]) throws {
        guard let url = URL(string: "http://\(addr)\(path)") else {
            throw SupportError(description: "bad admin URL for \(path)")
        }
        var request = URLRequest(url: url, timeoutInterval: waitLimit)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        let done = DispatchSemaphore(value: 0)
        let outcome = Outcome()
        URLSession.shared.dataTask(with: request) { _, response, error in
            outcome.status = (response as? HTTPURLResponse)?.statusCode
            outcome.error = error
            done.signal()
        }.resume()
        done.wait()
        guard outcome.error == nil, outcome.status == 200 else {
            throw SupportError(
                description: "admin \(path) failed: \(String(describing: outcome.error)) \(String(describing: outcome.status))")
        }
    }

    private final class Outcome: @unchecked Sendable {
        var status: Int?
        var error: Error?
    }
}

private let counter = Counter()

/// A path in the temporary directory, unique to this process and call.
func temporaryPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("mizu-swift-\(ProcessInfo.processInfo.processIdentifier)-\(counter.next())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}

/// A scope unique to this process and call, so that tests never see each other's data.
func uniqueScope(_ name: String) -> String {
    "\(name)-\(ProcessInfo.processInfo.processIdentifier)-\(counter.next())"
}

/// Options with fast timers for `server` and `scope`.
/// A test case with a reference server of its own and the clients it made, closed after each
/// test.
class ServerTestCase: XCTestCase {
    var server: TestServer!
    private var clients: [Client] = []

    /// Whether the server keeps its data in a file (for tests that restart it).
    var durableServer: Bool { false }

    override func setUpWithError() throws {
        try super.setUpWithError()
        server = try TestServer(durable: durableServer)
    }

    override func tearDown() {
        clients.forEach { $0.close() }
        clients = []
        server.stop()
        super.tearDown()
    }

    /// `client`, closed after the test.
    @discardableResult
    func track(_ client: Client) -> Client {
        clients.append(client)
        return client
    }

    /// A started client of `server` with fast timers; closed after the test.
    func startedClient(scope: String, storagePath: String? = nil) throws -> Client {
        let client = track(try Client(fastOptions(server, scope: scope, storagePath: storagePath)))
        try client.start()
        return client
    }
}

func fastOptions(_ server: TestServer, scope: String, storagePath: String? = nil) -> ClientOptions {
    var options = ClientOptions(baseURL: server.baseURL)
    options.scope = scope
    options.storagePath = storagePath
    options.pushInterval = 0.2
    options.pullInterval = 0.3
    options.requestTimeout = 5
    options.backoffMin = 0.02
    options.backoffMax = 0.2
    return options
}

/// A thread-safe counter, log and box for values observed on other threads.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
    var current: Int { lock.lock(); defer { lock.unlock() }; return value }
}

/// A list appended to from any thread.
final class Log<Element>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Element] = []
    func append(_ item: Element) { lock.lock(); items.append(item); lock.unlock() }
    var all: [Element] { lock.lock(); defer { lock.unlock() }; return items }
}

/// A value guarded by a lock, changed from any thread.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func update<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock(); defer { lock.unlock() }
        return try body(&value)
    }
}

/// The test's todo item.
struct Todo: Codable, Sendable, Equatable {
    var title: String
    var completed = false
}
