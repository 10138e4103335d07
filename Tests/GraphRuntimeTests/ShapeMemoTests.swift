/// Kernels keep the shapes they derive from one call to the next (`ShapeMemo`), so a repeated
/// run allocates nothing for them. These tests check that a kept geometry is never reused for
/// inputs it was not computed for: the same plan run with index inputs whose contents change
/// (Slice bounds, Reshape and Expand targets, Pad widths, Split sizes, Unsqueeze axes, Resize
/// sizes) must give what a fresh interpreter gives, and a Loop body whose shapes grow on every
/// iteration must still concatenate and broadcast correctly.
import GraphIR
import XCTest
@testable import GraphRuntime

final class ShapeMemoTests: XCTestCase {
    func testTheMemoRecomputesOnlyWhenItsKeyChanges() throws {
        let memo = ShapeMemo<[Int]>()
        var computed = 0
        func geometry(_ shape: [Int], _ contents: RuntimeTensor?) -> [Int] {
            memo.geometry({ $0.add(shape); $0.addContents(contents) }) { computed += 1; return shape + [computed] }
        }
        let a = RuntimeTensor(int64s: [1, 2], shape: [2]), b = RuntimeTensor(int64s: [1, 3], shape: [2])
        XCTAssertEqual(geometry([2, 3], a), [2, 3, 1])
        XCTAssertEqual(geometry([2, 3], a), [2, 3, 1])
        XCTAssertEqual(computed, 1)
        XCTAssertEqual(geometry([2, 3], b), [2, 3, 2])  // contents differ
        XCTAssertEqual(geometry([3, 2], b), [3, 2, 3])  // shape differs
        XCTAssertEqual(geometry([3, 2], nil), [3, 2, 4])  // input omitted
        XCTAssertEqual(geometry([3, 2, 1], nil), [3, 2, 1, 5])  // rank differs
        XCTAssertEqual(geometry([3, 2, 1], nil), [3, 2, 1, 5])
        XCTAssertEqual(computed, 5)
        // A failing computation leaves no geometry behind for its key.
        XCTAssertThrowsError(try memo.geometry({ $0.add([9]) }) { throw KernelError("bad") })
        XCTAssertEqual(geometry([3, 2, 1], nil), [3, 2, 1, 5])
        XCTAssertEqual(computed, 5)
    }

    /// x[4, 6] -> Slice(starts, ends) -> Reshape(target) -> Expand(shape) -> Pad(pads) ->
    /// Unsqueeze(axes) -> Split(sizes) (two outputs), and x -> Resize(sizes): every index input
    /// is a graph input, so one plan serves runs with different contents.
    func dynamicModel() -> Model {
        func int64s(_ name: String, _ n: Int) -> ValueInfo { ValueInfo(name: name, type: .tensor(.int64, TensorShape(static: [Int64(n)]))) }
        let nodes = [
            Node(opType: "Slice", inputs: ["x", "starts", "ends", "axes"], outputs: ["s"]),
            Node(opType: "Reshape", inputs: ["s", "target"], outputs: ["r"]),
            Node(opType: "Expand", inputs: ["r", "expand"], outputs: ["e"]),
            Node(opType: "Pad", inputs: ["e", "pads"], outputs: ["p"], attributes: [Attribute("mode", .string(Array("edge".utf8)))]),
            Node(opType: "Unsqueeze", inputs: ["p", "uaxes"], outputs: ["u"]),
            Node(opType: "Split", inputs: ["u", "split"], outputs: ["a", "b"], attributes: [Attribute("axis", .int(-1))]),
            Node(opType: "Resize", inputs: ["x", "", "", "sizes"], outputs: ["z"]),
        ]
        let g = Graph(nodes: nodes,
                      inputs: [ValueInfo(name: "x", type: .tensor(.float, TensorShape(static: [4, 6]))),
                               int64s("starts", 2), int64s("ends", 2), int64s("axes", 2), int64s("target", 2),
                               int64s("expand", 3), int64s("pads", 6), int64s("uaxes", 1), int64s("split", 2),
                               int64s("sizes", 2)],
                      outputs: [ValueInfo(name: "a"), ValueInfo(name: "b"), ValueInfo(name: "z")])
        return Model(graph: g, opsetImports: [OpsetImport(version: 18)])
    }

