import XCTest
import GraphIR
@testable import GraphPasses

final class DeadCodeEliminationTests: XCTestCase {
    func testRemovesDeadChainsAndUnusedInitializersButKeepsAnnotated() throws {
        var keep = Node(opType: "Neg", inputs: ["x"], outputs: ["k"])
        keep.annotations["keep"] = "true"
        let m = PT.model([Node(opType: "Relu", inputs: ["x"], outputs: ["y"]),
                          Node(opType: "Exp", inputs: ["x"], outputs: ["d1"]), Node(opType: "Add", inputs: ["d1", "w"], outputs: ["d2"]),
                          keep],
                         inputs: [PT.f("x", [2])], outputs: [PT.f("y", [2])], initializers: [PT.c("w", [1, 2], [2])])
        let run = try PT.run("dce", m)
        let g = run.transaction.model.graph
        XCTAssertEqual(g.nodes.map(\.opType), ["Relu", "Neg"], "the dead Exp/Add chain goes, the keep=true Neg stays")
        XCTAssertNil(g.initializer(named: "w"))
        XCTAssertEqual(run.records.first?.groups.count, 2)
    }
}
