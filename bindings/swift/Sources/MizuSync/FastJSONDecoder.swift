import Foundation

/// A lean `Decoder` for the JSON that direct calls read (entities, JSON-kind signals): the
/// library's canonical text, parsed into a small tree and decoded in about a third of
/// `JSONDecoder`'s time.
///
/// It gives up (throws) whenever its answer could differ from `JSONDecoder`'s: on what
/// `JSONDecoder` treats specially (`Data`, `URL`, `Decimal`), on `Float` (whose rounding from
/// text it does not reproduce), on a number that is not an exact integer where an integer is
/// asked for, on `superDecoder`, and on every mismatch or missing value. The caller then
/// decodes with `JSONDecoder`, which decides: results and errors stay `JSONDecoder`'s.
enum FastJSONDecoder {
    /// Why the fast decoder gave up.
    struct Unsupported: Error {}

    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let root = try data.withUnsafeBytes { raw -> JValue in
            var parser = Parser(raw.bindMemory(to: UInt8.self))
            return try parser.document()
        }
        return try value(T.self, from: root, at: [])
    }

    fileprivate static func value<T: Decodable>(
        _ type: T.Type, from json: JValue, at path: [CodingKey]
    ) throws -> T {
        if T.self == Data.self || T.self == URL.self || T.self == Decimal.self || T.self == Float.self {
            throw Unsupported()
        }
        return try T(from: Decoding(json, path))
    }
}

/// A parsed JSON value.
fileprivate enum JValue {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JValue])
    case object([String: JValue])
}

/// A strict JSON parser over UTF-8 bytes (the library's canonical text).
private struct Parser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    mutating func document() throws -> JValue {
        let value = try parse()
        skipSpace()
        guard index == bytes.count else { throw FastJSONDecoder.Unsupported() }
        return value
    }

    private mutating func skipSpace() {
        while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
    }

    private mutating func expect(_ literal: StaticString) throws {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw FastJSONDecoder.Unsupported() }
        for offset in 0..<count where bytes[index + offset] != literal.utf8Start[offset] {
            throw FastJSONDecoder.Unsupported()
        }
        index += count
    }

    private mutating func parse() throws -> JValue {
        skipSpace()
        guard index < bytes.count else { throw FastJSONDecoder.Unsupported() }
        switch bytes[index] {
        case UInt8(ascii: "n"): try expect("null"); return .null
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "["):
            index += 1
            var items: [JValue] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(items)
            }
            while true {
                items.append(try parse())
                skipSpace()
                guard index < bytes.count else { throw FastJSONDecoder.Unsupported() }
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "]") { return .array(items) }
                guard byte == UInt8(ascii: ",") else { throw FastJSONDecoder.Unsupported() }
            }
        case UInt8(ascii: "{"):
            index += 1
            var members: [String: JValue] = [:]
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                    throw FastJSONDecoder.Unsupported()
                }
                let key = try string()
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                    throw FastJSONDecoder.Unsupported()
                }
                index += 1
                // A key seen twice: which one JSONDecoder keeps is its business.
                guard members.updateValue(try parse(), forKey: key) == nil else {
                    throw FastJSONDecoder.Unsupported()
                }
                skipSpace()
                guard index < bytes.count else { throw FastJSONDecoder.Unsupported() }
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "}") { return .object(members) }
                guard byte == UInt8(ascii: ",") else { throw FastJSONDecoder.Unsupported() }
            }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = index
            while index < bytes.count,
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index])
                    || [UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "e"),
                        UInt8(ascii: "E")].contains(bytes[index])
            {
                index += 1
            }
            return .number(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
        default:
            throw FastJSONDecoder.Unsupported()
        }
    }

    /// A string at `index` (its opening quote), unescaped.
    private mutating func string() throws -> String {
        index += 1
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") {
                return try escapedString(from: start)
            }
            if byte < 0x20 { throw FastJSONDecoder.Unsupported() }
            index += 1
        }
        throw FastJSONDecoder.Unsupported()
    }

    /// The rest of a string with escapes, from its first character at `start`.
    private mutating func escapedString(from start: Int) throws -> String {
        var out = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { throw FastJSONDecoder.Unsupported() }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        try expect("\\u")
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw FastJSONDecoder.Unsupported() }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw FastJSONDecoder.Unsupported() }
                    out.append(contentsOf: Array(String(Character(unicode)).utf8))
                default:
                    throw FastJSONDecoder.Unsupported()
                }
            default:
                if byte < 0x20 { throw FastJSONDecoder.Unsupported() }
                out.append(byte)
            }
        }
        throw FastJSONDecoder.Unsupported()
    }

    private mutating func hex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw FastJSONDecoder.Unsupported() }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            index += 1
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw FastJSONDecoder.Unsupported()
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }
}

// MARK: - Decoding

/// One value as a `Bool`, `String`, number or nested value, or a refusal.
private func scalar<T>(_ type: T.Type, _ json: JValue, _ path: [CodingKey]) throws -> T {
    switch (json, T.self) {
    case (.bool(let bool), is Bool.Type): return bool as! T
    case (.string(let string), is String.Type): return string as! T
    case (.number(let text), is Double.Type):
        guard let double = Double(text), double.isFinite else { throw FastJSONDecoder.Unsupported() }
        return double as! T
    case (.number(let text), _):
        if let integer = try integer(T.self, text) { return integer }
        throw FastJSONDecoder.Unsupported()
    default:
        throw FastJSONDecoder.Unsupported()
    }
}

