import XCTest
import GraphIR
@testable import GraphPasses

final class FuseConvAffineTests: XCTestCase {
    static func model(scale: [Int64], bias: [Int64]) -> Model {
        let ns = Int(scale.reduce(1, *)), nb = Int(bias.reduce(1, *))
        return PT.model([Node(opType: "Conv", name: "conv", inputs: ["x", "W", "B"], outputs: ["c"], attributes: [Attribute("kernel_shape", .ints([1, 1]))]),
                         Node(opType: "Mul", inputs: ["c", "s"], outputs: ["m"]),
                         Node(opType: "Add", inputs: ["b", "m"], outputs: ["y"])],
                        inputs: [PT.f("x", [1, 2, 3, 3])], outputs: [PT.f("y", [1, 2, 3, 3])],
                        initializers: [PT.c("W", [0.5, -1, 2, 0.25], [2, 2, 1, 1]), PT.c("B", [0.1, -0.2], [2]),
                                       PT.c("s", (0..<ns).map { 1.5 - Float($0) }, scale), PT.c("b", (0..<nb).map { 0.3 + Float($0) }, bias)])
    }

    func testPerChannelMulAndAddFoldIntoTheConv() throws {
        for (scale, bias) in [([2, 1, 1], [1, 2, 1, 1]), ([1], [2, 1, 1])] as [([Int64], [Int64])] {
            let m = Self.model(scale: scale, bias: bias)
            let run = try PT.run("fuse-conv-affine,dce", m)
            let g = run.transaction.model.graph
            XCTAssertEqual(g.nodes.map(\.opType), ["Conv"], "scale \(scale) bias \(bias)")
            XCTAssertEqual(Set(g.nodes[0].provenance.sources), Set(m.graph.nodes.map(\.id)))
            PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [1, 2, 3, 3]), try PT.outputs(m, input: "x", shape: [1, 2, 3, 3]))
        }
    }

    func testAConstantAlongWidthIsANearMiss() throws {
        let m = Self.model(scale: [3], bias: [3])
        let run = try PT.run("fuse-conv-affine", m)
        XCTAssertFalse(run.changed)
        XCTAssertEqual(run.nearMisses.first?.condition, "the constant is not one value per output channel")
    }
}
