import XCTest
import GraphIR
@testable import GraphPasses

final class FuseLayerNormTests: XCTestCase {
    static func model(opset: Int64 = 12) -> Model {
        PT.model([Node(opType: "ReduceMean", inputs: ["x"], outputs: ["m"], attributes: [Attribute("axes", .ints([-1]))]),
                  Node(opType: "Sub", inputs: ["x", "m"], outputs: ["d"]),
                  Node(opType: "Pow", inputs: ["d", "two"], outputs: ["p"]),
                  Node(opType: "ReduceMean", inputs: ["p"], outputs: ["v"], attributes: [Attribute("axes", .ints([-1]))]),
                  Node(opType: "Add", inputs: ["v", "eps"], outputs: ["ve"]),
                  Node(opType: "Sqrt", inputs: ["ve"], outputs: ["s"]),
                  Node(opType: "Div", inputs: ["d", "s"], outputs: ["n"]),
                  Node(opType: "Mul", inputs: ["n", "g"], outputs: ["ng"]),
                  Node(opType: "Add", inputs: ["ng", "b"], outputs: ["y"])],
                 inputs: [PT.f("x", [2, 3, 4])], outputs: [PT.f("y", [2, 3, 4])],
                 initializers: [PT.c("two", [2]), PT.c("eps", [1e-5]), PT.c("g", [1, 2, 0.5, -1], [4]), PT.c("b", [0, 0.1, 0.2, 0.3], [4])],
                 opset: opset)
    }

    func testNineNodesBecomeOneLayerNormalizationInTheirCommonScope() throws {
        var m = Self.model()
        for n in m.graph.nodes { try m.graph.modifyNode(n.id) { $0.hierarchyPath = ["encoder", "ln", n.opType] } }
        let run = try PT.run("fuse-layernorm,dce", m)
        let out = run.transaction.model
        XCTAssertEqual(out.graph.nodes.map(\.opType), ["LayerNormalization"])
        XCTAssertEqual(out.opsetVersion(for: ""), 17, "the opset import is raised for the new op")
        XCTAssertEqual(out.graph.nodes[0].hierarchyPath, ["encoder", "ln"])
        XCTAssertEqual(run.records.first?.groups.first?.description, "9 nodes -> 1 LayerNormalization (fuse-layernorm)")
        // The interpreter has no LayerNormalization kernel: the numbers are checked against
        // onnxruntime in Tests/e2e/test_passes.py.
        let ln = out.graph.nodes[0]
        XCTAssertEqual(ln.inputs.array, ["x", "g", "b"])
        XCTAssertEqual(ln.attribute("epsilon")?.floatValue ?? 0, 1e-5, accuracy: 1e-9)
    }

    func testASecondReaderOfTheMeanIsANearMiss() throws {
        var m = Self.model(opset: 17)
        m = PT.model(m.graph.nodes + [Node(opType: "Neg", inputs: ["m"], outputs: ["z"])], inputs: m.graph.inputs,
                     outputs: m.graph.outputs + [PT.f("z", [2, 3, 1])], initializers: m.graph.initializers, opset: 17)
        let run = try PT.run("fuse-layernorm", m)
        XCTAssertFalse(run.changed)
        XCTAssertTrue(run.nearMisses.contains { $0.condition.contains("second consumer") && $0.matched.count >= 7 }, "\(run.nearMisses)")
    }
}

/// The means written as tf2onnx writes them: ReduceSum times 1/N (the mean of x) and ReduceSum
/// over N (the variance), with the division as Mul(d, Reciprocal(...)); a factor that is not
/// 1/N is no mean and leaves the graph as it is.
final class FuseLayerNormSumTests: XCTestCase {
    static func model(meanFactor: Float = 0.25) -> Model {
        PT.model([Node(opType: "ReduceSum", inputs: ["x", "axes"], outputs: ["sx"]),
                  Node(opType: "Mul", inputs: ["sx", "inv"], outputs: ["m"]),
                  Node(opType: "Sub", inputs: ["x", "m"], outputs: ["d"]),
                  Node(opType: "Mul", inputs: ["d", "d"], outputs: ["p"]),
                  Node(opType: "ReduceSum", inputs: ["p", "axes"], outputs: ["sp"]),
                  Node(opType: "Div", inputs: ["sp", "n"], outputs: ["v"]),
                  Node(opType: "Add", inputs: ["eps", "v"], outputs: ["ve"]),
                  Node(opType: "Sqrt", inputs: ["ve"], outputs: ["s"]),
                  Node(opType: "Reciprocal", inputs: ["s"], outputs: ["rs"]),
                  Node(opType: "Mul", inputs: ["d", "rs"], outputs: ["nrm"]),
                  Node(opType: "Mul", inputs: ["nrm", "g"], outputs: ["ng"]),
                  Node(opType: "Add", inputs: ["ng", "b"], outputs: ["y"])],
                 inputs: [PT.f("x", [2, 3, 4])], outputs: [PT.f("y", [2, 3, 4])],
                 initializers: [Tensor(name: "axes", int64s: [-1], dims: [1]), PT.c("inv", [meanFactor]), PT.c("n", [4]), PT.c("eps", [1e-5]),
                                PT.c("g", [1, 2, 0.5, -1], [4]), PT.c("b", [0, 0.1, 0.2, 0.3], [4])],
                 opset: 17)
    }

    func testReduceSumMeansFuseToo() throws {
        let run = try PT.run("fuse-layernorm,dce", Self.model())
        let g = run.transaction.model.graph
        XCTAssertEqual(g.nodes.map(\.opType), ["LayerNormalization"])
        XCTAssertEqual(run.records.first?.groups.first?.description, "12 nodes -> 1 LayerNormalization (fuse-layernorm)")
        XCTAssertEqual(g.nodes[0].inputs.array, ["x", "g", "b"])
    }

    func testAFactorThatIsNotOneOverNIsNoMean() throws {
        let run = try PT.run("fuse-layernorm", Self.model(meanFactor: 0.5))
        XCTAssertFalse(run.changed)
        XCTAssertTrue(run.nearMisses.contains { $0.condition.contains("mean") }, "\(run.nearMisses)")
    }
}
