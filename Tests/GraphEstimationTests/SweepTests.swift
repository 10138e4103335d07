import XCTest
import Foundation
@testable import GraphEstimation

final class SweepTests: XCTestCase {
    func testAxisParsing() throws {
        XCTAssertEqual(try SweepAxis.parse("batch=1,2,4").values, [.int(1), .int(2), .int(4)])
        XCTAssertEqual(try SweepAxis.parse("seq=128..1024*2").values.map(\.intValue), [128, 256, 512, 1024])
        XCTAssertEqual(try SweepAxis.parse("n=3..5").values.count, 3)
        XCTAssertEqual(try SweepAxis.parse("dtype=fp16,bf16").values, [.text("fp16"), .text("bf16")])
        XCTAssertThrowsError(try SweepAxis.parse("batch"))
        XCTAssertThrowsError(try SweepAxis.parse("batch=1,,2"))
        XCTAssertThrowsError(try SweepAxis.parse("seq=9..3"))
    }

    func testGridOrderAndParallelResults() throws {
        let axes = [try SweepAxis.parse("batch=1,2,3"), try SweepAxis.parse("seq=10,20")]
        let progressCalls = Counter()
        let r = SweepEngine(concurrency: 4, chunkSize: 1).run(axes: axes, progress: { done, total in
            progressCalls.add(); XCTAssertLessThanOrEqual(done, total)
        }) { p in (p["batch"]?.intValue ?? 0) * (p["seq"]?.intValue ?? 0) }
        XCTAssertEqual(r.points.count, 6)
        XCTAssertEqual(r.results.compactMap { $0 }, [10, 20, 20, 40, 30, 60])
        XCTAssertFalse(r.cancelled)
        XCTAssertEqual(r.completed, 6)
        XCTAssertEqual(progressCalls.value, 6)
    }

    func testCancellationStopsEarly() throws {
        let evaluated = Counter()
        let axes = [SweepAxis(key: "i", values: (0..<1000).map { .int($0) })]
        let r = SweepEngine(concurrency: 2, chunkSize: 1).run(axes: axes, isCancelled: { evaluated.value >= 10 }) { p -> Int in
            evaluated.add(); return p.index
        }
        XCTAssertTrue(r.cancelled)
        XCTAssertLessThan(r.completed, 1000)
        XCTAssertEqual(r.results.compactMap { $0 }.count, r.completed)
        XCTAssertLessThan(evaluated.value, 20)
    }

    func testErrorsAreKeptPerPoint() {
        struct Boom: Error {}
        let axes = [SweepAxis(key: "i", values: [.int(1), .int(2), .int(3)])]
        let r = SweepEngine().run(axes: axes) { p -> Int in if p["i"]?.intValue == 2 { throw Boom() }; return 1 }
        XCTAssertEqual(r.errors.count, 1)
        XCTAssertNil(r.results[1])
        XCTAssertEqual(r.results[0], 1)
    }
}

/// Thread-safe counter for the tests.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var v = 0
    func add() { lock.lock(); v += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return v }
}
