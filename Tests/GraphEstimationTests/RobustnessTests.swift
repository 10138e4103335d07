import XCTest
@testable import GraphEstimation
import GraphFormats
import Foundation

/// Hostile or broken inputs give issues or errors, never a crash.
final class RobustnessTests: XCTestCase {
    func testBadConstantsAndHugeSizesDoNotTrap() throws {
        var b = GraphBuilder()
        b.input("x", [2, 3, 4, 5])
        b.weight("nanShape", [2], values: [.nan, .infinity], bits: 64, isFloat: false)
        b.weight("hugeReps", [4], values: [1e30, 1, 1, 1], bits: 64, isFloat: false)
        b.weight("badScales", [4], values: [1, 1, .infinity, -3])
        b.weight("negPads", [8], values: [0, 0, -50, 0, 0, 0, 0, 0], bits: 64, isFloat: false)
        b.node("Reshape", ["x", "nanShape"], ["r"])
        b.node("Tile", ["x", "hugeReps"], ["t"])
        b.node("Resize", ["x", "", "badScales"], ["rz"])
        b.node("Pad", ["x", "negPads"], ["p"])
        b.node("Flatten", ["x"], ["f"], ["axis": .int(-9)])
        b.node("Shape", ["x"], ["s"], ["start": .int(7), "end": .int(-9)])
        b.node("Gemm", ["x", "x"], ["g"])
        b.node("Conv", ["x", "x"], ["c"], ["strides": .ints([0, 0]), "pads": .ints([-100, 0, 0, 0])])
        b.node("Attention", ["x", "s", "s"], ["att"])
        let a = try CostAnalysis(graph: b.g)
        XCTAssertEqual(a.costs.count, 9)
        XCTAssertNil(a.shapes.shapes[b.names["p"]!])                   // negative dimension → unknown, with an issue
        XCTAssertFalse(a.shapes.issues.isEmpty)
        XCTAssertEqual(a.shapes.shapes[b.names["s"]!], [0])
        let hw = testDevice(deviceClass: "datacenter_gpu", units: 4)
        XCTAssertNoThrow(try GraphEstimator.estimate(a, options: EstimateOptions(hardware: hw)))
    }

    func testHugeLLMConfigIsRejectedNotTrapped() {
        let c = LLMConfig(layers: Int.max / 2, hidden: Int.max / 3, heads: 1, vocab: Int.max)
        XCTAssertThrowsError(try c.validate())
        _ = LLMCalculator(c).parameters().total                         // saturates instead of trapping
        _ = LLMCalculator(c).memory()
        XCTAssertThrowsError(try SweepAxis.parse("n=\(Int.min)..\(Int.max)"))
    }
}

/// Every ONNX backend node-test model (onnx 1.22.0 wheel) goes through the whole pipeline
/// without crashing: loaded, converted, shapes inferred with the test's input shapes,
/// costed and priced. Skips when the node tests are absent (set ONNX_NODE_TESTS to their folder).
final class NodeTestSweepTests: XCTestCase {
    func testEveryNodeTestModelEstimatesWithoutCrashing() throws {
        let env = ProcessInfo.processInfo.environment["ONNX_NODE_TESTS"]
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [env, repo.appendingPathComponent(".venv/lib/python3.11/site-packages/onnx/backend/test/data/node").path,
                          "/work/main/.venv/lib/python3.11/site-packages/onnx/backend/test/data/node"].compactMap { $0 }
        guard let dir = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw XCTSkip("ONNX node tests not found (set ONNX_NODE_TESTS)")
        }
        let cases = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        let hw = testDevice(deviceClass: "datacenter_gpu", units: 8)
        var estimated = 0, costed = 0
        var noFormula: [String: Int] = [:]
        for c in cases {
            let url = URL(fileURLWithPath: dir).appendingPathComponent(c).appendingPathComponent("model.onnx")
            guard let model = try? ONNXReader.load(url) else { continue }
            let og = OpGraph(model.graph)
            // bind every symbol to 2 and give unnamed unknown input dims a size of 2
            var shapes: [String: [Int]] = [:]
            for i in og.inputs where !og.values[i].isConstant {
                if let dims = og.values[i].shape { shapes[og.values[i].name] = dims.map { $0.value.map { Int(clamping: $0) } ?? 2 } }
            }
            guard let a = try? CostAnalysis(graph: og, bindings: Dictionary(uniqueKeysWithValues: og.symbols.map { ($0, 2) }),
                                            inputShapes: shapes) else { continue }
            if let e = try? GraphEstimator.estimate(a, options: EstimateOptions(hardware: hw)) {
                estimated += 1
                if e.nodes.contains(where: { $0.status == .ok && $0.flops > 0 }) { costed += 1 }
                for n in e.nodes where n.status == .unsupportedOp { noFormula[n.opType, default: 0] += 1 }
            }
        }
        print("node tests: \(cases.count) cases, \(estimated) estimated, \(costed) with costed work")
        print("ops without a formula: \(noFormula.sorted { $0.key < $1.key }.map { "\($0.key)" }.joined(separator: " "))")
        XCTAssertGreaterThan(estimated, 1500, "estimated \(estimated) of \(cases.count) node-test models")
        XCTAssertGreaterThan(costed, 700)
    }
}
