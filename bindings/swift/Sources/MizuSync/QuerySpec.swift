import Foundation
import MizuSyncFFI

// The plumbing behind `Query`: its spec and JSON form, the library handle opened on first
// read, and the list kept by `results` and `diffs`.

/// One sort key of a query.
struct OrderKey: Sendable {
    var path: String
    var order: Order
}

/// What a ``Query`` selects, as its builder left it.
struct QuerySpec: Sendable {
    var filter: Filter?
    var order: [OrderKey] = []
    var offset: Int?
    var limit: Int?

    /// The JSON form the library reads:
    /// `{"filter": F, "order_by": [{"field": "due", "order": "desc"}], "offset": 0, "limit": 50}`.
    ///
    /// - Throws: ``MizuError/invalidQuery(reason:)`` when a filter operand did not encode.
    func json() throws -> String {
        var members: [String] = []
        if let filter {
            members.append("\"filter\":\(try filter.json())")
        }
        if !order.isEmpty {
            let keys = try order.map { key in
                "{\"field\":\(try JSONCoding.encode(key.path)),\"order\":\"\(key.order.rawValue)\"}"
            }
            members.append("\"order_by\":[\(keys.joined(separator: ","))]")
        }
        if let offset { members.append("\"offset\":\(offset)") }
        if let limit { members.append("\"limit\":\(limit)") }
        return "{\(members.joined(separator: ","))}"
    }

    /// The spec of the library's canonical JSON form (``Query/specJSON()``), so that a query
    /// made from JSON can be refined with the builder.
    ///
    /// - Throws: ``MizuError/invalidQuery(reason:)`` when `text` is not of that form.
    init(canonical text: String) throws {
        let document: SpecDocument
        do {
            document = try JSONDecoder().decode(SpecDocument.self, from: Data(text.utf8))
        } catch {
            throw MizuError.invalidQuery(reason: "cannot read the spec \(text): \(error)")
        }
        filter = try document.filter.map { Filter(.json(try JSONCoding.encode($0))) }
        order = (document.orderBy ?? []).map { key in
            OrderKey(
                path: key.field, order: key.order == Order.descending.rawValue ? .descending : .ascending)
        }
        offset = document.offset
        limit = document.limit
    }

    init() {}
}

/// The JSON form of a spec, as the library writes it.
private struct SpecDocument: Decodable {
    struct Key: Decodable {
        var field: String
        var order: String?
    }

    var filter: JSONValue?
    var orderBy: [Key]?
    var offset: Int?
    var limit: Int?

    enum CodingKeys: String, CodingKey {
        case filter, offset, limit
        case orderBy = "order_by"
    }
}

/// Any JSON value, decoded and encoded again without loss of its structure (integers stay
/// integers), to carry the filter of a JSON spec into a built one.
enum JSONValue: Codable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(UInt64.self) {
            self = .uint(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .uint(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

/// The library's query behind a ``Query`` value, opened on first use and shared by the
/// value's copies.
final class NativeQuery: @unchecked Sendable {
    let collection: MizuSyncFFI.Collection
    private let spec: QuerySpec
    private let lock = NSLock()
    private var query: MizuSyncFFI.Query?
    private var closed = false

    init(_ collection: MizuSyncFFI.Collection, _ spec: QuerySpec, opened: MizuSyncFFI.Query?) {
        self.collection = collection
        self.spec = spec
        query = opened
    }

    /// The library's query, opened now when it is not yet.
    ///
    /// - Throws: ``MizuError/invalidQuery(reason:)`` (an operand that did not encode is found
    ///   before the library is called); ``MizuError/closed(what:)``.
    func open() throws -> MizuSyncFFI.Query {
        lock.lock()
        defer { lock.unlock() }
        if closed { throw MizuError.closed(what: "query") }
        if let query { return query }
        let opened = try openQuery(collection, specJSON: try spec.json())
        query = opened
        return opened
    }

    func close() {
        lock.lock()
        let query = self.query
        self.query = nil
        closed = true
        lock.unlock()
        query?.close()
    }
}

/// Opens a query in the library. The library evaluates a query as it opens it, and that read
/// would become a dependency of the computed or effect running on this thread (waking it when
/// the number of matches changes, even outside its window): the query is opened untracked.
///
/// - Throws: ``MizuError/invalidQuery(reason:)``; ``MizuError/closed(what:)``.
func openQuery(_ collection: MizuSyncFFI.Collection, specJSON: String) throws -> MizuSyncFFI.Query {
    var opened: MizuSyncFFI.Query?
    _ = try untracked {
        opened = try translating { try collection.query(specJson: specJSON) }
        return true
    }
    guard let opened else { throw MizuError.internal(reason: "the query was not opened") }
    return opened
}

/// The list a ``Query/results`` or ``Query/diffs`` stream keeps: set by the result, changed by
/// each diff.
final class RowList<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var rows: [Row<Value>] = []

    /// Applies `event` and returns the new list.
    @discardableResult
    func apply(_ event: QueryEvent<Value>) -> [Row<Value>] {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .result(let all): rows = all
        case .diff(let diff): rows.apply(diff)
        }
        return rows
    }

    /// The list as the last event left it.
    var current: [Row<Value>] {
        lock.lock()
        defer { lock.unlock() }
        return rows
    }
}
