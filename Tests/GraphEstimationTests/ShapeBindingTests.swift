import XCTest
@testable import GraphEstimation
import GraphFormats
import GraphIR

/// Binding is substitution into GraphOps' symbolic result: a graph whose symbolic shapes are
/// complete is never inferred again, whatever is bound; only what substitution cannot decide
/// (a scalar input's value choosing an If branch) infers the bound graph, once per binding.
final class ShapeBindingTests: XCTestCase {
    func testSymbolicGraphIsBoundBySubstitutionOnly() throws {
        var b = GraphBuilder()
        b.input("x", [.symbolic("batch"), .symbolic("seq"), .known(64)])
        b.weight("w", [64, 32])
        b.node("MatMul", ["x", "w"], ["h"])
        b.node("Softmax", ["h"], ["y"], ["axis": .int(-1)])
        b.output("y")
        let g = b.g
        for (batch, seq) in [(1, 128), (8, 512), (3, 7)] {
            let a = try CostAnalysis(graph: g, bindings: ["batch": batch, "seq": seq])
            XCTAssertEqual(a.shapes.shapes[b.names["y"]!], [batch, seq, 32])
            XCTAssertEqual(a.costs[0].counts.macs, batch * seq * 64 * 32)
        }
        XCTAssertEqual(g.boundCache.count, 0, "no binding needed a second inference")
        // shape= on the same input is substitution too (its symbols take the sizes given)
        let s = try CostAnalysis(graph: g, inputShapes: ["x": [2, 10, 64]])
        XCTAssertEqual(s.shapes.shapes[b.names["h"]!], [2, 10, 32])
        XCTAssertEqual(g.boundCache.count, 0)
    }

    func testAScalarInputsValueInfersTheBoundGraphOncePerBinding() throws {
        let url = CorpusCrossCheckTests.corpus.appendingPathComponent("models/silero_vad.onnx")
        guard FileManager.default.fileExists(atPath: url.path) else { throw XCTSkip("shared corpus not present at \(url.path)") }
        let g = OpGraph(try ONNXReader.load(url))
        let shapes = ["input": [1, 576], "state": [2, 1, 128], "sr": []]
        for _ in 0..<2 { _ = try CostAnalysis(graph: g, bindings: ["sr": 16000], inputShapes: shapes) }
        XCTAssertEqual(g.boundCache.count, 1, "sr=16000 chooses the branch: one concrete inference, reused")
        _ = try CostAnalysis(graph: g, bindings: ["sr": 8000], inputShapes: ["input": [1, 288], "state": [2, 1, 128], "sr": []])
        XCTAssertEqual(g.boundCache.count, 2)
    }
}
