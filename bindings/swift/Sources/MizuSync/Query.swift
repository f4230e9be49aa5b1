import Foundation
import MizuSyncFFI

/// A live query over a ``Collection``: the entities whose value passes a filter, sorted, within
/// a window (offset, limit). Built as a value, then read or observed:
///
/// ```swift
/// let open = todos.query()
///     .where(Field("completed") == false && Field("priority") >= 2)
///     .orderBy("due", .descending)
///     .limit(50)
/// let rows = try open.get()                    // [Row<Todo>], in order
/// for try await rows in open.results { show(rows) }   // the list, then each new list
/// ```
///
/// Building never throws and touches nothing. The first read (``get()``, ``ids()``,
/// ``count()``, ``specJSON()``, ``subscribe(_:)``, ``results``, ``diffs``) opens the query in
/// the library, which then keeps its result up to date incrementally (a change costs the
/// change, not the collection) for as long as this value or a subscription made from it
/// lives; later reads of the same value (and of its copies) reuse it. Each builder method
/// returns a new query, opened on its own first read: keep a query you read often (in a
/// property, a view model) rather than building it again for each read.
///
/// Ties in the order are broken by id, ascending, so every order is total. Reads are tracked
/// inside ``Computed`` and ``Effect`` closures: ``get()`` and ``ids()`` wake when the result
/// changes, ``count()`` when the number of matches does.
///
/// ## Errors
/// A query that cannot run throws ``MizuError/invalidQuery(reason:)`` from its first read: an
/// operand that does not encode as JSON (found here, before anything reaches the library), a
/// malformed field path (`""`, `"a..b"`), a negative limit or offset.
public struct Query<Value: Codable & Sendable>: Sendable {
    let spec: QuerySpec
    private let native: NativeQuery

    init(_ collection: MizuSyncFFI.Collection, _ spec: QuerySpec, opened: MizuSyncFFI.Query? = nil) {
        self.spec = spec
        native = NativeQuery(collection, spec, opened: opened)
    }

    private func with(_ change: (inout QuerySpec) -> Void) -> Query {
        var spec = self.spec
        change(&spec)
        return Query(native.collection, spec)
    }

    /// The query narrowed to the values that also pass `filter` (several calls combine with
    /// `&&`).
    public func `where`(_ filter: Filter) -> Query {
        with { spec in spec.filter = spec.filter.map { $0 && filter } ?? filter }
    }

    /// The query sorted by the field at `path` (dots for nested fields), after the sort keys
    /// already given; ties are broken by id.
    public func orderBy(_ path: String, _ order: Order = .ascending) -> Query {
        with { $0.order.append(OrderKey(path: path, order: order)) }
    }

    /// The query returning at most `count` rows (replaces an earlier limit). A negative count
    /// makes the first read throw ``MizuError/invalidQuery(reason:)``.
    public func limit(_ count: Int) -> Query {
        with { $0.limit = count }
    }

    /// The query skipping its first `count` matches (replaces an earlier offset). A negative
    /// count makes the first read throw ``MizuError/invalidQuery(reason:)``.
    public func offset(_ count: Int) -> Query {
        with { $0.offset = count }
    }

    /// The query's spec as canonical JSON (keys sorted), as the library reads it:
    /// `{"filter": ..., "limit": 50, "order_by": [{"field": "due", "order": "desc"}]}`.
    ///
    /// - Throws: ``MizuError/invalidQuery(reason:)``; ``MizuError/closed(what:)``.
    public func specJSON() throws -> String {
        try native.open().specJson()
    }

    /// The matching entities in order, within the window. Tracked (result).
    ///
    /// - Throws: ``MizuError/invalidQuery(reason:)``; ``MizuError/invalidJSON(reason:)`` when a
    ///   stored value is not a `Value`; ``MizuError/closed(what:)``.
    public func get() throws -> [Row<Value>] {
        let query = try native.open()
        return try translating { try query.get() }.map { try Row<Value>($0) }
    }

