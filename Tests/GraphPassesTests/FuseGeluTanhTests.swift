import XCTest
import GraphIR
@testable import GraphPasses

final class FuseGeluTanhTests: XCTestCase {
    /// GPT-2's gelu_new as the legacy exporter writes it: 0.5·x first, then · (1 + tanh(...)).
    static func model() -> Model {
        PT.model([Node(opType: "Mul", inputs: ["x", "half"], outputs: ["h"]),
                  Node(opType: "Pow", inputs: ["x", "three"], outputs: ["p"]),
                  Node(opType: "Mul", inputs: ["k", "p"], outputs: ["kp"]),
                  Node(opType: "Add", inputs: ["x", "kp"], outputs: ["s"]),
                  Node(opType: "Mul", inputs: ["s", "c"], outputs: ["sc"]),
                  Node(opType: "Tanh", inputs: ["sc"], outputs: ["t"]),
                  Node(opType: "Add", inputs: ["one", "t"], outputs: ["a"]),
                  Node(opType: "Mul", inputs: ["h", "a"], outputs: ["y"])],
                 inputs: [PT.f("x", [2, 4])], outputs: [PT.f("y", [2, 4])],
                 initializers: [PT.c("half", [0.5]), PT.c("three", [3]), PT.c("k", [0.044715]), PT.c("c", [0.7978845608]), PT.c("one", [1])], opset: 17)
    }

    func testOnnxTargetEmitsTanhGeluAtOpset20WithSameNumbers() throws {
        let m = Self.model()
        let run = try PT.run("fuse-gelu-tanh,dce", m)
        let g = run.transaction.model.graph
        XCTAssertEqual(g.nodes.map(\.qualifiedOpType), ["Gelu"])
        XCTAssertEqual(g.nodes[0].attribute("approximate")?.stringValue, "tanh")
        XCTAssertEqual(run.transaction.model.opsetVersion(for: ""), 20)
        XCTAssertEqual(Set(g.nodes[0].provenance.sources), Set(m.graph.nodes.map(\.id)))
        PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [2, 4]), try PT.outputs(m, input: "x", shape: [2, 4]))
    }

    func testOrtTargetEmitsFastGelu() throws {
        let m = Self.model()
        let run = try PT.run("fuse-gelu-tanh,dce", m, target: .ort)
        XCTAssertEqual(run.transaction.model.graph.nodes.map(\.qualifiedOpType), ["com.microsoft::FastGelu"])
        XCTAssertEqual(run.transaction.model.opsetVersion(for: ""), 17)
        PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [2, 4]), try PT.outputs(m, input: "x", shape: [2, 4]))
    }

    func testAWrongCoefficientIsANearMiss() throws {
        var m = Self.model()
        m.graph = Graph(nodes: m.graph.nodes, inputs: m.graph.inputs, outputs: m.graph.outputs,
                        initializers: m.graph.initializers.map { $0.name == "k" ? PT.c("k", [0.5]) : $0 })
        let run = try PT.run("fuse-gelu-tanh", m)
        XCTAssertFalse(run.changed)
        XCTAssertEqual(run.nearMisses.first?.condition, "the Add is not x + 0.044715·Pow(x, 3)")
    }
}