    func testChangingIndexInputsOnOnePlanMatchAFreshInterpreter() throws {
        let model = dynamicModel()
        let kept = try Interpreter(model: model)
        let x = RuntimeTensor(floats: (0..<24).map { Float($0) }, shape: [4, 6])
        func i64(_ v: [Int64]) -> RuntimeTensor { RuntimeTensor(int64s: v, shape: [v.count]) }
        // (starts, ends, target, expand, pads, unsqueeze axis, split sizes, resize sizes)
        let cases: [([Int64], [Int64], [Int64], [Int64], [Int64], [Int64], [Int64], [Int64])] = [
            // [2, 6] -> [3, 4] -> [2, 3, 4] -> [2, 4, 6] -> [1, 2, 4, 6] -> 3 + 3; Resize to [8, 12]
            ([0, 0], [2, 6], [3, 4], [2, 3, 4], [0, 1, 0, 0, 0, 2], [0], [3, 3], [8, 12]),
            // [2, 4] -> [4, 2] -> [1, 4, 2] -> [2, 6, 3] -> [1, 2, 6, 3] -> 2 + 1; Resize to [2, 3]
            ([1, 2], [3, 6], [4, 2], [1, 4, 2], [1, 0, 1, 0, 2, 0], [0], [2, 1], [2, 3]),
            ([0, 0], [2, 6], [3, 4], [2, 3, 4], [0, 1, 0, 0, 0, 2], [0], [3, 3], [8, 12]),  // the first again
            // [4, 3] -> [2, 6] -> [2, 2, 6] -> unpadded -> [2, 1, 2, 6] -> 1 + 5; Resize to [4, 6]
            ([0, 1], [4, 4], [2, 6], [2, 2, 6], [0, 0, 0, 0, 0, 0], [1], [1, 5], [4, 6]),
        ]
        for (k, c) in cases.enumerated() {
            let feeds = ["x": x, "starts": i64(c.0), "ends": i64(c.1), "axes": i64([0, 1]), "target": i64(c.2),
                         "expand": i64(c.3), "pads": i64(c.4), "uaxes": i64(c.5), "split": i64(c.6), "sizes": i64(c.7)]
            let got = try kept.run(feeds).outputs
            let want = try Interpreter(model: model).run(feeds).outputs
            XCTAssertEqual(got.count, want.count)
            for (g, w) in zip(got, want) {
                XCTAssertEqual(g.tensor.shape, w.tensor.shape, "case \(k), output \(g.name)")
                XCTAssertEqual(g.tensor.floatValues(), w.tensor.floatValues(), "case \(k), output \(g.name)")
            }
        }
    }

    /// Loop: state v starts as [1] and each iteration concatenates [i] and adds a broadcast
    /// row: the body's Concat and Add see a longer shape on every call.
    func testALoopBodyWhoseShapesGrowEveryIteration() throws {
        let one = Tensor(name: "one", floats: [1], dims: [1])
        let body = Graph(name: "body", nodes: [
            Node(opType: "Cast", inputs: ["i"], outputs: ["fi"], attributes: [Attribute("to", .int(1))]),
            Node(opType: "Unsqueeze", inputs: ["fi", "zero"], outputs: ["row"]),
            Node(opType: "Concat", inputs: ["v_in", "row"], outputs: ["cat"], attributes: [Attribute("axis", .int(0))]),
            Node(opType: "Add", inputs: ["cat", "one"], outputs: ["v_out"]),
            Node(opType: "Identity", inputs: ["cond_in"], outputs: ["cond_out"]),
        ], inputs: [ValueInfo(name: "i", type: .tensor(.int64, TensorShape(static: []))),
                    ValueInfo(name: "cond_in", type: .tensor(.bool, TensorShape(static: []))),
                    ValueInfo(name: "v_in", type: .tensor(.float, nil))],
           outputs: [ValueInfo(name: "cond_out"), ValueInfo(name: "v_out")],
           initializers: [one, Tensor(name: "zero", int64s: [0], dims: [1])])
        let loop = Node(opType: "Loop", inputs: ["n", "", "v0"], outputs: ["v"], attributes: [Attribute("body", .graph(body))])
        let g = Graph(nodes: [loop],
                      inputs: [ValueInfo(name: "n", type: .tensor(.int64, TensorShape(static: []))),
                               ValueInfo(name: "v0", type: .tensor(.float, TensorShape(static: [1])))],
                      outputs: [ValueInfo(name: "v")])
        let interpreter = try Interpreter(model: Model(graph: g, opsetImports: [OpsetImport(version: 17)]))
        for trips in [4, 2, 5] as [Int64] {
            let out = try interpreter.run(["n": RuntimeTensor(int64s: [trips], shape: []),
                                           "v0": RuntimeTensor(floats: [10], shape: [1])]).outputs[0].tensor
            // Each iteration adds 1 to everything so far and appends i + 1.
            var want: [Float] = [10]
            for i in 0..<Int(trips) { want = (want + [Float(i)]).map { $0 + 1 } }
            XCTAssertEqual(out.shape, [Int(trips) + 1])
            XCTAssertEqual(out.floatValues(), want, "\(trips) trips")
        }
    }
}