    /// The ids of the matching entities in order, within the window. Tracked (result).
    ///
    /// - Throws: ``MizuError/invalidQuery(reason:)``; ``MizuError/closed(what:)``.
    public func ids() throws -> [String] {
        let query = try native.open()
        return try translating { try query.ids() }
    }

    /// How many entities match, ignoring offset and limit. Tracked (the number of matches).
    ///
    /// - Throws: ``MizuError/invalidQuery(reason:)``; ``MizuError/closed(what:)``.
    public func count() throws -> Int {
        let query = try native.open()
        return Int(try translating { try query.count() })
    }

    /// Calls `observer` with ``QueryEvent/result(_:)`` (the whole result) now, then with
    /// ``QueryEvent/diff(_:)`` after each transaction that changed the result (one per local
    /// write, pulled page or rollback), until the returned subscription is cancelled or
    /// released. ``Swift/Array/apply(_:)`` turns the previous list into the new one.
    ///
    /// `observer` runs as ``Collection/subscribe(_:)`` observers do: on the writing thread,
    /// events in commit order. What it throws, and a value that does not decode as `Value`,
    /// go to the client's ``Client/onError(_:)`` observers.
    ///
    /// - Throws: ``MizuError/invalidQuery(reason:)``; ``MizuError/closed(what:)``.
    public func subscribe(
        _ observer: @escaping @Sendable (QueryEvent<Value>) throws -> Void
    ) throws -> Subscription {
        try register(QueryClosure { event in try observer(QueryEvent(event)) })
    }

    /// The result now, then after each change, as an `AsyncSequence` of ``QueryEvent``s (see
    /// ``subscribe(_:)``). Iterating throws the query's error (``MizuError/invalidQuery(reason:)``,
    /// ``MizuError/closed(what:)``), or ``MizuError/invalidJSON(reason:)`` for a value that
    /// does not decode as `Value` (the sequence ends there). Leaving the loop cancels the
    /// subscription.
    ///
    /// At most ``eventBuffer`` events wait for a slow consumer: when a new event finds that many
    /// unread, they are dropped and one ``QueryEvent/result(_:)`` with the whole result as of
    /// the new event waits instead, so a consumer that applies the events in order (a result
    /// replaces its list, a diff changes it) stays correct. The stream keeps its own copy of
    /// the result for this (it costs one list and each diff applied once), rather than reading
    /// the query, which may already be ahead of the events not yet delivered.
    public var diffs: AsyncThrowingStream<QueryEvent<Value>, Error> {
        let rows = RowList<Value>()
        return throwingEventStream(whenFull: { _, _ in [.result(rows.current)] }) { sink in
            try register(
                QueryClosure { event in
                    do {
                        let event = try QueryEvent<Value>(event)
                        rows.apply(event)
                        sink.push(event)
                    } catch {
                        sink.finish(throwing: error)
                    }
                })
        }
    }

    /// The whole result now, then the whole new result after each change, as an
    /// `AsyncSequence` (kept by applying each diff to the previous list, so a change costs
    /// the change plus one copy of the list). Ends and throws as ``diffs`` does. A slow
    /// consumer gets the newest list: the lists it had no time for are skipped.
    public var results: AsyncThrowingStream<[Row<Value>], Error> {
        throwingStateStream { continuation in
            let rows = RowList<Value>()
            return try register(
                QueryClosure { event in
                    do {
                        continuation.yield(try rows.apply(QueryEvent<Value>(event)))
                    } catch {
                        continuation.finish(throwing: error)
                    }
                })
        }
    }

    /// Releases the library's query behind this value (and its copies) and cancels the
    /// subscriptions made from it; every later read throws ``MizuError/closed(what:)``.
    /// Idempotent. Releasing the last copy of the value releases it too.
    public func close() {
        native.close()
    }

    func register(_ listener: QueryClosure) throws -> Subscription {
        let query = try native.open()
        return Subscription(try translating { try query.subscribe(listener: listener) })
    }
}

