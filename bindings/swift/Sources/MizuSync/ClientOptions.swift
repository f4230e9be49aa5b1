import Foundation
import MizuSyncFFI

/// How to create a ``Client``. Every property but ``baseURL`` has a default.
///
/// ```swift
/// var options = ClientOptions(baseURL: "https://api.example.com/_sync")
/// options.scope = "user:42"
/// options.storagePath = documents.appendingPathComponent("sync.db").path
/// ```
public struct ClientOptions: Sendable, Equatable {
    /// Base URL of the sync endpoints, e.g. `https://api.example.com/_sync`.
    public var baseURL: String
    /// Scope of every request; empty means the server's default scope.
    public var scope: String = ""
    /// SQLite file for the durable store (created when missing); `nil` keeps data in memory.
    public var storagePath: String?
    /// Encrypts the store file (and its WAL) with SQLCipher under this key: a passphrase, or a
    /// raw 256-bit key written `x'<64 hex digits>'`. Needs ``storagePath``. The same key must be
    /// given at every open (a wrong or missing one throws ``MizuError/wrongKey(reason:)``);
    /// ``Client/rekey(_:)`` changes it. Keep it in the Keychain: a lost key is lost data. `nil`
    /// keeps the file plain SQLite. Never part of the options' description.
    public var encryptionKey: String?
    /// How hard each commit to the store file is pushed to disk: ``Durability/full`` (the
    /// default) fsyncs every commit, so a write that returned survives a process kill and a power
    /// loss; ``Durability/normal`` skips that fsync: faster writes that still survive a process
    /// kill, but the last commits before a power loss or an OS crash may be lost, with their
    /// queued mutations. No effect without ``storagePath``; ``Client/durability()`` reads the
    /// mode back from SQLite.
    public var durability: Durability = .full
    /// URL of the live WebSocket (e.g. `wss://host/ws?scope=S`); `nil` means polling only.
    public var liveURL: String?
    /// How often pending mutations are pushed when nothing else triggers a push, in seconds.
    public var pushInterval: TimeInterval = 5
    /// How often the client pulls when no live notification arrives, in seconds.
    public var pullInterval: TimeInterval = 30
    /// Upper bound of one HTTP request, in seconds.
    public var requestTimeout: TimeInterval = 30
    /// First retry delay after a failure, in seconds (doubled per failure, with jitter).
    public var backoffMin: TimeInterval = 0.5
    /// Largest retry delay, in seconds.
    public var backoffMax: TimeInterval = 60
    /// Mutations per push request, 1 to 100.
    public var pushBatchSize: UInt32 = 100
    /// Changes per pull page.
    public var pullLimit: UInt32 = 1000
    /// The largest snapshot accepted, in bytes; `nil` accepts any size. A larger one is abandoned
    /// as it streams in (local data is kept) and reported as
    /// ``MizuError/snapshotTooLarge(limit:)`` through the status and `onError`; it is asked for
    /// again at the next pull interval, live notice or sync.
    public var maxSnapshotBytes: UInt64?
    /// Extra HTTP headers sent with every request and the live handshake.
    public var headers: [String: String] = [:]
    /// The message sent after the live connection opens, as JSON text; `nil` for the default
    /// `{"topic":"subscribe","data":{}}`.
    public var subscribeMessageJSON: String?

    /// Options for the server at `baseURL`, with every other property at its default.
    public init(baseURL: String) {
        self.baseURL = baseURL
    }

    /// The record of the generated bindings.
    var raw: MizuSyncFFI.ClientOptions {
        MizuSyncFFI.ClientOptions(
            baseUrl: baseURL,
            scope: scope,
            storagePath: storagePath,
            encryptionKey: encryptionKey,
            durability: durability.raw,
            liveUrl: liveURL,
            pushIntervalMs: milliseconds(pushInterval),
            pullIntervalMs: milliseconds(pullInterval),
            requestTimeoutMs: milliseconds(requestTimeout),
            backoffMinMs: milliseconds(backoffMin),
            backoffMaxMs: milliseconds(backoffMax),
            pushBatchSize: pushBatchSize,
            pullLimit: pullLimit,
            headers: headers,
            maxSnapshotBytes: maxSnapshotBytes,
            subscribeMessageJson: subscribeMessageJSON
        )
    }
}

extension ClientOptions: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Every property but the encryption key (only whether there is one).
    public var description: String {
        "ClientOptions(baseURL: \(baseURL), scope: \(scope), storagePath: \(storagePath ?? "nil"), "
            + "encrypted: \(encryptionKey != nil), durability: \(durability), liveURL: \(liveURL ?? "nil"), "
            + "pushInterval: \(pushInterval), pullInterval: \(pullInterval), "
            + "requestTimeout: \(requestTimeout), backoffMin: \(backoffMin), "
            + "backoffMax: \(backoffMax), pushBatchSize: \(pushBatchSize), "
            + "pullLimit: \(pullLimit), "
            + "maxSnapshotBytes: \(maxSnapshotBytes.map { String($0) } ?? "nil"), headers: \(headers.keys.sorted()))"
    }

    public var debugDescription: String { description }

    /// What `dump` and debuggers show: the description, so the key stays out of them too.
    public var customMirror: Mirror { Mirror(self, children: ["description": description]) }
}

/// `seconds` in whole milliseconds, clamped to 0 ... UInt64.max (NaN gives 0).
func milliseconds(_ seconds: TimeInterval) -> UInt64 {
    let ms = (seconds * 1000).rounded()
    guard ms.isFinite else { return ms > 0 ? UInt64.max : 0 }
    if ms <= 0 { return 0 }
    return ms >= Double(UInt64.max) ? UInt64.max : UInt64(ms)
}
