import XCTest
import GraphIR
@testable import GraphPasses

final class FuseBiasGeluTests: XCTestCase {
    static func model(_ gelu: Node, bias: Tensor = PT.c("bias", [0.1, -0.2, 0.3, 0.5], [4]), opset: Int64 = 20) -> Model {
        PT.model([Node(opType: "Add", inputs: ["bias", "x"], outputs: ["xb"]), gelu], inputs: [PT.f("x", [2, 3, 4])],
                 outputs: [PT.f("y", [2, 3, 4])], initializers: [bias], opset: opset)
    }

    func testAddAndGeluBecomeBiasGeluForOrtOnly() throws {
        let gelus = [Node(opType: "Gelu", domain: "com.microsoft", inputs: ["xb"], outputs: ["y"]),
                     Node(opType: "Gelu", inputs: ["xb"], outputs: ["y"])]
        for gelu in gelus {
            let m = Self.model(gelu, opset: gelu.domain.isEmpty ? 20 : 17)
            XCTAssertFalse(try PT.run("fuse-bias-gelu", m).changed, "target=onnx has no BiasGelu")
            let run = try PT.run("fuse-bias-gelu", m, target: .ort)
            let g = run.transaction.model.graph
            XCTAssertEqual(g.nodes.map(\.qualifiedOpType), ["com.microsoft::BiasGelu"])
            XCTAssertEqual(Array(g.nodes[0].inputs.array), ["x", "bias"])
            XCTAssertEqual(Set(g.nodes[0].provenance.sources), Set(m.graph.nodes.map(\.id)))
            PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [2, 3, 4]), try PT.outputs(m, input: "x", shape: [2, 3, 4]))
        }
    }

    func testTheTanhFormTakesTheBiasIntoFastGelu() throws {
        let m = Self.model(Node(opType: "Gelu", inputs: ["xb"], outputs: ["y"], attributes: [Attribute("approximate", .string(Array("tanh".utf8)))]))
        let run = try PT.run("fuse-bias-gelu", m, target: .ort)
        XCTAssertEqual(run.transaction.model.graph.nodes.map(\.qualifiedOpType), ["com.microsoft::FastGelu"])
        XCTAssertEqual(Array(run.transaction.model.graph.nodes[0].inputs.array), ["x", "bias"])
        PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [2, 3, 4]), try PT.outputs(m, input: "x", shape: [2, 3, 4]))
    }

    func testNearMissesAndAnnotations() throws {
        let gelu = Node(opType: "Gelu", domain: "com.microsoft", inputs: ["xb"], outputs: ["y"])
        let wide = try PT.run("fuse-bias-gelu", Self.model(gelu, bias: PT.c("bias", [0.1, 0.2], [2, 1]), opset: 17), target: .ort)
        XCTAssertFalse(wide.changed)
        XCTAssertEqual(wide.nearMisses.first?.condition, "the bias is not 1-D (shape [2, 1])")
        let short = try PT.run("fuse-bias-gelu", Self.model(gelu, bias: PT.c("bias", [0.1, 0.2, 0.3], [3]), opset: 17), target: .ort)
        XCTAssertEqual(short.nearMisses.first?.condition, "the bias has 3 elements, the input's last dimension is 4")

        var shared = Self.model(gelu, opset: 17)
        shared.graph = Graph(nodes: shared.graph.nodes, inputs: shared.graph.inputs, outputs: shared.graph.outputs + [PT.f("xb", [2, 3, 4])],
                             initializers: shared.graph.initializers)
        XCTAssertEqual(try PT.run("fuse-bias-gelu", shared, target: .ort).nearMisses.first?.condition, "the sum has a second consumer")

        var annotated = Self.model(gelu, opset: 17)
        try annotated.graph.modifyNode(annotated.graph.nodes[1].id) { $0.annotations["keep"] = "true" }
        let run = try PT.run("fuse-bias-gelu", annotated, target: .ort)
        XCTAssertFalse(run.changed)
        XCTAssertEqual(run.nearMisses.first?.condition, "annotation keep=true")
    }
}
