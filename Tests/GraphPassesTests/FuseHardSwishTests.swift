import XCTest
import GraphIR
@testable import GraphPasses

final class FuseHardSwishTests: XCTestCase {
    func testWrittenOutHardSwishRaisesOpsetAndKeepsNumbers() throws {
        let m = PT.model([Node(opType: "Add", inputs: ["x", "three"], outputs: ["a"]),
                          Node(opType: "Clip", inputs: ["a", "zero", "six"], outputs: ["c"]),
                          Node(opType: "Mul", inputs: ["x", "c"], outputs: ["p"]),
                          Node(opType: "Div", inputs: ["p", "six"], outputs: ["y"])],
                         inputs: [PT.f("x", [2, 4])], outputs: [PT.f("y", [2, 4])],
                         initializers: [PT.c("three", [3]), PT.c("zero", [0]), PT.c("six", [6])], opset: 12)
        let run = try PT.run("fuse-hardswish,dce", m)
        let out = run.transaction.model
        XCTAssertEqual(out.graph.nodes.map(\.opType), ["HardSwish"])
        XCTAssertEqual(out.opsetVersion(for: ""), 14)
        PT.assertClose(try PT.outputs(out, input: "x", shape: [2, 4]), try PT.outputs(m, input: "x", shape: [2, 4]))
    }

    func testWrongConstantIsANearMissNamingTheNode() throws {
        let m = PT.model([Node(opType: "Add", inputs: ["x", "two"], outputs: ["a"]),
                          Node(opType: "Clip", inputs: ["a", "zero", "six"], outputs: ["y"])],
                         inputs: [PT.f("x", [2])], outputs: [PT.f("y", [2])],
                         initializers: [PT.c("two", [2]), PT.c("zero", [0]), PT.c("six", [6])], opset: 13)
        let run = try PT.run("fuse-hardswish", m)
        XCTAssertFalse(run.changed)
        XCTAssertEqual(run.nearMisses.first?.condition, "Add does not add 3")
        XCTAssertEqual(run.nearMisses.first?.failedAt, m.graph.nodes[0].id)
    }
}
