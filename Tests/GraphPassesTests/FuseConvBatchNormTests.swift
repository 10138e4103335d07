import XCTest
import GraphIR
@testable import GraphPasses

final class FuseConvBatchNormTests: XCTestCase {
    static func model() -> Model {
        PT.model([Node(opType: "Conv", name: "conv", inputs: ["x", "W", "B"], outputs: ["c"], attributes: [Attribute("kernel_shape", .ints([1, 1]))]),
                  Node(opType: "BatchNormalization", name: "bn", inputs: ["c", "s", "b", "m", "v"], outputs: ["y"])],
                 inputs: [PT.f("x", [1, 2, 3, 3])], outputs: [PT.f("y", [1, 2, 3, 3])],
                 initializers: [PT.c("W", [0.5, -1, 2, 0.25], [2, 2, 1, 1]), PT.c("B", [0.1, -0.2], [2]), PT.c("s", [1.5, 0.5], [2]),
                                PT.c("b", [0.3, 0.1], [2]), PT.c("m", [0.2, -0.4], [2]), PT.c("v", [0.9, 1.7], [2])])
    }

    func testFoldsWithProvenanceAndSameNumbers() throws {
        let m = Self.model()
        let run = try PT.run("fuse-conv-bn,dce", m)
        let g = run.transaction.model.graph
        XCTAssertEqual(g.nodes.map(\.opType), ["Conv"])
        let conv = try XCTUnwrap(g.nodes.first)
        XCTAssertEqual(Set(conv.provenance.sources), Set(m.graph.nodes.map(\.id)))
        XCTAssertEqual(conv.provenance.origin, "pass fuse-conv-bn", "provenance names the pass that made the node")
        XCTAssertEqual(run.records.first?.groups.first?.description, "2 nodes -> 1 Conv (fuse-conv-bn)")
        PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [1, 2, 3, 3]), try PT.outputs(m, input: "x", shape: [1, 2, 3, 3]))
    }

    func testFuseFalseIsANearMiss() throws {
        var m = Self.model()
        let bn = m.graph.nodes[1].id
        try m.graph.annotate(bn, key: "fuse", value: "false")
        let run = try PT.run("fuse-conv-bn", m)
        XCTAssertFalse(run.changed)
        let miss = try XCTUnwrap(run.nearMisses.first)
        XCTAssertEqual(miss.condition, "annotation fuse=false")
        XCTAssertEqual(miss.failedAt, bn)
        XCTAssertEqual(Set(miss.matched), Set(m.graph.nodes.map(\.id)))
    }
}

final class FuseConvBatchNormBranchTests: XCTestCase {
    func testAConvReadByTwoBatchNormsBecomesTwoConvs() throws {
        var m = FuseConvBatchNormTests.model()
        var nodes = m.graph.nodes
        nodes.append(Node(opType: "BatchNormalization", name: "bn2", inputs: ["c", "b", "s", "v", "m"], outputs: ["z"]))
        nodes.append(Node(opType: "Add", inputs: ["y", "z"], outputs: ["sum"]))
        m.graph = Graph(nodes: nodes, inputs: m.graph.inputs, outputs: [PT.f("sum", [1, 2, 3, 3])], initializers: m.graph.initializers)
        let run = try PT.run("fuse-conv-bn,dce", m)
        XCTAssertEqual(run.transaction.model.graph.nodes.map(\.opType), ["Conv", "Conv", "Add"])
        PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [1, 2, 3, 3]), try PT.outputs(m, input: "x", shape: [1, 2, 3, 3]))
    }
    /// A node fused twice (Conv+BN, then the result with a second BN) keeps the annotations of
    /// what it replaced: they are read from the nodes being replaced, not from the original
    /// sources the first fusion already removed. A key the parts disagree on is reported.
    func testAnnotationsSurviveAChainOfFusions() throws {
        var m = PT.model([Node(opType: "Conv", name: "conv", inputs: ["x", "W", "B"], outputs: ["c"], attributes: [Attribute("kernel_shape", .ints([1, 1]))]),
                          Node(opType: "BatchNormalization", name: "bn1", inputs: ["c", "s", "b", "m", "v"], outputs: ["y1"]),
                          Node(opType: "BatchNormalization", name: "bn2", inputs: ["y1", "b", "s", "v", "m"], outputs: ["y"])],
                         inputs: [PT.f("x", [1, 2, 3, 3])], outputs: [PT.f("y", [1, 2, 3, 3])],
                         initializers: [PT.c("W", [0.5, -1, 2, 0.25], [2, 2, 1, 1]), PT.c("B", [0.1, -0.2], [2]), PT.c("s", [1.5, 0.5], [2]),
                                        PT.c("b", [0.3, 0.1], [2]), PT.c("m", [0.2, -0.4], [2]), PT.c("v", [0.9, 1.7], [2])])
        let ids = Dictionary(uniqueKeysWithValues: m.graph.nodes.map { ($0.name, $0.id) })
        try m.graph.annotate(try XCTUnwrap(ids["conv"]), key: "quantize", value: "int8")
        try m.graph.annotate(try XCTUnwrap(ids["conv"]), key: "device", value: "cpu")
        try m.graph.annotate(try XCTUnwrap(ids["bn2"]), key: "device", value: "npu")
        let run = try PT.run("fuse-conv-bn", m)
        let g = run.transaction.model.graph
        XCTAssertEqual(g.nodes.map(\.opType), ["Conv"], "both BatchNormalizations folded, one after the other")
        let conv = try XCTUnwrap(g.nodes.first)
        XCTAssertEqual(Set(conv.provenance.sources), Set(m.graph.nodes.map(\.id)))
        XCTAssertEqual(conv.annotations["quantize"], "int8", "kept through the second fusion")
        XCTAssertNil(conv.annotations["device"], "cpu and npu disagree: left unset")
        XCTAssertEqual(run.transaction.annotationConflicts.map(\.key), ["device"])
        PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [1, 2, 3, 3]), try PT.outputs(m, input: "x", shape: [1, 2, 3, 3]))
    }
}
