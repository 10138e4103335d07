import XCTest
import GraphIR
@testable import GraphPasses

final class IdentityEliminationTests: XCTestCase {
    func testIdentityDropoutNoOpCastAndTransposeGoAndNumbersHold() throws {
        let m = PT.model([Node(opType: "Identity", inputs: ["x"], outputs: ["a"]),
                          Node(opType: "Dropout", inputs: ["a"], outputs: ["b"]),
                          Node(opType: "Cast", inputs: ["b"], outputs: ["c"], attributes: [Attribute("to", .int(1))]),
                          Node(opType: "Transpose", inputs: ["c"], outputs: ["d"], attributes: [Attribute("perm", .ints([0, 1]))]),
                          Node(opType: "Relu", inputs: ["d"], outputs: ["y"])],
                         inputs: [PT.f("x", [2, 3])], outputs: [PT.f("y", [2, 3])])
        let run = try PT.run("identity", m)
        let g = run.transaction.model.graph
        XCTAssertEqual(g.nodes.map(\.opType), ["Relu"])
        XCTAssertEqual(g.outputs.map(\.name), ["y"], "the graph output keeps its name")
        PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [2, 3]), try PT.outputs(m, input: "x", shape: [2, 3]))
    }

    func testARealTransposeStays() throws {
        let m = PT.model([Node(opType: "Transpose", inputs: ["x"], outputs: ["y"], attributes: [Attribute("perm", .ints([1, 0]))])],
                         inputs: [PT.f("x", [2, 3])], outputs: [PT.f("y", [3, 2])])
        XCTAssertFalse(try PT.run("identity", m).changed)
    }
}

final class IdentityNeutralElementTests: XCTestCase {
    func testAddZeroAndMulOneGoButBroadcastingOnesStay() throws {
        let m = PT.model([Node(opType: "Add", inputs: ["zeros", "x"], outputs: ["a"]),
                          Node(opType: "Mul", inputs: ["a", "ones"], outputs: ["b"]),
                          Node(opType: "Div", inputs: ["b", "wide"], outputs: ["y"])],
                         inputs: [PT.f("x", [2, 3])], outputs: [PT.f("y", [4, 2, 3])],
                         initializers: [PT.c("zeros", [0, 0, 0], [3]), PT.c("ones", [1], []), PT.c("wide", [1, 1, 1, 1], [4, 1, 1])])
        let run = try PT.run("identity", m)
        let g = run.transaction.model.graph
        XCTAssertEqual(g.nodes.map(\.opType), ["Div"], "the Div by ones broadcasts x to [4, 2, 3], so it stays")
        XCTAssertEqual(g.nodes[0].inputs[0], "x")
        PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [2, 3]), try PT.outputs(m, input: "x", shape: [2, 3]))
    }
}

final class IdentityOutputTests: XCTestCase {
    func testAnIdentityWritingAGraphOutputGoesAndItsProducerWritesTheOutput() throws {
        let m = PT.model([Node(opType: "Relu", inputs: ["x"], outputs: ["r"]), Node(opType: "Identity", inputs: ["r"], outputs: ["y"])],
                         inputs: [PT.f("x", [2, 3])], outputs: [PT.f("y", [2, 3])])
        let run = try PT.run("identity", m)
        let g = run.transaction.model.graph
        XCTAssertEqual(g.nodes.map(\.opType), ["Relu"])
        XCTAssertEqual(g.nodes[0].outputs.array, ["y"])
        XCTAssertEqual(Set(g.nodes[0].provenance.sources), Set(m.graph.nodes.map(\.id)))
        PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [2, 3]), try PT.outputs(m, input: "x", shape: [2, 3]))
    }
}
