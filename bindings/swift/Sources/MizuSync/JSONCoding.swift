import Foundation

/// Converts between Swift values and the JSON text that crosses into Rust.
///
/// Values are encoded with sorted keys, so that equal values give equal text (Rust compares
/// canonical JSON, and an equal write notifies nobody). Top-level fragments (`5`, `"text"`,
/// `true`, `null`) are allowed, so `Signal<Int>` and `Signal<String?>` work.
///
/// One encoder and one decoder serve every call: making them costs more than a small value's
/// coding, and their `encode` / `decode` may run on several threads at once (their settings
/// are never changed after this).
enum JSONCoding {
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
    private static let decoder = JSONDecoder()

    /// Encodes `value` as JSON text.
    ///
    /// - Throws: ``MizuError/invalidJSON(reason:)`` when `value` does not encode.
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let data = try encodeData(value)
        guard let text = String(data: data, encoding: .utf8) else {
            throw MizuError.invalidJSON(reason: "the encoded \(T.self) is not UTF-8")
        }
        return text
    }

    /// Encodes `value` as the UTF-8 bytes of its JSON text.
    ///
    /// - Throws: ``MizuError/invalidJSON(reason:)`` when `value` does not encode.
    static func encodeData<T: Encodable>(_ value: T) throws -> Data {
        do {
            return try encoder.encode(value)
        } catch let error as MizuError {
            throw error
        } catch {
            throw MizuError.invalidJSON(reason: "cannot encode \(T.self): \(error)")
        }
    }

    /// Encodes `value` as JSON bytes for a direct call, whose text the library prints
    /// canonically itself: with ``FastJSONEncoder`` when it can, else as ``encodeData(_:)``.
    ///
    /// - Throws: ``MizuError/invalidJSON(reason:)`` when `value` does not encode.
    static func encodeForLibrary<T: Encodable>(_ value: T) throws -> Data {
        if let data = try? FastJSONEncoder.encode(value) {
            return data
        }
        return try encodeData(value)
    }

    /// Decodes JSON bytes that a direct call read (the library's canonical text): with
    /// ``FastJSONDecoder`` when it can, else with `JSONDecoder`.
    ///
    /// - Throws: ``MizuError/invalidJSON(reason:)`` when `data` is not a `T`.
    static func decodeFromLibrary<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        if let value = try? FastJSONDecoder.decode(type, from: data) {
            return value
        }
        return try decode(type, from: data)
    }

    /// Decodes JSON text as a `T`.
    ///
    /// - Throws: ``MizuError/invalidJSON(reason:)`` when `text` is not a `T`.
    static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        try decode(type, from: Data(text.utf8))
    }

    /// Decodes the UTF-8 bytes of JSON text as a `T`.
    ///
    /// - Throws: ``MizuError/invalidJSON(reason:)`` when `data` is not a `T`.
    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        do {
            return try decoder.decode(T.self, from: data)
        } catch {
            let text = String(decoding: data, as: UTF8.self)
            throw MizuError.invalidJSON(reason: "cannot decode \(T.self) from \(text): \(error)")
        }
    }
}
