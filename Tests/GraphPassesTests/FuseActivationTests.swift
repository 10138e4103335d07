import XCTest
import GraphIR
@testable import GraphPasses

final class FuseActivationTests: XCTestCase {
    static func conv(_ act: Node) -> Model {
        PT.model([Node(opType: "Conv", name: "conv", inputs: ["x", "W", "B"], outputs: ["c"], attributes: [Attribute("kernel_shape", .ints([1, 1]))]), act],
                 inputs: [PT.f("x", [1, 2, 3, 3])], outputs: [PT.f("y", [1, 2, 3, 3])],
                 initializers: [PT.c("W", [0.5, -1, 2, 0.25], [2, 2, 1, 1]), PT.c("B", [0.1, -0.2], [2]), PT.c("lo", [-0.5]), PT.c("hi", [0.75])], opset: 13)
    }

    func testConvActivationsBecomeFusedConvForOrtOnly() throws {
        let acts = [Node(opType: "Relu", inputs: ["c"], outputs: ["y"]),
                    Node(opType: "LeakyRelu", inputs: ["c"], outputs: ["y"], attributes: [Attribute("alpha", .float(0.3))]),
                    Node(opType: "HardSigmoid", inputs: ["c"], outputs: ["y"], attributes: [Attribute("alpha", .float(0.25))]),
                    Node(opType: "Clip", inputs: ["c", "lo", "hi"], outputs: ["y"]),
                    Node(opType: "Sigmoid", inputs: ["c"], outputs: ["y"])]
        for act in acts {
            let m = Self.conv(act)
            XCTAssertFalse(try PT.run("fuse-activation", m).changed, "target=onnx has no fused op")
            let run = try PT.run("fuse-activation,dce", m, target: .ort)
            let g = run.transaction.model.graph
            XCTAssertEqual(g.nodes.map(\.qualifiedOpType), ["com.microsoft::FusedConv"], act.opType)
            XCTAssertEqual(g.nodes[0].attribute("activation")?.stringValue, act.opType)
            XCTAssertEqual(Set(g.nodes[0].provenance.sources), Set(m.graph.nodes.map(\.id)))
            PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [1, 2, 3, 3]), try PT.outputs(m, input: "x", shape: [1, 2, 3, 3]))
        }
    }

    func testGemmLeakyReluBecomesFusedGemmAndASharedOutputStays() throws {
        let m = PT.model([Node(opType: "Gemm", inputs: ["x", "W", "B"], outputs: ["g"]),
                          Node(opType: "LeakyRelu", inputs: ["g"], outputs: ["y"], attributes: [Attribute("alpha", .float(0.2))])],
                         inputs: [PT.f("x", [2, 3])], outputs: [PT.f("y", [2, 4])],
                         initializers: [PT.c("W", (0..<12).map { Float($0) / 4 - 1.5 }, [3, 4]), PT.c("B", [0.1, -0.2, 0.3, 0], [4])])
        let run = try PT.run("fuse-activation", m, target: .ort)
        XCTAssertEqual(run.transaction.model.graph.nodes.map(\.opType), ["FusedGemm"])
        PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [2, 3]), try PT.outputs(m, input: "x", shape: [2, 3]))

        var shared = Self.conv(Node(opType: "Relu", inputs: ["c"], outputs: ["y"]))
        shared.graph = Graph(nodes: shared.graph.nodes, inputs: shared.graph.inputs, outputs: shared.graph.outputs + [PT.f("c", [1, 2, 3, 3])],
                             initializers: shared.graph.initializers)
        let miss = try PT.run("fuse-activation", shared, target: .ort)
        XCTAssertFalse(miss.changed)
        XCTAssertEqual(miss.nearMisses.first?.condition, "the Conv output has a second consumer")
    }
}
