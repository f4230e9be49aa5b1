import Foundation

/// A lean `Encoder` for the values that direct calls write (entities, JSON-kind signals): the
/// same JSON as ``JSONCoding``'s `JSONEncoder` (numbers printed alike, so that a whole `Double`
/// is an integer in both), in about a fifth of the time, because the library prints the text
/// canonically anyway: object keys are not sorted here and strings are escaped minimally.
///
/// It gives up (throws) on what `JSONEncoder` treats specially (`Data`, `URL`, `Decimal`), on
/// non-finite numbers, on `superEncoder`, and on any error of the value's own `encode(to:)`;
/// the caller then encodes with `JSONEncoder`, which decides: the result and the errors stay
/// those of `JSONEncoder`.
enum FastJSONEncoder {
    /// Why the fast encoder gave up.
    struct Unsupported: Error {}

    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let context = Context()
        let root = try node(for: value, at: [], in: context)
        if context.unsupported {
            throw Unsupported()
        }
        var out: [UInt8] = []
        out.reserveCapacity(256)
        root.write(to: &out)
        return Data(out)
    }

    /// The node of one value.
    fileprivate static func node<T: Encodable>(
        for value: T, at path: [CodingKey], in context: Context
    ) throws -> Node {
        if T.self == Data.self || T.self == URL.self || T.self == Decimal.self {
            throw Unsupported()
        }
        let encoder = Encoding(path, context)
        try value.encode(to: encoder)
        // A value that encodes nothing is an empty object, as with JSONEncoder.
        return encoder.node ?? .object(ObjectBox())
    }
}

/// What one encoding shares: whether it met something it does not handle (`superEncoder`,
/// which cannot throw).
fileprivate final class Context {
    var unsupported = false
}

