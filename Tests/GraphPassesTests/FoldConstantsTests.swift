import XCTest
import GraphIR
@testable import GraphPasses

final class FoldConstantsTests: XCTestCase {
    func testConstantSubgraphBecomesAnInitializerWithSameNumbers() throws {
        // y = x * (a + b) + Sqrt(c): Add and Sqrt read only constants.
        let m = PT.model([Node(opType: "Add", inputs: ["a", "b"], outputs: ["ab"]),
                          Node(opType: "Constant", inputs: [], outputs: ["c"], attributes: [Attribute("value", .tensor(PT.c("", [4, 9, 16], [3])))]),
                          Node(opType: "Sqrt", inputs: ["c"], outputs: ["sc"]),
                          Node(opType: "Mul", inputs: ["x", "ab"], outputs: ["xm"]),
                          Node(opType: "Add", inputs: ["xm", "sc"], outputs: ["y"])],
                         inputs: [PT.f("x", [2, 3])], outputs: [PT.f("y", [2, 3])],
                         initializers: [PT.c("a", [1, 2, 3], [3]), PT.c("b", [0.5, -1, 0.25], [3])])
        let run = try PT.run("fold-constants,dce", m)
        let g = run.transaction.model.graph
        XCTAssertEqual(g.nodes.map(\.opType), ["Mul", "Add"])
        XCTAssertEqual(try g.initializer(named: "ab")?.floatValues(), [1.5, 1, 3.25])
        XCTAssertEqual(try g.initializer(named: "sc")?.floatValues(), [2, 3, 4])
        XCTAssertEqual(run.records.first?.groups.count, 2)
        PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [2, 3]), try PT.outputs(m, input: "x", shape: [2, 3]))
    }

    func testShapeOfAKnownShapeFoldsAndTheReshapeGoes() throws {
        // Reshape(z, Concat(Gather(Shape(x), 0), [-1])) with x of static shape [2, 3, 4].
        let m = PT.model([Node(opType: "Shape", inputs: ["x"], outputs: ["s"]),
                          Node(opType: "Gather", inputs: ["s", "i0"], outputs: ["d0"], attributes: [Attribute("axis", .int(0))]),
                          Node(opType: "Concat", inputs: ["d0", "m1"], outputs: ["shape"], attributes: [Attribute("axis", .int(0))]),
                          Node(opType: "Relu", inputs: ["x"], outputs: ["r"]),
                          Node(opType: "Reshape", inputs: ["r", "shape"], outputs: ["y"])],
                         inputs: [PT.f("x", [2, 3, 4])], outputs: [PT.f("y", [2, 12])],
                         initializers: [Tensor(name: "i0", int64s: [0], dims: [1]), Tensor(name: "m1", int64s: [-1], dims: [1])])
        let run = try PT.run("fold-constants,dce", m)
        let g = run.transaction.model.graph
        XCTAssertEqual(g.nodes.map(\.opType), ["Relu", "Reshape"])
        XCTAssertEqual(try g.initializer(named: "shape")?.int64Values(), [2, -1])
        PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [2, 3, 4]), try PT.outputs(m, input: "x", shape: [2, 3, 4]))
    }

    func testLargeResultsStayUnderTheLimitAndFoldAboveIt() throws {
        let m = PT.model([Node(opType: "ConstantOfShape", inputs: ["dims"], outputs: ["z"], attributes: [Attribute("value", .tensor(PT.c("", [0.5], [1])))]),
                          Node(opType: "Add", inputs: ["x", "z"], outputs: ["y"])],
                         inputs: [PT.f("x", [64, 32])], outputs: [PT.f("y", [64, 32])],
                         initializers: [Tensor(name: "dims", int64s: [64, 32], dims: [2])])
        var opts = PassOptions(foldLimit: 1000)
        var run = try PassManager(passes: BuiltInPasses.pipeline("fold-constants"), options: opts).run(m, origin: "t")
        XCTAssertFalse(run.changed)
        XCTAssertTrue(run.nearMisses.contains { $0.condition.contains("2048 elements, more than fold_limit=1000") }, "\(run.nearMisses)")
        opts.foldLimit = 4096
        run = try PassManager(passes: BuiltInPasses.pipeline("fold-constants,dce"), options: opts).run(m, origin: "t")
        XCTAssertEqual(run.transaction.model.graph.nodes.map(\.opType), ["Add"])
        PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [64, 32]), try PT.outputs(m, input: "x", shape: [64, 32]))
    }

    func testKeepTrueNodeIsNotFolded() throws {
        var m = PT.model([Node(opType: "Neg", inputs: ["a"], outputs: ["na"]), Node(opType: "Add", inputs: ["x", "na"], outputs: ["y"])],
                         inputs: [PT.f("x", [3])], outputs: [PT.f("y", [3])], initializers: [PT.c("a", [1, 2, 3], [3])])
        let neg = m.graph.nodes[0].id
        try m.graph.annotate(neg, key: "keep", value: "true")
        let run = try PT.run("fold-constants", m)
        XCTAssertFalse(run.changed)
        XCTAssertEqual(run.nearMisses.first?.condition, "annotation keep=true")
    }

    func testRandomOpsAreNotFolded() throws {
        let m = PT.model([Node(opType: "RandomUniformLike", inputs: ["a"], outputs: ["r"]), Node(opType: "Add", inputs: ["x", "r"], outputs: ["y"])],
                         inputs: [PT.f("x", [3])], outputs: [PT.f("y", [3])], initializers: [PT.c("a", [1, 2, 3], [3])])
        XCTAssertFalse(try PT.run("fold-constants", m).changed)
    }
}

