import Foundation

/// A field of the stored JSON values, by a dotted path (`"completed"`, `"address.city"`; a
/// segment of digits also indexes an array, `"tags.0"`), from which query filters are built:
///
/// ```swift
/// Field("completed") == false
/// Field("priority") >= 2 && Field("tags").contains("home")
/// Field("status").isIn(["open", "blocked"]) || !Field("due").exists
/// ```
///
/// Operands are `Encodable` values, encoded as JSON (keys sorted) when the filter is built.
/// An operand that does not encode (a `Double.nan`, a value whose `encode(to:)` throws)
/// makes the filter invalid: the query that uses it throws ``MizuError/invalidQuery(reason:)``
/// from its first read, before anything reaches the library. A malformed path (`""`,
/// `"a..b"`) is refused by the library with the same error.
///
/// Comparisons use one total order over JSON values: `null` < `false` < `true` < numbers <
/// strings < arrays < objects; a missing field compares as `null`.
public struct Field: Sendable {
    /// The dotted path.
    public let path: String

    /// The field at `path`.
    public init(_ path: String) {
        self.path = path
    }

    /// Matches values whose field is one of `values`.
    public func isIn<Operand: Encodable>(_ values: [Operand]) -> Filter {
        compare("in", values)
    }

    /// Matches values whose field is a string containing `value` as a substring, or an array
    /// holding `value` as an element.
    public func contains<Operand: Encodable>(_ value: Operand) -> Filter {
        compare("contains", value)
    }

    /// Matches values that have this field (`null` counts as present).
    public var exists: Filter {
        Filter(.compare(path: path, op: "exists", operand: "true"))
    }

    /// Matches values that lack this field (the same as `!exists`).
    public var missing: Filter {
        Filter(.compare(path: path, op: "exists", operand: "false"))
    }

    /// The filter `{"field": path, "op": op, "value": operand}`, or an invalid filter when
    /// `operand` does not encode as JSON.
    func compare<Operand: Encodable>(_ op: String, _ operand: Operand) -> Filter {
        do {
            return Filter(.compare(path: path, op: op, operand: try JSONCoding.encode(operand)))
        } catch {
            let reason = (error as? MizuError).map { "\($0)" } ?? "\(error)"
            return Filter(
                .invalid("the operand of \(op) on field \(path.debugDescription) is not JSON: \(reason)"))
        }
    }
}

/// A condition on the values of a collection, for ``Query/where(_:)``: made from ``Field``
/// with `==`, `!=`, `<`, `<=`, `>`, `>=`, ``Field/isIn(_:)``, ``Field/contains(_:)``,
/// ``Field/exists`` and ``Field/missing``, combined with `&&`, `||` and `!`.
///
/// A filter is a value; building one never throws. One whose operand did not encode throws
/// ``MizuError/invalidQuery(reason:)`` from the first read of the query that uses it.
public struct Filter: Sendable {
    indirect enum Node: Sendable {
        /// `{"field": path, "op": op, "value": operand}`; `operand` is JSON text.
        case compare(path: String, op: String, operand: String)
        case and([Node])
        case or([Node])
        case not(Node)
        /// A filter given as JSON text (from ``Collection/query(specJSON:)``).
        case json(String)
        /// An operand that did not encode, and why.
        case invalid(String)
    }

    let node: Node

    init(_ node: Node) {
        self.node = node
    }

    /// The filter as the JSON of a query spec.
    ///
    /// - Throws: ``MizuError/invalidQuery(reason:)`` when an operand did not encode.
    func json() throws -> String {
        try Filter.render(node)
    }

    private static func render(_ node: Node) throws -> String {
        switch node {
        case .compare(let path, let op, let operand):
            return "{\"field\":\(try JSONCoding.encode(path)),\"op\":\"\(op)\",\"value\":\(operand)}"
        case .and(let parts):
            return "{\"and\":[\(try parts.map(render).joined(separator: ","))]}"
        case .or(let parts):
            return "{\"or\":[\(try parts.map(render).joined(separator: ","))]}"
        case .not(let part):
            return "{\"not\":\(try render(part))}"
        case .json(let text):
            return text
        case .invalid(let reason):
            throw MizuError.invalidQuery(reason: reason)
        }
    }

    /// Matches what both match.
    public static func && (lhs: Filter, rhs: Filter) -> Filter {
        switch (lhs.node, rhs.node) {
        case (.and(let left), .and(let right)): return Filter(.and(left + right))
        case (.and(let left), let right): return Filter(.and(left + [right]))
        case (let left, .and(let right)): return Filter(.and([left] + right))
        case (let left, let right): return Filter(.and([left, right]))
        }
    }

    /// Matches what either matches.
    public static func || (lhs: Filter, rhs: Filter) -> Filter {
        switch (lhs.node, rhs.node) {
        case (.or(let left), .or(let right)): return Filter(.or(left + right))
        case (.or(let left), let right): return Filter(.or(left + [right]))
        case (let left, .or(let right)): return Filter(.or([left] + right))
        case (let left, let right): return Filter(.or([left, right]))
        }
    }

    /// Matches what `filter` does not.
    public static prefix func ! (filter: Filter) -> Filter {
        Filter(.not(filter.node))
    }
}

/// Matches values whose field equals `value`.
public func == <Operand: Encodable>(field: Field, value: Operand) -> Filter {
    field.compare("eq", value)
}

/// Matches values whose field differs from `value` (a missing field is `null`).
public func != <Operand: Encodable>(field: Field, value: Operand) -> Filter {
    field.compare("ne", value)
}

/// Matches values whose field is `null` or missing: `Field("due") == nil`.
public func == (field: Field, value: _OptionalNilComparisonType) -> Filter {
    Filter(.compare(path: field.path, op: "eq", operand: "null"))
}

/// Matches values whose field is neither `null` nor missing: `Field("due") != nil`.
public func != (field: Field, value: _OptionalNilComparisonType) -> Filter {
    Filter(.compare(path: field.path, op: "ne", operand: "null"))
}

/// Matches values whose field sorts before `value`.
public func < <Operand: Encodable>(field: Field, value: Operand) -> Filter {
    field.compare("lt", value)
}

/// Matches values whose field sorts before or equals `value`.
public func <= <Operand: Encodable>(field: Field, value: Operand) -> Filter {
    field.compare("le", value)
}

/// Matches values whose field sorts after `value`.
public func > <Operand: Encodable>(field: Field, value: Operand) -> Filter {
    field.compare("gt", value)
}

/// Matches values whose field sorts after or equals `value`.
public func >= <Operand: Encodable>(field: Field, value: Operand) -> Filter {
    field.compare("ge", value)
}

/// A direction of ``Query/orderBy(_:_:)``.
public enum Order: String, Sendable, Hashable {
    /// Smallest first (in the total order of ``Field``).
    case ascending = "asc"
    /// Largest first.
    case descending = "desc"
}
