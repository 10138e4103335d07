import XCTest
import GraphIR
@testable import GraphPasses

final class FuseSkipLayerNormTests: XCTestCase {
    /// x [2, 3, 4] + skip (another branch of x) [+ bias], then LayerNormalization; `extra`
    /// also reads the sum (the next residual).
    static func model(bias: Bool = false, biasFirst: Bool = false, extra: Bool = false, axis: Int64 = -1, opset: Int64 = 17) -> Model {
        var nodes = [Node(opType: "Neg", inputs: ["x"], outputs: ["skip"])]
        if bias && biasFirst {
            nodes += [Node(opType: "Add", inputs: ["x", "bias"], outputs: ["xb"]), Node(opType: "Add", inputs: ["xb", "skip"], outputs: ["sum"])]
        } else if bias {
            nodes += [Node(opType: "Add", inputs: ["x", "skip"], outputs: ["xs"]), Node(opType: "Add", inputs: ["bias", "xs"], outputs: ["sum"])]
        } else {
            nodes += [Node(opType: "Add", inputs: ["skip", "x"], outputs: ["sum"])]
        }
        nodes += [Node(opType: "LayerNormalization", inputs: ["sum", "g", "b"], outputs: ["ln"],
                       attributes: [Attribute("axis", .int(axis)), Attribute("epsilon", .float(1e-5))]),
                  Node(opType: extra ? "Add" : "Identity", inputs: extra ? ["ln", "sum"] : ["ln"], outputs: ["y"])]
        return PT.model(nodes, inputs: [PT.f("x", [2, 3, 4])], outputs: [PT.f("y", [2, 3, 4])],
                        initializers: [PT.c("g", [1, 2, 0.5, -1], [4]), PT.c("b", [0, 0.1, 0.2, 0.3], [4]), PT.c("bias", [0.3, -0.2, 0.1, 0], [4])],
                        opset: opset)
    }

    func testTheThreeFormsBecomeSkipLayerNormalizationForOrtOnly() throws {
        for (bias, first) in [(false, false), (true, false), (true, true)] {
            let m = Self.model(bias: bias, biasFirst: first)
            XCTAssertFalse(try PT.run("fuse-skip-layernorm", m).changed, "target=onnx has no SkipLayerNormalization")
            let run = try PT.run("fuse-skip-layernorm", m, target: .ort)
            let g = run.transaction.model.graph
            let sln = try XCTUnwrap(g.nodes.first { $0.opType == "SkipLayerNormalization" })
            XCTAssertEqual(sln.domain, "com.microsoft")
            // The sum is symmetric in input and skip when their shapes are equal.
            XCTAssertEqual(Set(sln.inputs.array.prefix(2)), ["x", "skip"])
            XCTAssertEqual(Array(sln.inputs.array.dropFirst(2)), ["g", "b"] + (bias ? ["bias"] : []))
            XCTAssertEqual(Array(sln.outputs.array), ["ln"], "nothing else reads the sum")
            XCTAssertEqual(sln.attribute("epsilon")?.floatValue ?? 0, 1e-5, accuracy: 1e-10)
            XCTAssertEqual(sln.provenance.sources.count, bias ? 3 : 2)
            PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [2, 3, 4]), try PT.outputs(m, input: "x", shape: [2, 3, 4]))
        }
    }

    func testASumReadElsewhereComesOutAsTheFourthOutput() throws {
        let m = Self.model(bias: true, extra: true)
        let run = try PT.run("fuse-skip-layernorm", m, target: .ort)
        let sln = try XCTUnwrap(run.transaction.model.graph.nodes.first { $0.opType == "SkipLayerNormalization" })
        // The unread mean and inv_std_var get fresh names (the editor names every output).
        XCTAssertEqual(sln.outputs.count, 4)
        XCTAssertEqual(sln.outputs[0], "ln")
        XCTAssertEqual(sln.outputs[3], "sum")
        PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [2, 3, 4]), try PT.outputs(m, input: "x", shape: [2, 3, 4]))
    }

    func testNearMissesAndAnnotations() throws {
        let axis = try PT.run("fuse-skip-layernorm", Self.model(axis: 1), target: .ort)
        XCTAssertFalse(axis.changed)
        XCTAssertEqual(axis.nearMisses.first?.condition, "LayerNormalization's axis 1 is not the last")

        // x + x·(-1) written as Add(x, x) is not a residual.
        var same = Self.model()
        let add = try XCTUnwrap(same.graph.nodes.first { $0.opType == "Add" })
        try same.graph.modifyNode(add.id) { $0.inputs = ["x", "x"] }
        let twice = try PT.run("fuse-skip-layernorm", same, target: .ort)
        XCTAssertEqual(twice.nearMisses.first?.condition, "Add reads one value twice")

        var annotated = Self.model(bias: true)
        let inner = try XCTUnwrap(annotated.graph.nodes.first { $0.opType == "Add" && $0.outputs[0] == "xs" })
        try annotated.graph.modifyNode(inner.id) { $0.annotations["fuse"] = "false" }
        let run = try PT.run("fuse-skip-layernorm", annotated, target: .ort)
        XCTAssertFalse(run.changed)
        XCTAssertTrue(run.nearMisses.contains { $0.condition == "annotation fuse=false" && $0.failedAt == inner.id }, "\(run.nearMisses)")
    }
}