/// One entity of a ``Query``'s result: its id and its value.
public struct Row<Value>: Identifiable {
    /// The entity's id, unique within the result.
    public let id: String
    /// The entity's value.
    public var value: Value

    /// The row of entity `id` with `value`.
    public init(id: String, value: Value) {
        self.id = id
        self.value = value
    }
}

extension Row: Sendable where Value: Sendable {}
extension Row: Equatable where Value: Equatable {}
extension Row: Hashable where Value: Hashable {}

extension Row where Value: Decodable {
    init(_ record: EntityRecord) throws {
        self.init(id: record.id, value: try JSONCoding.decode(Value.self, from: record.valueJson))
    }
}

/// One step of a ``QueryDiff``. Steps apply in order: each index refers to the list as the
/// steps before it left it (the convention of Android's `ListUpdateCallback`, not of
/// `UITableView.performBatchUpdates`); ``Swift/Array/apply(_:)`` applies them.
public enum QueryDiffOp<Value> {
    /// The row at `index` left the result.
    case removed(index: Int, id: String)
    /// The row `id` entered the result at `index`.
    case inserted(index: Int, id: String, value: Value)
    /// The row at `from` moved to `to` (removed, then inserted at `to`).
    case moved(from: Int, to: Int, id: String)
    /// The row at `index` has a new value.
    case updated(index: Int, id: String, value: Value)

    /// The id of the row the step concerns.
    public var id: String {
        switch self {
        case .removed(_, let id), .inserted(_, let id, _), .moved(_, _, let id),
            .updated(_, let id, _):
            return id
        }
    }
}

extension QueryDiffOp: Sendable where Value: Sendable {}
extension QueryDiffOp: Equatable where Value: Equatable {}

extension QueryDiffOp where Value: Decodable {
    init(_ raw: MizuSyncFFI.QueryDiffOp) throws {
        switch raw {
        case .removed(let index, let id):
            self = .removed(index: Int(index), id: id)
        case .inserted(let index, let id, let text):
            self = .inserted(index: Int(index), id: id, value: try JSONCoding.decode(Value.self, from: text))
        case .moved(let from, let to, let id):
            self = .moved(from: Int(from), to: Int(to), id: id)
        case .updated(let index, let id, let text):
            self = .updated(index: Int(index), id: id, value: try JSONCoding.decode(Value.self, from: text))
        }
    }
}

/// The steps, applied in order, that turn a ``Query``'s previous result into its new one.
public typealias QueryDiff<Value> = [QueryDiffOp<Value>]

/// What a ``Query`` subscription receives: the whole result first, then a diff per change.
public enum QueryEvent<Value> {
    /// The whole result, in order (the first event).
    case result([Row<Value>])
    /// The steps from the previous result to the new one (every later event).
    case diff(QueryDiff<Value>)
}

extension QueryEvent: Sendable where Value: Sendable {}
extension QueryEvent: Equatable where Value: Equatable {}

extension QueryEvent where Value: Decodable {
    init(_ raw: QueryClosure.Event) throws {
        switch raw {
        case .result(let records): self = .result(try records.map { try Row<Value>($0) })
        case .diff(let ops): self = .diff(try ops.map { try QueryDiffOp<Value>($0) })
        }
    }
}

extension Array {
    /// Applies the steps of `diff` in order, turning a ``Query``'s previous result into its
    /// new one.
    ///
    /// - Precondition: the array is the result the diff was made against.
    public mutating func apply<Value>(_ diff: QueryDiff<Value>) where Element == Row<Value> {
        for op in diff {
            switch op {
            case .removed(let index, _):
                remove(at: index)
            case .inserted(let index, let id, let value):
                insert(Row(id: id, value: value), at: index)
            case .moved(let from, let to, _):
                insert(remove(at: from), at: to)
            case .updated(let index, let id, let value):
                self[index] = Row(id: id, value: value)
            }
        }
    }
}
