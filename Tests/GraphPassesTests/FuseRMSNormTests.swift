import XCTest
import GraphIR
@testable import GraphPasses

final class FuseRMSNormTests: XCTestCase {
    func testSevenNodesBecomeRMSNormalization() throws {
        let m = PT.model([Node(opType: "Pow", inputs: ["x", "two"], outputs: ["p"]),
                          Node(opType: "ReduceMean", inputs: ["p"], outputs: ["v"], attributes: [Attribute("axes", .ints([-1]))]),
                          Node(opType: "Add", inputs: ["v", "eps"], outputs: ["ve"]),
                          Node(opType: "Sqrt", inputs: ["ve"], outputs: ["s"]),
                          Node(opType: "Reciprocal", inputs: ["s"], outputs: ["rs"]),
                          Node(opType: "Mul", inputs: ["x", "rs"], outputs: ["n"]),
                          Node(opType: "Mul", inputs: ["n", "g"], outputs: ["y"])],
                         inputs: [PT.f("x", [2, 4])], outputs: [PT.f("y", [2, 4])],
                         initializers: [PT.c("two", [2]), PT.c("eps", [1e-6]), PT.c("g", [1, 2, 3, 4], [4])], opset: 17)
        let run = try PT.run("fuse-rmsnorm,dce", m)
        let out = run.transaction.model
        XCTAssertEqual(out.graph.nodes.map(\.opType), ["RMSNormalization"])
        XCTAssertEqual(out.graph.nodes[0].inputs.array, ["x", "g"])
        XCTAssertEqual(out.opsetVersion(for: ""), 23, "ReduceMean's axes move to an input on the way to 23")
        XCTAssertEqual(run.records.first?.groups.first?.description, "7 nodes -> 1 RMSNormalization (fuse-rmsnorm)")
    }

    func testACentredInputIsLeftToLayerNorm() throws {
        let m = FuseLayerNormTests.model(opset: 17)
        XCTAssertFalse(try PT.run("fuse-rmsnorm", m).changed)
    }
}
