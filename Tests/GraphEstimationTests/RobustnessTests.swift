import XCTest
@testable import GraphEstimation

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
