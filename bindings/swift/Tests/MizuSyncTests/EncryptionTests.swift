import Foundation
import MizuSync
import XCTest

/// Encryption at rest: an encrypted store's file and WAL hold none of the written text, it opens
/// with its key only (``MizuError/wrongKey(reason:)`` otherwise), `rekey` changes the key, and a
/// store without a key keeps its text in plain SQLite.
final class EncryptionTests: ServerTestCase {
    private let key = "correct horse battery staple"
    private let localSecret = "swift-local-secret-91d4e"
    private let pulledSecret = "swift-pulled-secret-0f6a3"

    /// Which of the store file and its WAL hold `needle` in clear (raw bytes).
    private func filesHolding(_ db: String, _ needle: String) -> [String] {
        [db, db + "-wal"].filter { path in
            guard let bytes = FileManager.default.contents(atPath: path) else { return false }
            return bytes.range(of: Data(needle.utf8)) != nil
        }
    }

    private func header(_ db: String) -> String {
        String(decoding: (FileManager.default.contents(atPath: db) ?? Data()).prefix(15), as: UTF8.self)
    }

    private func offline(_ db: String, key: String? = nil) throws -> Client {
        var options = ClientOptions(baseURL: "http://127.0.0.1:9/_sync")
        options.storagePath = db
        options.encryptionKey = key
        return try Client(options)
    }

    /// A synced client on `db` with a local write and a change pulled from another writer.
    private func writeSecrets(_ db: String, key: String?) async throws -> Client {
        let scope = uniqueScope("encryption")
        var options = fastOptions(server, scope: scope, storagePath: db)
        options.encryptionKey = key
        let client = track(try Client(options))
        try client.start()
        _ = try await client.collection("todo", of: Todo.self).create("t1", Todo(title: localSecret))
        let other = try startedClient(scope: scope)
        _ = try await other.collection("todo", of: Todo.self).create("t2", Todo(title: pulledSecret))
        try await other.flush(timeout: waitLimit)
        try await client.flush(timeout: waitLimit)
        try await client.sync()
        XCTAssertEqual(try client.collection("todo", of: Todo.self).get("t2"), Todo(title: pulledSecret))
        return client
    }

    private func assertWrongKey(_ open: () throws -> Client, _ needle: String, line: UInt = #line) {
        XCTAssertThrowsError(try open(), line: line) { error in
            guard case MizuError.wrongKey(let reason) = error else {
                return XCTFail("expected wrongKey, got \(error)", line: line)
            }
            XCTAssertTrue(reason.contains(needle), reason, line: line)
        }
    }

    func testAnEncryptedStoreHoldsNoPlaintextAndReopensWithItsKey() async throws {
        let db = temporaryPath("encrypted.db")
        let client = try await writeSecrets(db, key: key)
        for phase in ["open", "closed"] {
            XCTAssertNotEqual(header(db), "SQLite format 3", phase)
            for secret in [localSecret, pulledSecret, "CREATE TABLE"] {
                XCTAssertEqual(filesHolding(db, secret), [], "\(phase): \(secret)")
            }
            await client.close()
        }
        let reopened = try offline(db, key: key)
        let todos = try reopened.collection("todo", of: Todo.self)
        XCTAssertEqual(try todos.entries().map(\.value), [Todo(title: localSecret), Todo(title: pulledSecret)])
        await reopened.close()
    }

    func testAPlainStoreHoldsTheSameTextInClear() async throws {
        let db = temporaryPath("plain.db")
        try await writeSecrets(db, key: nil).close()
        XCTAssertEqual(header(db), "SQLite format 3")
        XCTAssertFalse(filesHolding(db, localSecret).isEmpty)
        XCTAssertFalse(filesHolding(db, pulledSecret).isEmpty)
    }

    func testAWrongOrMissingKeyThrowsWrongKeyAndChangesNothing() throws {
        let db = temporaryPath("wrong-key.db")
        let writer = try offline(db, key: key)
        _ = try writer.collection("todo", of: Todo.self).create("t1", Todo(title: localSecret))
        writer.close()
        let before = FileManager.default.contents(atPath: db)
        assertWrongKey({ try offline(db, key: "not the key") }, "does not decrypt")
        assertWrongKey({ try offline(db) }, "is encrypted")
        XCTAssertEqual(FileManager.default.contents(atPath: db), before)
        let client = try offline(db, key: key)
        defer { client.close() }
        XCTAssertEqual(try client.collection("todo", of: Todo.self).get("t1"), Todo(title: localSecret))
        XCTAssertEqual(try client.pendingCount(), 1)
    }

