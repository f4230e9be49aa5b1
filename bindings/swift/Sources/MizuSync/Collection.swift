import Foundation
import MizuSyncFFI

/// A named set of entities of one ``Client``, synchronized with the server, with values of
/// one `Codable` type. Ids are strings; bulk reads return entities in ascending order of id.
///
/// Writes are optimistic and durable: visible at once, stored before the call returns, and
/// pushed in the background. Reads never wait for the network. ``create(_:_:)``,
/// ``set(_:_:)`` and ``delete(_:)`` block for the commit (microseconds; more on a busy disk)
/// and run the observers they wake before returning; their `async` overloads (picked with
/// `await`) queue the write and commit it on the library's write lane, in call order, so the
/// caller's thread (the main actor) never waits for SQLite, and are durable and visible when
/// the await returns. Their observers run on the client's sync thread or its ``Delivery``
/// context. Cancelling the awaiting task ends the wait, never the write.
///
/// Reads are tracked inside ``Computed`` and ``Effect`` closures: ``count()``, ``ids()`` and
/// ``has(_:)`` wake on membership changes, ``entries()`` and ``values()`` on any change,
/// ``get(_:)`` on that entity's changes.
///
/// ```swift
/// struct Todo: Codable, Sendable { var title: String; var completed = false }
/// let todos = try client.collection("todo", of: Todo.self)
/// let todo = try todos.create("todo-1", Todo(title: "Learn sync"))
/// try todo.set(Todo(title: "Learn sync", completed: true))
/// ```
///
/// Note: inside this module's clients, `Collection` means this type; write `Swift.Collection`
/// for the standard library's protocol.
///
/// ## Performance
/// ``create(_:_:)``, ``set(_:_:)``, ``get(_:)`` and an ``Entity``'s ``Entity/get()`` and
/// ``Entity/set(_:)`` are one direct C call each, the value crossing as JSON text; the other
/// methods go through the generated bindings.
public final class Collection<Value: Codable & Sendable>: Sendable {
    let raw: MizuSyncFFI.Collection
    /// The hot handle of `raw`, for this collection's own direct calls.
    private let direct: DirectCollection
    /// A second native collection of the same name, which only entity handles use: closing
    /// this collection does not close them, as closing a collection never closed the entity
    /// handles it made.
    private let entities: DirectCollection

    /// A collection over `raw`; `entities` is another native handle of the same collection.
    init(_ raw: MizuSyncFFI.Collection, entities: MizuSyncFFI.Collection) {
        self.raw = raw
        direct = DirectCollection(raw)
        self.entities = DirectCollection(entities)
    }

    /// The collection's name.
    public var name: String {
        raw.name()
    }

    /// Creates the entity `id` with `value`, optimistically and durably, and queues its
    /// `<name>.create` mutation.
    ///
    /// - Throws: ``MizuError/invalidArgument(reason:)`` for an empty id or an id that
    ///   exists; ``MizuError/invalidJSON(reason:)``; ``MizuError/storage(reason:)``;
    ///   ``MizuError/closed(what:)``.
    @discardableResult
    public func create(_ id: String, _ value: Value) throws -> Entity<Value> {
        try direct.write(id, JSONCoding.encodeForLibrary(value), create: true)
        return Entity(id, in: entities)
    }

    /// A handle to the entity `id`, whether or not it exists. Not a read.
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    public func entity(_ id: String) throws -> Entity<Value> {
        Entity(id, in: entities, native: try translating { try raw.get(id: id) })
    }

    /// The value of the entity `id`, or `nil` when it does not exist. Tracked.
    ///
    /// - Throws: ``MizuError/invalidJSON(reason:)`` when the stored value is not a `Value`;
    ///   ``MizuError/closed(what:)``.
    public func get(_ id: String) throws -> Value? {
        try direct.read(id, tracked: true).map { try JSONCoding.decodeFromLibrary(Value.self, from: $0) }
    }

    /// ``create(_:_:)``, committed off the caller's thread; the entity exists (durably) when
    /// the await returns.
    ///
    /// - Throws: as ``create(_:_:)``; `CancellationError` (the write goes on).
    @discardableResult
    public func create(_ id: String, _ value: Value) async throws -> Entity<Value> {
        let text = try JSONCoding.encode(value)
        let raw = raw
        let native = try await awaiting { try await raw.createAsync(id: id, valueJson: text) }
        return Entity(id, in: entities, native: native)
    }

