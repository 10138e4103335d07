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

final class GraphSweepTests: XCTestCase {
    func tinyGraph() -> OpGraph {
        var b = GraphBuilder()
        b.input("x", [.symbolic("batch"), .known(512)])
        b.weight("w", [512, 512])
        b.node("MatMul", ["x", "w"], ["h"])
        b.node("Relu", ["h"], ["y"])
        b.output("y")
        return b.g
    }

    func testGraphSweepOverBatchDtypeAndHardware() throws {
        let reg = try HardwareRegistry.bundled()
        let sweep = GraphSweep(graph: tinyGraph(), registry: reg, base: EstimateOptions())
        let axes = [try SweepAxis.parse("batch=1,64"), try SweepAxis.parse("dtype=fp32,fp16"),
                    try SweepAxis.parse("hardware=nvidia-a100-sxm4-80gb,nvidia-h100-sxm5-80gb")]
        let r = try sweep.run(axes: axes)
        XCTAssertEqual(r.results.compactMap { $0 }.count, 8)
        let f = r.results.compactMap { $0 }
        // batch=1 fp32 A100 vs the direct estimate
        var o = EstimateOptions(bindings: ["batch": 1], precision: .fp32, hardware: reg.target("nvidia-a100-sxm4-80gb"))
        o.topK = 1
        let direct = try GraphEstimator.estimate(tinyGraph(), options: o)
        XCTAssertEqual(f[0].latency.value, direct.totals.latencySeconds?.value ?? -1, accuracy: 1e-15)
        XCTAssertEqual(f[0].flops, Double(direct.totals.flops))
        // memory: fp32 weights 1 MiB + live activations; fp16 halves the weights
        XCTAssertEqual(f[0].memoryBytes, 512 * 512 * 4 + 2 * 512 * 4)
        XCTAssertEqual(f[2].memoryBytes, 512 * 512 * 2 + 2 * 512 * 2)
        XCTAssertGreaterThan(f[4].throughput, f[0].throughput)          // batch 64 vs 1
        XCTAssertEqual(f[0].value(.latency), f[0].latency.value)
    }

    func testGraphSweepRejectsUnknownKeysAndValues() throws {
        let sweep = GraphSweep(graph: tinyGraph(), registry: try HardwareRegistry.bundled(), base: EstimateOptions())
        XCTAssertThrowsError(try sweep.run(axes: [try SweepAxis.parse("sequence=1,2")])) { XCTAssertTrue(String(describing: $0).contains("batch")) }
        XCTAssertThrowsError(try sweep.run(axes: [try SweepAxis.parse("hardware=tpu-v99")]))
        XCTAssertThrowsError(try sweep.run(axes: [try SweepAxis.parse("dtype=fp7")]))
        XCTAssertThrowsError(try sweep.run(axes: [try SweepAxis.parse("batch=0")]))
    }

    func testLLMSweepMemoryGrowsWithBatch() throws {
        let reg = try HardwareRegistry.bundled()
        let base = try XCTUnwrap(LLMPresets.config("llama-2-7b"))
        let s = LLMSweep(base: base, registry: reg, hardware: reg.target("nvidia-h100-sxm5-80gb"))
        let r = try s.run(axes: [try SweepAxis.parse("batch=1,4,16"), try SweepAxis.parse("dtype=fp16,int8")], metric: .memory)
        let v = r.results.compactMap { $0 }
        XCTAssertEqual(v.count, 6)
        XCTAssertLessThan(v[0], v[2]); XCTAssertLessThan(v[2], v[4])
        XCTAssertLessThan(v[1], v[0])                                   // int8 weights are smaller
        let t = try s.run(axes: [try SweepAxis.parse("batch=1,8")], metric: .throughput)
        XCTAssertGreaterThan(t.results[1] ?? 0, t.results[0] ?? 0)
        XCTAssertThrowsError(try s.run(axes: [try SweepAxis.parse("layers=1,2")], metric: .memory))
    }
}
