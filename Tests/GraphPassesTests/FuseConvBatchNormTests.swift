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

/// BatchNormalization after a Gemm folds into the Gemm's B (per output column, with and without
/// transB) and C (with the Gemm's beta, C as a row vector, a scalar or missing); a C that
/// differs per row is a near miss.
final class FuseGemmBatchNormTests: XCTestCase {
    static func model(transB: Bool, c: Tensor?, beta: Float = 1) -> Model {
        var attrs = [Attribute("alpha", .float(0.5)), Attribute("beta", .float(beta))]
        if transB { attrs.append(Attribute("transB", .int(1))) }
        // B: [K=4, M=3], or [M=3, K=4] with transB.
        let b = PT.c("B", (0..<12).map { Float($0) * 0.25 - 1 }, transB ? [3, 4] : [4, 3])
        var inits = [b, PT.c("s", [1.5, 0.5, -2], [3]), PT.c("o", [0.3, 0.1, -0.7], [3]), PT.c("m", [0.2, -0.4, 1], [3]), PT.c("v", [0.9, 1.7, 0.3], [3])]
        if let c { inits.append(c) }
        return PT.model([Node(opType: "Gemm", name: "fc", inputs: ["x", "B"] + (c.map { [$0.name] } ?? []), outputs: ["g"], attributes: attrs),
                         Node(opType: "BatchNormalization", name: "bn", inputs: ["g", "s", "o", "m", "v"], outputs: ["y"], attributes: [Attribute("epsilon", .float(1e-3))])],
                        inputs: [PT.f("x", [5, 4])], outputs: [PT.f("y", [5, 3])], initializers: inits)
    }

    func testFoldsIntoBAndCWithTheSameNumbers() throws {
        for (transB, c, beta) in [(false, PT.c("C", [0.5, -1, 2], [3]), Float(0.75)), (true, PT.c("C", [0.5, -1, 2], [1, 3]), 1),
                                  (false, PT.c("C", [0.25], []), 2), (true, nil, 1)] as [(Bool, Tensor?, Float)] {
            let m = Self.model(transB: transB, c: c, beta: beta)
            let run = try PT.run("fuse-conv-bn,dce", m)
            let g = run.transaction.model.graph
            XCTAssertEqual(g.nodes.map(\.opType), ["Gemm"], "transB=\(transB) C=\(c?.dims.description ?? "none")")
            XCTAssertEqual(run.records.first?.groups.first?.description, "2 nodes -> 1 Gemm (fuse-conv-bn)")
            XCTAssertNil(g.nodes.first?.attribute("beta"), "C' carries beta")
            PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [5, 4]), try PT.outputs(m, input: "x", shape: [5, 4]))
        }
    }

    func testACPerRowIsANearMiss() throws {
        let m = Self.model(transB: false, c: PT.c("C", (0..<15).map(Float.init), [5, 3]))
        let run = try PT.run("fuse-conv-bn", m)
        XCTAssertFalse(run.changed)
        XCTAssertTrue(run.nearMisses.contains { $0.condition.contains("same for every row") }, "\(run.nearMisses)")
    }
}
