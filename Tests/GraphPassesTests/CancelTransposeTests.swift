import XCTest
import GraphIR
@testable import GraphPasses

final class CancelTransposeTests: XCTestCase {
    func testInverseTransposesCancel() throws {
        let m = PT.model([Node(opType: "Transpose", inputs: ["x"], outputs: ["t"], attributes: [Attribute("perm", .ints([0, 2, 1]))]),
                          Node(opType: "Transpose", inputs: ["t"], outputs: ["u"], attributes: [Attribute("perm", .ints([0, 2, 1]))]),
                          Node(opType: "Relu", inputs: ["u"], outputs: ["y"])],
                         inputs: [PT.f("x", [2, 3, 4])], outputs: [PT.f("y", [2, 3, 4])])
        let run = try PT.run("cancel-transpose", m)
        XCTAssertEqual(run.transaction.model.graph.nodes.map(\.opType), ["Relu"])
        XCTAssertEqual(run.transaction.model.graph.nodes[0].inputs.array, ["x"])
        PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [2, 3, 4]), try PT.outputs(m, input: "x", shape: [2, 3, 4]))
    }

    func testTransposesComposeIntoOne() throws {
        let m = PT.model([Node(opType: "Transpose", inputs: ["x"], outputs: ["t"], attributes: [Attribute("perm", .ints([1, 2, 0]))]),
                          Node(opType: "Transpose", inputs: ["t"], outputs: ["y"], attributes: [Attribute("perm", .ints([0, 2, 1]))])],
                         inputs: [PT.f("x", [2, 3, 4])], outputs: [PT.f("y", [3, 2, 4])])
        let run = try PT.run("cancel-transpose", m)
        let g = run.transaction.model.graph
        XCTAssertEqual(g.nodes.map(\.opType), ["Transpose"])
        XCTAssertEqual(g.nodes[0].attribute("perm")?.intsValue, [1, 0, 2])
        XCTAssertEqual(Set(g.nodes[0].provenance.sources), Set(m.graph.nodes.map(\.id)))
        PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [2, 3, 4]), try PT.outputs(m, input: "x", shape: [2, 3, 4]))
    }

    func testReshapeChainsMergeAndASharedFirstStays() throws {
        let m = PT.model([Node(opType: "Unsqueeze", inputs: ["x", "ax"], outputs: ["u"]),
                          Node(opType: "Reshape", inputs: ["u", "s1"], outputs: ["r1"]),
                          Node(opType: "Reshape", inputs: ["r1", "s2"], outputs: ["r2"]),
                          Node(opType: "Relu", inputs: ["r1"], outputs: ["side"]),
                          Node(opType: "Reshape", inputs: ["side", "s2"], outputs: ["r3"]),
                          Node(opType: "Add", inputs: ["r2", "r3"], outputs: ["y"])],
                         inputs: [PT.f("x", [2, 3, 4])], outputs: [PT.f("y", [4, 6])],
                         initializers: [Tensor(name: "ax", int64s: [0], dims: [1]), Tensor(name: "s1", int64s: [6, 4], dims: [2]),
                                        Tensor(name: "s2", int64s: [4, -1], dims: [2])], opset: 13)
        let run = try PT.run("cancel-transpose,dce", m)
        let g = run.transaction.model.graph
        // Unsqueeze∘Reshape merges (r1 reads x); r1 is also read by Relu, so r2 reads x and r1 stays.
        XCTAssertEqual(g.nodes.map(\.opType).sorted(), ["Add", "Relu", "Reshape", "Reshape", "Reshape"])
        XCTAssertTrue(g.nodes.filter { $0.opType == "Reshape" && $0.outputs[0] != "r3" }.allSatisfy { $0.inputs[0] == "x" })
        PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [2, 3, 4]), try PT.outputs(m, input: "x", shape: [2, 3, 4]))
    }

    func testFuseFalseKeepsThePair() throws {
        var m = PT.model([Node(opType: "Transpose", inputs: ["x"], outputs: ["t"], attributes: [Attribute("perm", .ints([1, 0]))]),
                          Node(opType: "Transpose", inputs: ["t"], outputs: ["u"], attributes: [Attribute("perm", .ints([1, 0]))]),
                          Node(opType: "Relu", inputs: ["u"], outputs: ["y"])],
                         inputs: [PT.f("x", [2, 3])], outputs: [PT.f("y", [2, 3])])
        try m.graph.annotate(m.graph.nodes[1].id, key: "fuse", value: "false")
        let run = try PT.run("cancel-transpose", m)
        XCTAssertFalse(run.changed)
        XCTAssertEqual(run.nearMisses.first?.failedAt, m.graph.nodes[1].id)
    }

    func testUnsqueezePairsBecomeOne() throws {
        XCTAssertEqual(CancelTranspose.composeUnsqueeze(rank: 2, [0], [1]), [0, 1])
        XCTAssertEqual(CancelTranspose.composeUnsqueeze(rank: 2, [1], [-1]), [1, 3])
        XCTAssertEqual(CancelTranspose.composeUnsqueeze(rank: 1, [0], [0]), [0, 1])
        XCTAssertNil(CancelTranspose.composeUnsqueeze(rank: 1, [0], [5]))
        let m = PT.model([Node(opType: "Unsqueeze", inputs: ["x", "a"], outputs: ["u"]),
                          Node(opType: "Unsqueeze", inputs: ["u", "b"], outputs: ["v"]),
                          Node(opType: "Relu", inputs: ["v"], outputs: ["y"])],
                         inputs: [PT.f("x", [2, 3])], outputs: [PT.f("y", [2, 1, 3, 1])],
                         initializers: [Tensor(name: "a", int64s: [1], dims: [1]), Tensor(name: "b", int64s: [-1], dims: [1])], opset: 13)
        let run = try PT.run("cancel-transpose,dce", m)
        let g = run.transaction.model.graph
        XCTAssertEqual(g.nodes.map(\.opType), ["Unsqueeze", "Relu"])
        XCTAssertEqual(try g.initializer(named: g.nodes[0].inputs[1])?.int64Values(), [1, 3])
        PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [2, 3]), try PT.outputs(m, input: "x", shape: [2, 3]))
    }

    func testAReshapeCopyingADimTheInputSharesMerges() throws {
        // Reshape([N,3,4] -> [N,12]) then Reshape(shape [0, 3, 4]): the 0 copies N, which x has too.
        let x = ValueInfo(name: "x", type: .tensor(.float, TensorShape([.symbolic("N"), .known(3), .known(4)])))
        let m = PT.model([Node(opType: "Reshape", inputs: ["x", "s1"], outputs: ["r1"]),
                          Node(opType: "Reshape", inputs: ["r1", "s2"], outputs: ["y"])],
                         inputs: [x], outputs: [ValueInfo(name: "y", type: .tensor(.float, TensorShape([.symbolic("N"), .known(4), .known(3)])))],
                         initializers: [Tensor(name: "s1", int64s: [0, 12], dims: [2]), Tensor(name: "s2", int64s: [0, 4, 3], dims: [3])], opset: 13)
        let run = try PT.run("cancel-transpose,dce", m)
        XCTAssertEqual(run.transaction.model.graph.nodes.map(\.opType), ["Reshape"])
        PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [2, 3, 4]), try PT.outputs(m, input: "x", shape: [2, 3, 4]))
    }

    func testSlicesOnDifferentAxesMerge() throws {
        let m = PT.model([Node(opType: "Slice", inputs: ["x", "s1", "e1", "a1"], outputs: ["t"]),
                          Node(opType: "Slice", inputs: ["t", "s2", "e2", "a2"], outputs: ["y"])],
                         inputs: [PT.f("x", [2, 5, 4])], outputs: [PT.f("y", [2, 3, 2])],
                         initializers: [Tensor(name: "s1", int64s: [1], dims: [1]), Tensor(name: "e1", int64s: [4], dims: [1]),
                                        Tensor(name: "a1", int64s: [1], dims: [1]), Tensor(name: "s2", int64s: [-2], dims: [1]),
                                        Tensor(name: "e2", int64s: [Int64.max], dims: [1]), Tensor(name: "a2", int64s: [-1], dims: [1])], opset: 13)
        let run = try PT.run("cancel-transpose,dce", m)
        XCTAssertEqual(run.transaction.model.graph.nodes.map(\.opType), ["Slice"])
        PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [2, 5, 4]), try PT.outputs(m, input: "x", shape: [2, 5, 4]))
    }
}