    /// Sets the value of the entity `id`, creating it when missing.
    ///
    /// - Throws: as ``create(_:_:)``, except that an existing id is fine.
    public func set(_ id: String, _ value: Value) throws {
        try direct.write(id, JSONCoding.encodeForLibrary(value), create: false)
    }

    /// ``set(_:_:)``, committed off the caller's thread (see ``create(_:_:)-async``).
    ///
    /// - Throws: as ``set(_:_:)``; `CancellationError` (the write goes on).
    public func set(_ id: String, _ value: Value) async throws {
        let text = try JSONCoding.encode(value)
        let raw = raw
        try await awaiting { try await raw.setAsync(id: id, valueJson: text) }
    }

    /// Replaces the value of the existing entity `id`.
    ///
    /// - Throws: ``MizuError/notFound(what:)`` when it does not exist; otherwise as
    ///   ``set(_:_:)``.
    public func update(_ id: String, _ value: Value) throws {
        let text = try JSONCoding.encode(value)
        try translating { try raw.update(id: id, valueJson: text) }
    }

    /// Deletes the entity `id` (nothing happens when it does not exist).
    ///
    /// - Throws: ``MizuError/storage(reason:)``; ``MizuError/closed(what:)``.
    public func delete(_ id: String) throws {
        try translating { try raw.delete(id: id) }
    }

    /// ``delete(_:)``, committed off the caller's thread (see ``create(_:_:)-async``).
    ///
    /// - Throws: as ``delete(_:)``; `CancellationError` (the write goes on).
    public func delete(_ id: String) async throws {
        let raw = raw
        try await awaiting { try await raw.deleteAsync(id: id) }
    }

    /// Every entity as (id, value), ordered by id, in one call. Tracked (any change).
    ///
    /// - Throws: ``MizuError/invalidJSON(reason:)`` when a stored value is not a `Value`;
    ///   ``MizuError/closed(what:)``.
    public func entries() throws -> [(id: String, value: Value)] {
        try decodeRecords(translating { try raw.entries() }, as: Value.self)
    }

    /// Every entity's value, ordered by id. Tracked (any change).
    ///
    /// - Throws: as ``entries()``.
    public func values() throws -> [Value] {
        try entries().map(\.value)
    }

    /// The ids of the entities that exist, ordered. Tracked (membership).
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    public func ids() throws -> [String] {
        try translating { try raw.ids() }
    }

    /// How many entities exist. Tracked (membership).
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    public func count() throws -> Int {
        Int(try translating { try raw.count() })
    }

    /// Where the entity `id` stands with the server (see ``Entity/syncState()``), without
    /// making an entity handle. Tracked.
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    public func syncState(_ id: String) throws -> SyncState {
        SyncState(try translating { try raw.syncState(id: id) })
    }

    /// Whether the entity `id` exists. Tracked (that entity's existence).
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    public func has(_ id: String) throws -> Bool {
        try translating { try raw.has(id: id) }
    }

    /// Calls `observer` with every entity now (as changed), then after each change with
    /// exactly what changed (the entities created or changed, the ids deleted), until the
    /// returned subscription is cancelled or released. A call costs the change, never the
    /// collection.
    ///
    /// `observer` runs on the writing thread for blocking local writes, and on the client's
    /// sync thread (or its ``Delivery`` context) for server changes and awaited writes. What it throws goes to the client's
    /// ``Client/onError(_:)`` observers; it keeps observing.
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    public func subscribe(
        _ observer: @escaping @Sendable (CollectionChange<Value>) throws -> Void
    ) throws -> Subscription {
        let listener = ChangeListener { change in try observer(CollectionChange(change)) }
        return Subscription(try translating { try raw.subscribe(listener: listener) })
    }

    /// Every entity now (as changed), then what each change changed, as an `AsyncSequence`
    /// (see ``subscribe(_:)`` and ``Signal/changes``).
    /// A change whose values do not decode as `Value` is skipped and reported to the client's
    /// ``Client/onError(_:)`` observers.
    ///
    /// At most ``eventBuffer`` changes wait for a slow consumer: when a new change finds that
    /// many unread, they and the new one are merged into one change (each entity with its last
    /// value, each id removed and not re-added since), so applying the changes in order still
    /// gives the collection's contents, and memory stays bounded by the entities touched.
    public var changes: AsyncStream<CollectionChange<Value>> {
        eventStream(whenFull: { buffered, new in [CollectionChange(merging: buffered + [new])] }) { sink in
            try subscribe { sink.push($0) }
        }
    }