final class FoldConstantsLegacyIRTests: XCTestCase {
    /// Under IR version 3 every initializer is also a graph input and still a constant; what
    /// folding makes is listed as an input too, as the checker requires.
    func testIRVersion3InitializersFoldAndNewOnesAreInputs() throws {
        var m = PT.model([Node(opType: "ConstantOfShape", inputs: ["dims"], outputs: ["w"], attributes: [Attribute("value", .tensor(PT.c("", [0.25], [1])))]),
                          Node(opType: "Mul", inputs: ["x", "w"], outputs: ["y"])],
                         inputs: [PT.f("x", [2, 3]), ValueInfo(name: "dims", type: .tensor(.int64, TensorShape(static: [2])))], outputs: [PT.f("y", [2, 3])],
                         initializers: [Tensor(name: "dims", int64s: [2, 3], dims: [2])], opset: 9)
        m.irVersion = 3
        let run = try PT.run("fold-constants,dce", m)
        let g = run.transaction.model.graph
        XCTAssertEqual(g.nodes.map(\.opType), ["Mul"])
        XCTAssertEqual(Set(g.inputs.map(\.name)), ["x", "w"], "w is an initializer listed as input; the unused dims went with its input")
        XCTAssertTrue(run.checked?.problems.filter { $0.severity == .error }.isEmpty ?? false)
        PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [2, 3]), try PT.outputs(m, input: "x", shape: [2, 3]))
    }
}

final class FoldConstantsReshapeTests: XCTestCase {
    /// Reshape(x, Concat(Shape(x)[0], [-1])) with a symbolic batch: the shape becomes [0, -1].
    func testComputedShapeWithSymbolicBatchBecomesConstant() throws {
        let x = ValueInfo(name: "x", type: .tensor(.float, TensorShape([.symbolic("N"), .known(3), .known(4)])))
        let m = PT.model([Node(opType: "Shape", inputs: ["x"], outputs: ["s"]),
                          Node(opType: "Slice", inputs: ["s", "st", "en"], outputs: ["n"]),
                          Node(opType: "Concat", inputs: ["n", "m1"], outputs: ["shape"], attributes: [Attribute("axis", .int(0))]),
                          Node(opType: "Reshape", inputs: ["x", "shape"], outputs: ["y"])],
                         inputs: [x], outputs: [ValueInfo(name: "y", type: .tensor(.float, TensorShape([.symbolic("N"), .known(12)])))],
                         initializers: [Tensor(name: "st", int64s: [0], dims: [1]), Tensor(name: "en", int64s: [1], dims: [1]),
                                        Tensor(name: "m1", int64s: [-1], dims: [1])], opset: 13)
        let run = try PT.run("fold-constants,dce", m)
        let g = run.transaction.model.graph
        XCTAssertEqual(g.nodes.map(\.opType), ["Reshape"])
        XCTAssertEqual(try g.initializer(named: g.nodes[0].inputs[1])?.int64Values(), [0, -1])
        PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [5, 3, 4]), try PT.outputs(m, input: "x", shape: [5, 3, 4]))
    }
}

/// Identical foldable nodes (same op, attributes and small constant inputs) are evaluated once:
/// their initializers share one buffer with the right values, which dedupe then merges without
/// comparing bytes; a node that differs in an attribute or an input gets its own result.
final class FoldConstantsSharingTests: XCTestCase {
    func testIdenticalNodesShareOneResultAndDifferentOnesDoNot() throws {
        func cos(_ out: String, _ dims: String, _ v: Float) -> Node {
            Node(opType: "ConstantOfShape", inputs: [dims], outputs: [out], attributes: [Attribute("value", .tensor(PT.c("", [v], [1])))])
        }
        let m = PT.model([cos("z1", "d", 0.5), cos("z2", "d", 0.5), cos("z3", "d", 0.25), cos("z4", "e", 0.5),
                          Node(opType: "Add", inputs: ["x", "z1"], outputs: ["a1"]), Node(opType: "Add", inputs: ["a1", "z2"], outputs: ["a2"]),
                          Node(opType: "Add", inputs: ["a2", "z3"], outputs: ["a3"]), Node(opType: "Add", inputs: ["a3", "z4"], outputs: ["y"])],
                         inputs: [PT.f("x", [4, 8])], outputs: [PT.f("y", [4, 8])],
                         initializers: [Tensor(name: "d", int64s: [4, 8], dims: [2]), Tensor(name: "e", int64s: [8], dims: [1])])
        let run = try PT.run("fold-constants", m)
        let g = run.transaction.model.graph
        func address(_ name: String) throws -> Int {
            let t = try XCTUnwrap(g.initializer(named: name), name)
            return try t.withUnsafeBytes { Int(bitPattern: $0.baseAddress) }
        }
        XCTAssertEqual(try address("z1"), try address("z2"), "identical ConstantOfShape nodes share a buffer")
        XCTAssertNotEqual(try address("z1"), try address("z3"), "another fill value is another result")
        XCTAssertNotEqual(try address("z1"), try address("z4"), "another shape is another result")
        XCTAssertEqual(try g.initializer(named: "z2")?.floatValues(), Array(repeating: 0.5, count: 32))
        XCTAssertEqual(try g.initializer(named: "z3")?.floatValues(), Array(repeating: 0.25, count: 32))
        XCTAssertEqual(g.initializer(named: "z4")?.dims, [8])
        PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [4, 8]), try PT.outputs(m, input: "x", shape: [4, 8]))
    }
}
