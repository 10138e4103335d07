import XCTest
@testable import GraphPasses

/// The target builds and links against its dependencies; the pass tests live beside each pass.
final class GraphPassesTargetTests: XCTestCase {
    func testTargetLinks() {
        XCTAssertTrue(true)
    }
}
