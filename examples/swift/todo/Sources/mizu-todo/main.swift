// mizu-todo: a todo list kept in a local SQLite file and synced with a mizu sync server.
//
//     mizu-todo [--server URL] [--db PATH] [--scope SCOPE] COMMAND
//
// Commands: `list`, `add TITLE...`, `done ID`, `undo ID`, `remove ID`. Every command works
// offline: the change is stored at once and reaches the server when it is reachable (the
// program waits up to five seconds for that before it exits).
//
// Try it against the reference server, from the repository root (on Linux; on macOS build the
// XCFramework first, see bindings/swift/README.md):
//
//     cargo build --release --lib && cargo build --features server --bin mizu-sync-server
//     target/debug/mizu-sync-server --addr 127.0.0.1:8080 &
//     cd examples/swift/todo
//     swift run mizu-todo add Buy milk
//     swift run mizu-todo --db other.db list      # a second device sees it
//
// examples/swift/demo.sh runs exactly that as a check (scripts/test-swift.sh).
import Foundation
import MizuSync

struct Todo: Codable, Sendable {
    var title: String
    var completed = false
}

struct Arguments {
    var server = "http://127.0.0.1:8080/_sync"
    var db = "mizu-todo.db"
    var scope = "user:demo"
    var command: [String] = []

    init(_ args: [String]) throws {
        var rest = args[...]
        while let flag = rest.first, flag.hasPrefix("--") {
            rest = rest.dropFirst()
            guard let value = rest.popFirst() else { throw Usage(message: "\(flag) needs a value") }
            switch flag {
            case "--server": server = value
            case "--db": db = value
            case "--scope": scope = value
            default: throw Usage(message: "unknown option \(flag)")
            }
        }
        command = Array(rest)
    }
}

struct Usage: Error {
    let message: String
}

/// Prints the list, open todos first.
func show(_ todos: MizuSync.Collection<Todo>) throws {
    let entries = try todos.entries().sorted { !$0.value.completed && $1.value.completed }
    if entries.isEmpty { print("(nothing to do)") }
    for (id, todo) in entries {
        print("[\(todo.completed ? "x" : " ")] \(id)  \(todo.title)")
    }
}

func run(_ arguments: Arguments) async throws {
    var options = ClientOptions(baseURL: arguments.server)
    options.scope = arguments.scope
    options.storagePath = arguments.db
    options.requestTimeout = 5
    let client = try Client(options)
    defer { client.close() }   // the blocking close: a defer cannot await
    try client.start()
    let todos = try client.collection("todo", of: Todo.self)

    // Fetch what other devices did; offline, carry on with what is stored locally.
    do { try await client.sync() } catch { print("offline: \(error)") }

    let command = arguments.command
    switch command.first ?? "list" {
    case "list" where command.count <= 1:
        break
    case "add" where command.count > 1:
        let id = "todo-\(UUID().uuidString.prefix(8).lowercased())"
        try await todos.create(id, Todo(title: command.dropFirst().joined(separator: " ")))
    case "done" where command.count == 2, "undo" where command.count == 2:
        let id = command[1]
        guard var todo = try todos.get(id) else { throw Usage(message: "no todo \(id)") }
        todo.completed = command[0] == "done"
        try todos.update(id, todo)
    case "remove" where command.count == 2:
        try await todos.delete(command[1])
    default:
        throw Usage(message: "commands: list | add TITLE... | done ID | undo ID | remove ID")
    }
    try show(todos)

    do {
        try await client.flush(timeout: 5)
    } catch {
        print("\(try client.pendingCount()) change(s) not synced yet (\(error)); they will sync on a later run")
    }
}

do {
    try await run(Arguments(Array(CommandLine.arguments.dropFirst())))
} catch let usage as Usage {
    FileHandle.standardError.write(Data("mizu-todo: \(usage.message)\n".utf8))
    exit(2)
} catch {
    FileHandle.standardError.write(Data("mizu-todo: \(error)\n".utf8))
    exit(1)
}