/// A JSON value being built: a scalar's text, or a container filled in place.
fileprivate enum Node {
    case text(String)
    case string(String)
    case array(ArrayBox)
    case object(ObjectBox)

    func write(to out: inout [UInt8]) {
        switch self {
        case .text(let text):
            out.append(contentsOf: text.utf8)
        case .string(let string):
            writeString(string, to: &out)
        case .array(let box):
            out.append(UInt8(ascii: "["))
            for (index, item) in box.items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let box):
            out.append(UInt8(ascii: "{"))
            for (index, (key, item)) in box.items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}

fileprivate final class ArrayBox {
    var items: [Node] = []
}

fileprivate final class ObjectBox {
    /// In encoding order; a key encoded twice appears twice, and the library keeps the last,
    /// as JSONEncoder does.
    var items: [(String, Node)] = []
}

/// `string` as a JSON string: quotes, backslashes and control characters escaped.
private func writeString(_ string: String, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    for byte in string.utf8 {
        switch byte {
        case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
        case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        case 0..<0x20:
            let hex = Array("0123456789abcdef".utf8)
            out.append(contentsOf: Array("\\u00".utf8))
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        default: out.append(byte)
        }
    }
    out.append(UInt8(ascii: "\""))
}

/// A number's JSON text as JSONEncoder prints it: its description, without a trailing ".0".
private func numberText<F: BinaryFloatingPoint & LosslessStringConvertible>(_ value: F) throws -> String {
    guard value.isFinite else { throw FastJSONEncoder.Unsupported() }
    var text = value.description
    if text.hasSuffix(".0") { text.removeLast(2) }
    return text
}

/// The encoder handed to `encode(to:)`: holds the node the value makes.
private final class Encoding: Encoder {
    let codingPath: [CodingKey]
    let context: Context
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var node: Node?

    init(_ codingPath: [CodingKey], _ context: Context) {
        self.codingPath = codingPath
        self.context = context
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let box: ObjectBox
        if case .object(let existing) = node {
            box = existing
        } else {
            box = ObjectBox()
            node = .object(box)
        }
        return KeyedEncodingContainer(Keyed<Key>(box, codingPath, context))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        let box: ArrayBox
        if case .array(let existing) = node {
            box = existing
        } else {
            box = ArrayBox()
            node = .array(box)
        }
        return Unkeyed(box, codingPath, context)
    }

    func singleValueContainer() -> SingleValueEncodingContainer {
        Single(self)
    }
}

private struct Single: SingleValueEncodingContainer {
    let encoding: Encoding
    var codingPath: [CodingKey] { encoding.codingPath }

    init(_ encoding: Encoding) {
        self.encoding = encoding
    }

    mutating func encodeNil() throws { encoding.node = .text("null") }
    mutating func encode(_ value: Bool) throws { encoding.node = .text(value ? "true" : "false") }
    mutating func encode(_ value: String) throws { encoding.node = .string(value) }
    mutating func encode(_ value: Double) throws { encoding.node = .text(try numberText(value)) }
    mutating func encode(_ value: Float) throws { encoding.node = .text(try numberText(value)) }
    mutating func encode(_ value: Int) throws { encoding.node = .text(String(value)) }
    mutating func encode(_ value: Int8) throws { encoding.node = .text(String(value)) }
    mutating func encode(_ value: Int16) throws { encoding.node = .text(String(value)) }
    mutating func encode(_ value: Int32) throws { encoding.node = .text(String(value)) }
    mutating func encode(_ value: Int64) throws { encoding.node = .text(String(value)) }
    mutating func encode(_ value: UInt) throws { encoding.node = .text(String(value)) }
    mutating func encode(_ value: UInt8) throws { encoding.node = .text(String(value)) }
    mutating func encode(_ value: UInt16) throws { encoding.node = .text(String(value)) }
    mutating func encode(_ value: UInt32) throws { encoding.node = .text(String(value)) }
    mutating func encode(_ value: UInt64) throws { encoding.node = .text(String(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        encoding.node = try FastJSONEncoder.node(for: value, at: codingPath, in: encoding.context)
    }
}

private struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: ObjectBox
    let codingPath: [CodingKey]
    let context: Context

    init(_ box: ObjectBox, _ codingPath: [CodingKey], _ context: Context) {
        self.box = box
        self.codingPath = codingPath
        self.context = context
    }

    private func put(_ node: Node, _ key: Key) { box.items.append((key.stringValue, node)) }

    mutating func encodeNil(forKey key: Key) throws { put(.text("null"), key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(.text(value ? "true" : "false"), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { put(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { put(.text(try numberText(value)), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { put(.text(try numberText(value)), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { put(.text(String(value)), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { put(.text(String(value)), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { put(.text(String(value)), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { put(.text(String(value)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { put(.text(String(value)), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { put(.text(String(value)), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { put(.text(String(value)), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { put(.text(String(value)), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { put(.text(String(value)), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { put(.text(String(value)), key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        put(try FastJSONEncoder.node(for: value, at: codingPath + [key], in: context), key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let nested = ObjectBox()
        put(.object(nested), key)
        return KeyedEncodingContainer(Keyed<NestedKey>(nested, codingPath + [key], context))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        let nested = ArrayBox()
        put(.array(nested), key)
        return Unkeyed(nested, codingPath + [key], context)
    }

    mutating func superEncoder() -> Encoder { unsupportedEncoder(context, codingPath) }
    mutating func superEncoder(forKey key: Key) -> Encoder { unsupportedEncoder(context, codingPath) }
}

private struct Unkeyed: UnkeyedEncodingContainer {
    let box: ArrayBox
    let codingPath: [CodingKey]
    let context: Context
    var count: Int { box.items.count }

    init(_ box: ArrayBox, _ codingPath: [CodingKey], _ context: Context) {
        self.box = box
        self.codingPath = codingPath
        self.context = context
    }

    private func put(_ node: Node) { box.items.append(node) }

    mutating func encodeNil() throws { put(.text("null")) }
    mutating func encode(_ value: Bool) throws { put(.text(value ? "true" : "false")) }
    mutating func encode(_ value: String) throws { put(.string(value)) }
    mutating func encode(_ value: Double) throws { put(.text(try numberText(value))) }
    mutating func encode(_ value: Float) throws { put(.text(try numberText(value))) }
    mutating func encode(_ value: Int) throws { put(.text(String(value))) }
    mutating func encode(_ value: Int8) throws { put(.text(String(value))) }
    mutating func encode(_ value: Int16) throws { put(.text(String(value))) }
    mutating func encode(_ value: Int32) throws { put(.text(String(value))) }
    mutating func encode(_ value: Int64) throws { put(.text(String(value))) }
    mutating func encode(_ value: UInt) throws { put(.text(String(value))) }
    mutating func encode(_ value: UInt8) throws { put(.text(String(value))) }
    mutating func encode(_ value: UInt16) throws { put(.text(String(value))) }
    mutating func encode(_ value: UInt32) throws { put(.text(String(value))) }
    mutating func encode(_ value: UInt64) throws { put(.text(String(value))) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        put(try FastJSONEncoder.node(for: value, at: codingPath, in: context))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> {
        let nested = ObjectBox()
        put(.object(nested))
        return KeyedEncodingContainer(Keyed<NestedKey>(nested, codingPath, context))
    }

    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        let nested = ArrayBox()
        put(.array(nested))
        return Unkeyed(nested, codingPath, context)
    }

    mutating func superEncoder() -> Encoder { unsupportedEncoder(context, codingPath) }
}

/// What `superEncoder` returns: a working encoder whose result is dropped, the encoding being
/// marked unsupported so that JSONEncoder encodes the value instead.
private func unsupportedEncoder(_ context: Context, _ codingPath: [CodingKey]) -> Encoder {
    context.unsupported = true
    return Encoding(codingPath, context)
}