    func testRekeyThenOnlyTheNewKeyOpensTheStore() throws {
        let db = temporaryPath("rekey.db")
        let writer = try offline(db, key: key)
        let todos = try writer.collection("todo", of: Todo.self)
        for i in 0..<100 {
            _ = try todos.create(String(format: "t%03d", i), Todo(title: "before-\(i)"))
        }
        try writer.rekey("the new key")
        _ = try todos.create("after", Todo(title: localSecret))
        writer.close()
        XCTAssertEqual(filesHolding(db, localSecret), [])
        assertWrongKey({ try offline(db, key: key) }, "does not decrypt")
        let client = try offline(db, key: "the new key")
        defer { client.close() }
        let reopened = try client.collection("todo", of: Todo.self)
        XCTAssertEqual(try reopened.count(), 101)
        XCTAssertEqual(try reopened.get("after"), Todo(title: localSecret))
    }

    func testRekeyAndKeyMisuseThrowInvalidArgumentAndTheDescriptionHidesTheKey() throws {
        let plain = try offline(temporaryPath("plain.db"))
        defer { plain.close() }
        XCTAssertThrowsError(try plain.rekey("k")) { error in
            guard case MizuError.invalidArgument(let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("not encrypted"), reason)
        }
        let keyed = try offline(temporaryPath("keyed.db"), key: key)
        defer { keyed.close() }
        XCTAssertThrowsError(try keyed.rekey("")) { error in
            guard case MizuError.invalidArgument = error else { return XCTFail("\(error)") }
        }
        var noFile = ClientOptions(baseURL: "http://127.0.0.1:9/_sync")
        noFile.encryptionKey = key
        XCTAssertThrowsError(try Client(noFile)) { error in
            guard case MizuError.invalidArgument(let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("needs a storage_path"), reason)
        }
        for printed in [String(describing: noFile), String(reflecting: noFile), "\(noFile)"] {
            XCTAssertFalse(printed.contains(key), printed)
            XCTAssertTrue(printed.contains("encrypted: true"), printed)
        }
        var dumped = ""
        dump(noFile, to: &dumped)
        XCTAssertFalse(dumped.contains(key), dumped)
    }

    func testTheDurabilityOptionIsTheStoreFilesSynchronousMode() throws {
        let db = temporaryPath("durability.db")
        for (asked, expected) in [(nil, Durability.full), (.normal, .normal), (.full, .full)] as [(Durability?, Durability)] {
            var options = ClientOptions(baseURL: "http://127.0.0.1:9/_sync")
            options.storagePath = db
            if let asked { options.durability = asked }
            let client = try Client(options)
            XCTAssertEqual(try client.durability(), expected)
            client.close()
            XCTAssertThrowsError(try client.durability()) {
                XCTAssertEqual($0 as? MizuError, .closed(what: "client"))
            }
        }
        var inMemory = ClientOptions(baseURL: "http://127.0.0.1:9/_sync")
        inMemory.durability = .normal
        let client = try Client(inMemory)
        defer { client.close() }
        XCTAssertNil(try client.durability())
        XCTAssertTrue(inMemory.description.contains("durability: normal"), inMemory.description)
    }

    func testANormalDurabilityStoreKeepsEveryWriteAcrossReopens() throws {
        var options = ClientOptions(baseURL: "http://127.0.0.1:9/_sync")
        options.storagePath = temporaryPath("durability-normal.db")
        options.durability = .normal
        let writer = try Client(options)
        let todos = try writer.collection("todo", of: Todo.self)
        for i in 0..<50 {
            _ = try todos.create("t\(i)", Todo(title: "title \(i)"))
        }
        writer.close()
        let reopened = try Client(options)
        defer { reopened.close() }
        XCTAssertEqual(try reopened.collection("todo", of: Todo.self).count(), 50)
        XCTAssertEqual(try reopened.pendingCount(), 50)
    }
}
