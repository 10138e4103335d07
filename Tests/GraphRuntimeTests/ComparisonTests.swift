/// Comparison metrics, value matching (name, node id, provenance), divergence roots, run
/// statistics and the memory estimate before planning.
import GraphIR
import XCTest
@testable import GraphRuntime

final class ComparisonTests: XCTestCase {
    func testMetricsOfIdenticalScaledAndShiftedTensors() {
        let a = t([1, 2, 3, 4], [4])
        let same = TensorDiff(a, t([1, 2, 3, 4], [4]), tolerance: Tolerance())
        XCTAssertTrue(same.passes)
        XCTAssertEqual(same.maxAbs, 0)
        XCTAssertEqual(same.cosine ?? 0, 1, accuracy: 1e-12)
        XCTAssertEqual(same.pcc ?? 0, 1, accuracy: 1e-12)
        let scaled = TensorDiff(a, t([2, 4, 6, 8], [4]), tolerance: Tolerance())
        XCTAssertFalse(scaled.passes)
        XCTAssertEqual(scaled.maxAbs, 4)
        XCTAssertEqual(scaled.maxRel, 0.5, accuracy: 1e-12)
        XCTAssertEqual(scaled.cosine ?? 0, 1, accuracy: 1e-12, "same direction")
        XCTAssertEqual(scaled.pcc ?? 0, 1, accuracy: 1e-12)
        let reversed = TensorDiff(a, t([4, 3, 2, 1], [4]), tolerance: Tolerance())
        XCTAssertEqual(reversed.pcc ?? 0, -1, accuracy: 1e-12)
        // Within atol + rtol·|a|.
        XCTAssertTrue(TensorDiff(a, t([1.0005, 2, 3, 4], [4]), tolerance: Tolerance(atol: 1e-4, rtol: 1e-3)).passes)
        XCTAssertFalse(TensorDiff(a, t([1.002, 2, 3, 4], [4]), tolerance: Tolerance(atol: 1e-4, rtol: 1e-3)).passes)
        let shape = TensorDiff(a, t([1, 2, 3, 4], [2, 2]), tolerance: Tolerance())
        XCTAssertFalse(shape.passes)
        XCTAssertFalse(shape.sameShape)
        let nan = TensorDiff(t([.nan, 1], [2]), t([.nan, 1], [2]), tolerance: Tolerance())
        XCTAssertTrue(nan.passes, "NaN where A has NaN is equal")
        XCTAssertFalse(TensorDiff(t([0, 1], [2]), t([.nan, 1], [2]), tolerance: Tolerance()).passes)
    }

    func testMatchingByNameNodeIdAndProvenanceAndDivergenceRoots() throws {
        let a = Graph(nodes: [Node(opType: "Relu", name: "r", inputs: ["x"], outputs: ["a"]),
                              Node(opType: "Neg", name: "n", inputs: ["a"], outputs: ["b"]),
                              Node(opType: "Abs", name: "s", inputs: ["b"], outputs: ["y"])],
                      inputs: [ValueInfo(name: "x")], outputs: [ValueInfo(name: "y")])
        let ids = a.nodes.map(\.id)
        // B: `r` renamed its output (same id), `n` replaced by a node standing for it, `s` kept.
        let b = Graph(nodes: [Node(id: ids[0], opType: "Relu", name: "r", inputs: ["x"], outputs: ["a2"]),
                              Node(id: NodeID(50), opType: "Neg", name: "fused", inputs: ["a2"], outputs: ["b2"],
                                   provenance: Provenance(sources: [ids[1]], origin: "pass")),
                              Node(id: ids[2], opType: "Abs", name: "s", inputs: ["b2"], outputs: ["y"])],
                      inputs: [ValueInfo(name: "x")], outputs: [ValueInfo(name: "y")])
        let (matches, unmatched) = GraphComparison.match(a, b)
        XCTAssertEqual(unmatched, [])
        XCTAssertEqual(matches.map(\.how), [.node, .provenance, .name])
        XCTAssertEqual(matches.map(\.bValue), ["a2", "b2", "y"])
        // `b` fails while `a` passes: `n` is where the divergence starts, not `s`.
        let roots = GraphComparison.divergenceRoots(a, passing: ["a": true, "b": false, "y": false])
        XCTAssertEqual(roots.map(\.name), ["n"])
        XCTAssertEqual(GraphComparison.divergenceRoots(a, passing: ["a": true, "b": true, "y": true]), [])
    }

    func testTimingSummaryAndRandomInputs() throws {
        let s = TimingSummary(wall: [3, 1, 2, 10], nodeTimes: [[("a", "Conv", 2), ("b", "Relu", 1)], [("a", "Conv", 4), ("b", "Relu", 1)]])
        XCTAssertEqual(s.median, 2.5)
        XCTAssertEqual(s.p90, 10)
        XCTAssertEqual(s.min, 1)
        XCTAssertEqual(s.nodes.first?.node, "a")
        XCTAssertEqual(s.nodes.first?.seconds, 3)
        XCTAssertEqual(s.ops.first?.share ?? 0, 0.75, accuracy: 1e-12)
        let r1 = try RandomInput.tensor(.float, shape: [100], seed: 1, name: "x")
        let r2 = try RandomInput.tensor(.float, shape: [100], seed: 1, name: "x")
        XCTAssertEqual(r1.floatValues(), r2.floatValues())
        XCTAssertNotEqual(r1.floatValues(), try RandomInput.tensor(.float, shape: [100], seed: 2, name: "x").floatValues())
        XCTAssertTrue(r1.floatValues().allSatisfy { $0 >= 0 && $0 < 1 })
        let ints = try RandomInput.tensor(.int64, shape: [50], seed: 1, name: "ids").int64Values()
        XCTAssertTrue(ints.allSatisfy { $0 == 0 || $0 == 1 } && Set(ints).count == 2)
        let summary = TensorSummary(t([1, .nan, 3, .infinity], [4]))
        XCTAssertEqual(summary.min, 1)
        XCTAssertEqual(summary.max, 3)
        XCTAssertEqual(summary.nanCount, 1)
        XCTAssertEqual(summary.infCount, 1)
    }

    func testMemoryEstimateCountsLiveValuesBeforeAnyAllocation() throws {
        let m = model([Node(opType: "Relu", inputs: ["x"], outputs: ["a"]), Node(opType: "Neg", inputs: ["a"], outputs: ["b"]),
                       Node(opType: "Abs", inputs: ["b"], outputs: ["y"])], inputs: [("x", [1000])], outputs: ["y"])
        let e = try Interpreter(model: m).estimateMemory(inputShapes: ["x": [1000]])
        XCTAssertEqual(e.totalBytes, 12_000)
        XCTAssertLessThanOrEqual(e.peakBytes, 12_000)
        XCTAssertGreaterThanOrEqual(e.peakBytes, 8_000)
        XCTAssertEqual(try Interpreter(model: m).estimateMemory(inputShapes: ["x": [1000]], keepAll: true).peakBytes, 16_000)
        // Symbolic dims bound by the input shape: a huge one is an estimate, not an allocation.
        let g = Graph(nodes: [Node(opType: "Relu", inputs: ["x"], outputs: ["y"])],
                      inputs: [ValueInfo(name: "x", type: .tensor(.float, TensorShape([.symbolic("n"), .known(4)])))],
                      outputs: [ValueInfo(name: "y")])
        let huge = try Interpreter(model: Model(graph: g, opsetImports: [OpsetImport(version: 17)]))
            .estimateMemory(inputShapes: ["x": [1 << 40, 4]])
        XCTAssertEqual(huge.largestBytes, (1 << 40) * 16)
    }
}
