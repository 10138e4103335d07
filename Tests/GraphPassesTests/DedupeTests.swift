import XCTest
import GraphIR
@testable import GraphPasses

final class DedupeTests: XCTestCase {
    static func model() -> Model {
        // Two copies of one weight (an initializer and a Constant), each feeding the same Mul.
        PT.model([Node(opType: "Constant", inputs: [], outputs: ["w3"], attributes: [Attribute("value", .tensor(PT.c("", [0.5, -2, 3], [3])))]),
                  Node(opType: "Mul", inputs: ["x", "w1"], outputs: ["a"]),
                  Node(opType: "Mul", inputs: ["x", "w2"], outputs: ["b"]),
                  Node(opType: "Mul", inputs: ["x", "w3"], outputs: ["c"]),
                  Node(opType: "Mul", inputs: ["x", "other"], outputs: ["d"]),
                  Node(opType: "Sum", inputs: ["a", "b", "c", "d"], outputs: ["y"])],
                 inputs: [PT.f("x", [2, 3])], outputs: [PT.f("y", [2, 3])],
                 initializers: [PT.c("w1", [0.5, -2, 3], [3]), PT.c("w2", [0.5, -2, 3], [3]), PT.c("other", [0.5, -2, 3], [1, 3])])
    }

    func testDuplicateConstantsAndSubexpressionsMerge() throws {
        let m = Self.model()
        let run = try PT.run("dedupe,dce", m)
        let g = run.transaction.model.graph
        XCTAssertEqual(g.nodes.map(\.opType), ["Mul", "Mul", "Sum"], "w2 and w3 merge into w1 (other differs in shape), then the Muls merge")
        XCTAssertEqual(Set(g.initializers.map(\.name)), ["w1", "other"])
        XCTAssertEqual(g.nodes.last?.inputs.array, ["a", "a", "a", "d"])
        PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [2, 3]), try PT.outputs(m, input: "x", shape: [2, 3]))
    }

    func testDifferentAttributesDoNotMergeAndKeepStays() throws {
        var m = PT.model([Node(opType: "LeakyRelu", inputs: ["x"], outputs: ["a"], attributes: [Attribute("alpha", .float(0.1))]),
                          Node(opType: "LeakyRelu", inputs: ["x"], outputs: ["b"], attributes: [Attribute("alpha", .float(0.2))]),
                          Node(opType: "LeakyRelu", inputs: ["x"], outputs: ["c"], attributes: [Attribute("alpha", .float(0.1))]),
                          Node(opType: "Sum", inputs: ["a", "b", "c"], outputs: ["y"])],
                         inputs: [PT.f("x", [4])], outputs: [PT.f("y", [4])])
        try m.graph.annotate(m.graph.nodes[2].id, key: "keep", value: "true")
        XCTAssertFalse(try PT.run("dedupe", m).changed, "alpha differs; the third is keep=true")
        m = PT.model(m.graph.nodes.map { var n = $0; n.annotations = [:]; return n }, inputs: m.graph.inputs, outputs: m.graph.outputs)
        let run = try PT.run("dedupe,dce", m)
        XCTAssertEqual(run.transaction.model.graph.nodes.count, 3)
        PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [4]), try PT.outputs(m, input: "x", shape: [4]))
    }
}