    /// A query over this collection, selecting every entity in id order until narrowed with
    /// ``Query/where(_:)``, ``Query/orderBy(_:_:)``, ``Query/limit(_:)`` and
    /// ``Query/offset(_:)``. Not a read: the query opens on its first read.
    ///
    /// ```swift
    /// let open = todos.query().where(Field("completed") == false).orderBy("due").limit(50)
    /// ```
    public func query() -> Query<Value> {
        Query(raw, QuerySpec())
    }

    /// A query over this collection from its JSON spec, opened now:
    /// `{"filter": F, "order_by": [{"field": "due", "order": "desc"}], "offset": 0, "limit": 50}`,
    /// every key optional. `F` is `{"field": "a.b", "op": OP, "value": V}` with `OP` one of
    /// `eq`, `ne`, `lt`, `le`, `gt`, `ge`, `in` (`V` an array), `contains`, `exists` (`V`
    /// optional, `true` by default, `false` for "missing"); or `{"and": [F, ...]}`,
    /// `{"or": [F, ...]}`, `{"not": F}`. The builder methods refine it further.
    ///
    /// - Throws: ``MizuError/invalidQuery(reason:)`` for text that is not JSON or not a valid
    ///   spec (an unknown key or operator, an empty or malformed path, a negative or
    ///   fractional limit or offset); ``MizuError/closed(what:)``.
    public func query(specJSON: String) throws -> Query<Value> {
        let opened = try openQuery(raw, specJSON: specJSON)
        return Query(raw, try QuerySpec(canonical: opened.specJson()), opened: opened)
    }

    /// Keeps an ordered index of this collection on the field at `path` (dots for nested
    /// fields), which queries whose equality filter or first sort key it covers use. Idempotent.
    ///
    /// - Throws: ``MizuError/invalidQuery(reason:)`` for an empty or malformed path;
    ///   ``MizuError/closed(what:)``.
    public func ensureIndex(_ path: String) throws {
        try translating { try raw.ensureIndex(path: path) }
    }

    /// Releases this handle and cancels the observers registered through it. Idempotent.
    public func close() {
        raw.close()
    }
}

/// One entity of a ``Collection``, by id. It may or may not exist at any moment.
///
/// ``get()`` and ``set(_:)`` are direct calls on the collection by id; the handle makes its
/// native entity object only when another method needs it.
public final class Entity<Value: Codable & Sendable>: Sendable {
    /// The entity's id.
    public let id: String
    private let collection: DirectCollection
    private let native: NativeEntity

    /// The entity `id` of `collection`, with its native entity if one was made already.
    init(_ id: String, in collection: DirectCollection, native: MizuSyncFFI.Entity? = nil) {
        self.id = id
        self.collection = collection
        self.native = NativeEntity(native)
    }

    /// The visible value (synced base with pending local writes on top), or `nil` when the
    /// entity does not exist. Tracked.
    ///
    /// - Throws: ``MizuError/invalidJSON(reason:)`` when the stored value is not a `Value`;
    ///   ``MizuError/closed(what:)``.
    public func get() throws -> Value? {
        try native.checkOpen()
        return try collection.read(id, tracked: true).map { try JSONCoding.decodeFromLibrary(Value.self, from: $0) }
    }

    /// Whether the entity exists. Tracked.
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    public func exists() throws -> Bool {
        let raw = try native.get(id, of: collection)
        return try translating { try raw.exists() }
    }

    /// Where the entity stands with the server: ``SyncState/synced``,
    /// ``SyncState/pending(mutations:)`` or ``SyncState/rejected(reason:)``. Tracked: an
    /// ``Effect`` or ``Computed`` that reads it runs again when the queue changes (and
    /// ``ObservableEntity/syncState`` follows it for views).
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    public func syncState() throws -> SyncState {
        let raw = try native.get(id, of: collection)
        return SyncState(try translating { try raw.syncState() })
    }

    /// Replaces the value (creating the entity when missing), optimistically and durably.
    ///
    /// - Throws: ``MizuError/invalidJSON(reason:)``; ``MizuError/storage(reason:)``;
    ///   ``MizuError/closed(what:)``.
    public func set(_ value: Value) throws {
        try native.checkOpen()
        try collection.write(id, JSONCoding.encodeForLibrary(value), create: false)
    }

