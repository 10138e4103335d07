import XCTest
import GraphIR
@testable import GraphPasses

final class FuseParallelMatMulTests: XCTestCase {
    static func model(_ count: Int, opset: Int64 = 13) -> Model {
        var nodes: [Node] = []
        var inits: [Tensor] = []
        for i in 0..<count {
            nodes.append(Node(opType: "MatMul", inputs: ["x", "W\(i)"], outputs: ["q\(i)"]))
            inits.append(PT.c("W\(i)", (0..<(3 * (i + 2))).map { Float(($0 * 7 + i) % 11) / 5 - 1 }, [3, Int64(i + 2)]))
        }
        nodes.append(Node(opType: "Concat", inputs: (0..<count).map { "q\($0)" }, outputs: ["y"], attributes: [Attribute("axis", .int(-1))]))
        let width = Int64((0..<count).map { $0 + 2 }.reduce(0, +))
        return PT.model(nodes, inputs: [PT.f("x", [2, 4, 3])], outputs: [PT.f("y", [2, 4, width])], initializers: inits, opset: opset)
    }

    func testThreeProjectionsBecomeOneMatMulAndASplit() throws {
        for opset in [11, 13] as [Int64] {
            let m = Self.model(3, opset: opset)
            let run = try PT.run("fuse-parallel-matmul,dce", m)
            let g = run.transaction.model.graph
            XCTAssertEqual(g.nodes.map(\.opType), ["MatMul", "Split", "Concat"], "opset \(opset)")
            XCTAssertEqual(Set(g.nodes[1].provenance.sources), Set(m.graph.nodes.filter { $0.opType == "MatMul" }.map(\.id)))
            PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [2, 4, 3]), try PT.outputs(m, input: "x", shape: [2, 4, 3]))
        }
    }

    func testTwoStayAndFuseFalseIsRespected() throws {
        XCTAssertFalse(try PT.run("fuse-parallel-matmul", Self.model(2)).changed)
        var m = Self.model(3)
        try m.graph.annotate(m.graph.nodes[1].id, key: "fuse", value: "false")
        let run = try PT.run("fuse-parallel-matmul", m)
        XCTAssertFalse(run.changed)
        XCTAssertEqual(run.nearMisses.first?.failedAt, m.graph.nodes[1].id)
    }
}
