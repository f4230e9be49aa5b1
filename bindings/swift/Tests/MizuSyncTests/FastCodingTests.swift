import Foundation
@testable import MizuSync
import XCTest

/// The wrapper's own JSON encoder and decoder against Foundation's: where the fast ones give an
/// answer, it is Foundation's; where they cannot be sure, they give up (and the wrapper asks
/// Foundation).
final class FastCodingTests: XCTestCase {
    private struct Plain: Codable, Equatable {
        struct Inner: Codable, Equatable { var level: Int8; var note: String? }
        enum Choice: Codable, Equatable { case none, both(Int, String), one(x: Double) }
        var name: String
        var count: Int
        var ratio: Double
        var flag: Bool
        var tags: [String?]
        var nested: Inner?
        var byNumber: [Int: String]
        var byName: [String: [UInt16]]
        var choice: Choice
        var big: UInt64
        var when: Date
    }

    private let samples = [
        Plain(
            name: "a \"quoted\" \\ name\n\t\u{01}\u{7f}é 🍣 / \u{2028}", count: -3, ratio: 0.1, flag: true,
            tags: ["x", nil, "z"], nested: Plain.Inner(level: -128, note: nil), byNumber: [1: "one", -2: "two"],
            byName: ["a": [1, 65535], "": []], choice: .both(1, "b"), big: UInt64.max,
            when: Date(timeIntervalSinceReferenceDate: 12.5)),
        Plain(
            name: "", count: Int.min, ratio: -0.0, flag: false, tags: [], nested: nil, byNumber: [:],
            byName: [:], choice: .one(x: 6), big: 0, when: Date(timeIntervalSinceReferenceDate: 0)),
        Plain(
            name: "x", count: Int.max, ratio: 1e300, flag: true, tags: [nil], nested: Plain.Inner(level: 127, note: ""),
            byNumber: [0: ""], byName: ["k": [0]], choice: .none, big: 1, when: Date(timeIntervalSinceReferenceDate: -1e9)),
    ]

    private func foundationText<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// The JSON as Foundation parses it, for comparing texts that may differ in key order.
    private func parsed(_ data: Data) throws -> NSObject {
        try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as! NSObject
    }

    func testTheFastEncoderWritesWhatJSONEncoderWrites() throws {
        for sample in samples {
            let fast = try FastJSONEncoder.encode(sample)
            XCTAssertEqual(try parsed(fast), try parsed(foundationText(sample)))
            XCTAssertEqual(try FastJSONDecoder.decode(Plain.self, from: fast), sample)
        }
        // Numbers as text exactly: a whole double is an integer for the library in both.
        for number in [6.0, 0.1, -0.0, 1e20, 1e-7, 123_456_789_012_345.0, -2.5, Double.leastNonzeroMagnitude] {
            XCTAssertEqual(
                String(decoding: try FastJSONEncoder.encode([number]), as: UTF8.self),
                String(decoding: try foundationText([number]), as: UTF8.self))
        }
        for number in [Float(2), 0.1, 1e-3] {
            XCTAssertEqual(
                String(decoding: try FastJSONEncoder.encode(number), as: UTF8.self),
                String(decoding: try foundationText(number), as: UTF8.self))
        }
        // What JSONEncoder treats specially, and what cannot be JSON: the fast encoder gives up.
        XCTAssertThrowsError(try FastJSONEncoder.encode(Data([1, 2])))
        XCTAssertThrowsError(try FastJSONEncoder.encode(["u": URL(string: "https://a.b")!]))
        XCTAssertThrowsError(try FastJSONEncoder.encode([Decimal(1)]))
        XCTAssertThrowsError(try FastJSONEncoder.encode([Double.nan]))
        XCTAssertThrowsError(try FastJSONEncoder.encode(Float.infinity))
    }

    func testTheFastDecoderReadsWhatJSONDecoderReadsOrGivesUp() throws {
        for sample in samples {
            let text = try foundationText(sample)
            XCTAssertEqual(try FastJSONDecoder.decode(Plain.self, from: text), sample)
        }
        func same<T: Decodable & Equatable>(_ type: T.Type, _ json: String, decodes: Bool) {
            let data = Data(json.utf8)
            let foundation = try? JSONDecoder().decode(type, from: data)
            let fast = try? FastJSONDecoder.decode(type, from: data)
            if let fast {
                XCTAssertEqual(fast, foundation, "\(T.self) from \(json)")
            }
            XCTAssertEqual(fast != nil, decodes, "\(T.self) from \(json): fast decoder gave \(String(describing: fast))")
        }
        same(Int.self, "5", decodes: true)
        same(Int.self, "5.0", decodes: false)          // JSONDecoder says 5; the fast one asks it
        same(Int.self, "1e2", decodes: false)
        same(Int8.self, "128", decodes: false)
        same(UInt.self, "-1", decodes: false)
        same(Double.self, "5", decodes: true)
        same(Double.self, "1e20", decodes: true)
        same(Double.self, "-0.0", decodes: true)
        same(Double.self, "1e400", decodes: false)
        same(Float.self, "0.1", decodes: false)
        same(String.self, #""a\"b\\c\/d\n\u00e9\ud83c\udf63""#, decodes: true)
        same(String.self, #""\ud83c""#, decodes: false)   // a lone surrogate
        same(String.self, "5", decodes: false)
        same(Bool.self, "1", decodes: false)
        same([Int?].self, "[1,null,3]", decodes: true)
        same([String: Int].self, #"{"a":1,"b":2}"#, decodes: true)
        same([String: Int].self, #"{"a":1,"a":2}"#, decodes: false)
        same(Int?.self, "null", decodes: true)
        same([Int].self, "[1,2", decodes: false)
        same([Int].self, "[1,2] x", decodes: false)
        same(Data.self, #""AQI=""#, decodes: false)
        same(URL.self, #""https://a.b""#, decodes: false)
        same(Decimal.self, "1.5", decodes: false)
    }
}
