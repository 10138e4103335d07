import XCTest
@testable import JupyterKernel

final class JSONTests: XCTestCase {
    func testWriterEscapesControlCharactersQuotesAndBackslashes() {
        let text = JSONWriter.string(.string("a\"b\\c\n\t\r\u{08}\u{0C}\u{01}\u{1F}/é"))
        XCTAssertEqual(text, "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f/é\"")
    }

    func testWriterKeepsUnicodeAsUTF8() {
        XCTAssertEqual(JSONWriter.string(["k": "日本 🎉"]), "{\"k\":\"日本 🎉\"}")
    }

    func testWriterNumbersAndNonFiniteBecomeNull() {
        XCTAssertEqual(JSONWriter.string([.double(.nan), .double(.infinity), .double(-.infinity)]), "[null,null,null]")
        XCTAssertEqual(JSONWriter.string([.int(Int64.min), .int(Int64.max), .int(0), .int(-42)]),
                       "[-9223372036854775808,9223372036854775807,0,-42]")
        XCTAssertEqual(JSONWriter.string([.double(1.5), .double(2), .double(1e300), .double(-0.1)]),
                       "[1.5,2.0,1e+300,-0.1]")
    }

    func testWriterSortsKeysAndNests() {
        XCTAssertEqual(JSONWriter.string(["b": [1, true, nil], "a": ["x": "y"]]), "{\"a\":{\"x\":\"y\"},\"b\":[1,true,null]}")
    }

    func testRoundTrip() throws {
        let value: JSONValue = ["s": "line\nnext \"q\" \u{0}", "n": -12, "d": 0.25, "a": [[], [:], nil, false],
                                "u": "ünï 😀"]
        XCTAssertEqual(try JSONParser.parse(JSONWriter.encode(value)), value)
    }

    func testParserEscapesAndSurrogatePairs() throws {
        XCTAssertEqual(try JSONParser.parse(#""\ud83d\ude00 \u00e9 \/ \b\f\n\r\t\"\\""#),
                       .string("😀 é / \u{08}\u{0C}\n\r\t\"\\"))
        // Lone surrogates cannot live in a Swift String: they become U+FFFD.
        XCTAssertEqual(try JSONParser.parse(#""\ud800x""#), .string("\u{FFFD}x"))
        XCTAssertEqual(try JSONParser.parse(#""\udc00""#), .string("\u{FFFD}"))
        XCTAssertEqual(try JSONParser.parse(#""\ud83d\u0041""#), .string("\u{FFFD}A"))
    }

    func testParserBigNumbers() throws {
        XCTAssertEqual(try JSONParser.parse("9223372036854775807"), .int(Int64.max))
        XCTAssertEqual(try JSONParser.parse("-9223372036854775808"), .int(Int64.min))
        XCTAssertEqual(try JSONParser.parse("9223372036854775808"), .double(9223372036854775808))
        XCTAssertEqual(try JSONParser.parse("123456789012345678901234567890"), .double(1.2345678901234568e29))
        XCTAssertEqual(try JSONParser.parse("1.5e3"), .double(1500))
        XCTAssertEqual(try JSONParser.parse("-0.0"), .double(-0.0))
        XCTAssertThrowsError(try JSONParser.parse("1e999"))
    }

    func testParserRejectsMalformedInputWithOffset() {
        let bad = ["", "{", "[1,", "{\"a\" 1}", "{\"a\":1,}", "[1 2]", "\"abc", "tru", "nul", "01", "1.", "-",
                   "1e", "NaN", "Infinity", "{'a':1}", "\"\\x\"", "\"\\u12\"", "\"a\nb\"", "[1] x", "{1:2}", "\u{FEFF}{}"]
        for text in bad {
            XCTAssertThrowsError(try JSONParser.parse(text), "accepted \(text.debugDescription)")
        }
        do {
            _ = try JSONParser.parse("[1, 2, @]")
            XCTFail("accepted")
        } catch let error as JSONParseError {
            XCTAssertEqual(error.offset, 7)
        } catch {
            XCTFail("\(error)")
        }
    }

    func testParserLimitsDepthInsteadOfOverflowingTheStack() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        XCTAssertThrowsError(try JSONParser.parse(deep))
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        XCTAssertNoThrow(try JSONParser.parse(fine))
    }

    func testParserToleratesInvalidUTF8ByRepairing() throws {
        let bytes: [UInt8] = [0x22, 0xFF, 0x61, 0x22]
        XCTAssertEqual(try JSONParser.parse(bytes), .string("\u{FFFD}a"))
    }

    func testLargeStringWriteIsExact() {
        let svg = String(repeating: "<path d=\"M0 0L10 10\"/>\n", count: 50_000)
        let encoded = JSONWriter.encode(["image/svg+xml": .string(svg)])
        XCTAssertEqual(try JSONParser.parse(encoded), ["image/svg+xml": .string(svg)])
    }
}
