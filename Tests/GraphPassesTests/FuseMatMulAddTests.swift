import XCTest
import GraphIR
@testable import GraphPasses

final class FuseMatMulAddTests: XCTestCase {
    static func model(x: [Int64], bias: [Int64]) -> Model {
        let n = Int(bias.reduce(1, *))
        return PT.model([Node(opType: "MatMul", inputs: ["x", "W"], outputs: ["p"]), Node(opType: "Add", inputs: ["p", "B"], outputs: ["y"])],
                        inputs: [PT.f("x", x)], outputs: [PT.f("y", x.dropLast() + [4])],
                        initializers: [PT.c("W", (0..<12).map { Float($0) / 5 - 1 }, [3, 4]), PT.c("B", (0..<n).map { Float($0) * 0.3 }, bias)])
    }

    func testRank2MatMulAddBecomesGemm() throws {
        for bias in [[4], [1, 4], [2, 4]] as [[Int64]] {
            let m = Self.model(x: [2, 3], bias: bias)
            let run = try PT.run("fuse-matmul-add", m)
            let g = run.transaction.model.graph
            XCTAssertEqual(g.nodes.map(\.opType), ["Gemm"], "bias \(bias)")
            XCTAssertEqual(Set(g.nodes[0].provenance.sources), Set(m.graph.nodes.map(\.id)))
            PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [2, 3]), try PT.outputs(m, input: "x", shape: [2, 3]))
        }
    }

    func testRank3AndBadBiasAreNearMisses() throws {
        var run = try PT.run("fuse-matmul-add", Self.model(x: [5, 2, 3], bias: [4]))
        XCTAssertFalse(run.changed)
        XCTAssertEqual(run.nearMisses.first?.condition, "A or B is not of rank 2")
        run = try PT.run("fuse-matmul-add", Self.model(x: [2, 3], bias: [2, 1, 4]))
        XCTAssertFalse(run.changed)
        XCTAssertEqual(run.nearMisses.first?.condition, "the bias does not broadcast to the product by Gemm's rule")
    }
}
