import Foundation

/// Converts between Swift values and the JSON text that crosses into Rust.
///
/// Values are encoded with sorted keys, so that equal values give equal text (Rust compares
/// canonical JSON, and an equal write notifies nobody). Top-level fragments (`5`, `"text"`,
/// `true`, `null`) are allowed, so `Signal<Int>` and `Signal<String?>` work.
enum JSONCoding {
    /// Encodes `value` as JSON text.
    ///
    /// - Throws: ``MizuError/invalidJSON(reason:)`` when `value` does not encode.
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            let data = try encoder.encode(value)
            guard let text = String(data: data, encoding: .utf8) else {
                throw MizuError.invalidJSON(reason: "the encoded \(T.self) is not UTF-8")
            }
            return text
        } catch let error as MizuError {
            throw error
        } catch {
            throw MizuError.invalidJSON(reason: "cannot encode \(T.self): \(error)")
        }
    }

    /// Decodes JSON text as a `T`.
    ///
    /// - Throws: ``MizuError/invalidJSON(reason:)`` when `text` is not a `T`.
    static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        } catch {
            throw MizuError.invalidJSON(reason: "cannot decode \(T.self) from \(text): \(error)")
        }
    }
}