/// An exact integer literal as a `T` of the standard integer types (`nil` for other types).
private func integer<T>(_ type: T.Type, _ text: String) throws -> T? {
    func exact<I: FixedWidthInteger>(_ type: I.Type) throws -> T {
        guard let value = I(text) else { throw FastJSONDecoder.Unsupported() }
        return value as! T
    }
    switch T.self {
    case is Int.Type: return try exact(Int.self)
    case is Int8.Type: return try exact(Int8.self)
    case is Int16.Type: return try exact(Int16.self)
    case is Int32.Type: return try exact(Int32.self)
    case is Int64.Type: return try exact(Int64.self)
    case is UInt.Type: return try exact(UInt.self)
    case is UInt8.Type: return try exact(UInt8.self)
    case is UInt16.Type: return try exact(UInt16.self)
    case is UInt32.Type: return try exact(UInt32.self)
    case is UInt64.Type: return try exact(UInt64.self)
    default: return nil
    }
}

private final class Decoding: Decoder {
    let json: JValue
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(_ json: JValue, _ codingPath: [CodingKey]) {
        self.json = json
        self.codingPath = codingPath
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = json else { throw FastJSONDecoder.Unsupported() }
        return KeyedDecodingContainer(KeyedD<Key>(members, codingPath))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard case .array(let items) = json else { throw FastJSONDecoder.Unsupported() }
        return UnkeyedD(items, codingPath)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer {
        SingleD(json, codingPath)
    }
}

private struct SingleD: SingleValueDecodingContainer {
    let json: JValue
    let codingPath: [CodingKey]

    init(_ json: JValue, _ codingPath: [CodingKey]) {
        self.json = json
        self.codingPath = codingPath
    }

    func decodeNil() -> Bool {
        if case .null = json { return true }
        return false
    }

    func decode(_ type: Bool.Type) throws -> Bool { try scalar(type, json, codingPath) }
    func decode(_ type: String.Type) throws -> String { try scalar(type, json, codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try scalar(type, json, codingPath) }
    func decode(_ type: Float.Type) throws -> Float { throw FastJSONDecoder.Unsupported() }
    func decode(_ type: Int.Type) throws -> Int { try scalar(type, json, codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try scalar(type, json, codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try scalar(type, json, codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try scalar(type, json, codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try scalar(type, json, codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try scalar(type, json, codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try scalar(type, json, codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try scalar(type, json, codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try scalar(type, json, codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try scalar(type, json, codingPath) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try FastJSONDecoder.value(type, from: json, at: codingPath)
    }
}

private struct KeyedD<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JValue]
    let codingPath: [CodingKey]

    init(_ members: [String: JValue], _ codingPath: [CodingKey]) {
        self.members = members
        self.codingPath = codingPath
    }

    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    private func member(_ key: Key) throws -> JValue {
        guard let json = members[key.stringValue] else { throw FastJSONDecoder.Unsupported() }
        return json
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        if case .null = try member(key) { return true }
        return false
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try scalar(type, member(key), codingPath) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try scalar(type, member(key), codingPath) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try scalar(type, member(key), codingPath) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { throw FastJSONDecoder.Unsupported() }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try scalar(type, member(key), codingPath) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try scalar(type, member(key), codingPath) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try scalar(type, member(key), codingPath) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try scalar(type, member(key), codingPath) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try scalar(type, member(key), codingPath) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try scalar(type, member(key), codingPath) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try scalar(type, member(key), codingPath) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try scalar(type, member(key), codingPath) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try scalar(type, member(key), codingPath) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try scalar(type, member(key), codingPath) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try FastJSONDecoder.value(type, from: member(key), at: codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        guard case .object(let nested) = try member(key) else { throw FastJSONDecoder.Unsupported() }
        return KeyedDecodingContainer(KeyedD<NestedKey>(nested, codingPath + [key]))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        guard case .array(let items) = try member(key) else { throw FastJSONDecoder.Unsupported() }
        return UnkeyedD(items, codingPath + [key])
    }

    func superDecoder() throws -> Decoder { throw FastJSONDecoder.Unsupported() }
    func superDecoder(forKey key: Key) throws -> Decoder { throw FastJSONDecoder.Unsupported() }
}

private struct UnkeyedD: UnkeyedDecodingContainer {
    let items: [JValue]
    let codingPath: [CodingKey]
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    init(_ items: [JValue], _ codingPath: [CodingKey]) {
        self.items = items
        self.codingPath = codingPath
    }

    private mutating func next() throws -> JValue {
        guard !isAtEnd else { throw FastJSONDecoder.Unsupported() }
        defer { currentIndex += 1 }
        return items[currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { throw FastJSONDecoder.Unsupported() }
        if case .null = items[currentIndex] {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try scalar(type, next(), codingPath) }
    mutating func decode(_ type: String.Type) throws -> String { try scalar(type, next(), codingPath) }
    mutating func decode(_ type: Double.Type) throws -> Double { try scalar(type, next(), codingPath) }
    mutating func decode(_ type: Float.Type) throws -> Float { throw FastJSONDecoder.Unsupported() }
    mutating func decode(_ type: Int.Type) throws -> Int { try scalar(type, next(), codingPath) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try scalar(type, next(), codingPath) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try scalar(type, next(), codingPath) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try scalar(type, next(), codingPath) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try scalar(type, next(), codingPath) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try scalar(type, next(), codingPath) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try scalar(type, next(), codingPath) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try scalar(type, next(), codingPath) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try scalar(type, next(), codingPath) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try scalar(type, next(), codingPath) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try FastJSONDecoder.value(type, from: next(), at: codingPath)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        guard case .object(let nested) = try next() else { throw FastJSONDecoder.Unsupported() }
        return KeyedDecodingContainer(KeyedD<NestedKey>(nested, codingPath))
    }

    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard case .array(let nested) = try next() else { throw FastJSONDecoder.Unsupported() }
        return UnkeyedD(nested, codingPath)
    }

    mutating func superDecoder() throws -> Decoder { throw FastJSONDecoder.Unsupported() }
}