    /// ``set(_:)``, committed off the caller's thread (see ``Collection/create(_:_:)-async``).
    ///
    /// - Throws: as ``set(_:)``; `CancellationError` (the write goes on).
    public func set(_ value: Value) async throws {
        try native.checkOpen()
        let text = try JSONCoding.encode(value)
        let (raw, id) = (collection.raw, id)
        try await awaiting { try await raw.setAsync(id: id, valueJson: text) }
    }

    /// Deletes the entity (nothing happens when it does not exist).
    ///
    /// - Throws: ``MizuError/storage(reason:)``; ``MizuError/closed(what:)``.
    public func delete() throws {
        let raw = try native.get(id, of: collection)
        try translating { try raw.delete() }
    }

    /// ``delete()``, committed off the caller's thread (see ``Collection/create(_:_:)-async``).
    ///
    /// - Throws: as ``delete()``; `CancellationError` (the write goes on).
    public func delete() async throws {
        let raw = try native.get(id, of: collection)
        try await awaiting { try await raw.deleteAsync() }
    }

    /// Calls `observer` with the value now, then after each change (`nil` when deleted),
    /// until the returned subscription is cancelled or released. Runs as
    /// ``Collection/subscribe(_:)`` observers do.
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    public func subscribe(_ observer: @escaping @Sendable (Value?) throws -> Void) throws -> Subscription {
        let raw = try native.get(id, of: collection)
        let listener = OptionalTextListener { text in
            try observer(text.map { try JSONCoding.decode(Value.self, from: $0) })
        }
        return Subscription(try translating { try raw.subscribe(listener: listener) })
    }

    /// As ``subscribe(_:)``, handing the observer a value that does not decode as `Value` as
    /// a failure instead of reporting it.
    func subscribeDecoding(
        _ observer: @escaping @Sendable (Result<Value?, MizuError>) -> Void
    ) throws -> Subscription {
        let raw = try native.get(id, of: collection)
        let listener = OptionalTextListener { text in
            observer(Result { try text.map { try JSONCoding.decode(Value.self, from: $0) } }
                .mapError(MizuError.wrapping))
        }
        return Subscription(try translating { try raw.subscribe(listener: listener) })
    }

    /// The value now, then each new value (`nil` when deleted), as an `AsyncSequence`. Only the
    /// newest value waits for a slow consumer (see ``Signal/changes``).
    public var changes: AsyncStream<Value?> {
        stateStream { continuation in try subscribe { continuation.yield($0) } }
    }

    /// Releases this handle and cancels the observers registered through it. Idempotent.
    public func close() {
        native.close()
    }
}

/// An entity handle's native entity object, made when first needed, and whether the handle
/// was closed.
final class NativeEntity: @unchecked Sendable {
    private let lock = NSLock()
    private var raw: MizuSyncFFI.Entity?
    private var closed = false

    init(_ raw: MizuSyncFFI.Entity?) {
        self.raw = raw
    }

    /// - Throws: ``MizuError/closed(what:)`` after ``close()``.
    func checkOpen() throws {
        lock.lock()
        defer { lock.unlock() }
        if closed {
            throw MizuError.closed(what: "entity")
        }
    }

    /// The native entity, made through `collection` (outside the lock) when there is none yet.
    ///
    /// - Throws: ``MizuError/closed(what:)`` after ``close()``.
    func get(_ id: String, of collection: DirectCollection) throws -> MizuSyncFFI.Entity {
        lock.lock()
        let (existing, isClosed) = (raw, closed)
        lock.unlock()
        if isClosed {
            throw MizuError.closed(what: "entity")
        }
        if let existing {
            return existing
        }
        let made = try translating { try collection.raw.get(id: id) }
        lock.lock()
        if closed {
            lock.unlock()
            made.close()
            throw MizuError.closed(what: "entity")
        }
        if let raw {
            lock.unlock()
            return raw   // another thread made one first; `made` is dropped
        }
        raw = made
        lock.unlock()
        return made
    }

    /// Closes the handle and its native entity, if any (idempotent).
    func close() {
        lock.lock()
        closed = true
        let raw = self.raw
        lock.unlock()
        raw?.close()
    }
}
