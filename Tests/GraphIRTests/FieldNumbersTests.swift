import XCTest
@testable import GraphIR

final class FieldNumbersTests: XCTestCase {
    func testBehavesLikeASetOfSmallIntegers() {
        var s: FieldNumbers = [3, 6, 70]
        XCTAssertTrue(s.contains(3) && s.contains(6) && s.contains(70))
        XCTAssertFalse(s.contains(4) || s.contains(-1) || s.contains(500))
        XCTAssertEqual(Array(s), [3, 6, 70])
        XCTAssertEqual(s.count, 3)
        s.remove(6)
        s.remove(999)
        s.insert(127)
        XCTAssertEqual(Array(s), [3, 70, 127])
        XCTAssertEqual(s.description, "[3, 70, 127]")
        XCTAssertTrue(FieldNumbers().isEmpty)
        XCTAssertEqual(FieldNumbers(mask: 0b1010), [1, 3])
        XCTAssertEqual(FieldNumbers([9, 1]), [1, 9])
        XCTAssertEqual(Set([FieldNumbers([1]), FieldNumbers([1])]).count, 1)
        XCTAssertEqual(UnknownFields(presentDefaults: [2]).isEmpty, false)
        XCTAssertEqual(UnknownFields().isEmpty, true)
    }
}
