// Tests of the packed walk (PackedWalk.swift, PackedRules.swift): on graphs that exercise each
// packed rule in its plain forms and the forms it hands back (errors, known contents, symbolic
// sizes, declared types that fill or contradict), it gives exactly the general walk's facts and
// problems; and a table of packed records behaves as a `FactTable` under reads, writes, folds
// and iteration. `Tests/e2e/test_packed_walk.py` compares the two walks over the corpus and the
// ONNX node tests.
import XCTest
import GraphIR
@testable import GraphOps

final class PackedWalkTests: XCTestCase {
    func tensor(_ name: String, _ e: ElementType, _ dims: [Dim]) -> ValueInfo {
        ValueInfo(name: name, type: .tensor(e, TensorShape(dims)))
    }

    /// Both walks over `g`: the same facts for every value and the same problems.
    func assertWalksAgree(_ g: Graph, opsets: [String: Int64] = ["": 17], file: StaticString = #filePath,
                          line: UInt = #line) {
        XCTAssertTrue(InferenceEngine.packedWalkApplies(g), "the graph should take the packed walk", file: file, line: line)
        XCTAssertTrue(InferenceEngine(opsets: opsets, functions: [], registry: .builtIn).packedWalkPays(g),
                      "the graph is made of ops with packed rules", file: file, line: line)
        let packed = ShapeInference.infer(g, opsets: opsets, walk: .packed)
        let general = ShapeInference.infer(g, opsets: opsets, walk: .general)
        XCTAssertEqual(packed.values.count, general.values.count, file: file, line: line)
        for (name, facts) in general.values {
            XCTAssertEqual(packed.values[name], facts, "value \(name)", file: file, line: line)
        }
        XCTAssertEqual(packed.values, general.values, file: file, line: line)
        XCTAssertEqual(packed.problems, general.problems, file: file, line: line)
    }

    func testConvolutionsAndPoolingAgree() {
        let g = Graph(nodes: [
            Node(opType: "Conv", name: "plain", inputs: ["x", "w"], outputs: ["c1"],
                 attributes: [Attribute("kernel_shape", .ints([3, 3])), Attribute("pads", .ints([1, 1, 1, 1]))]),
            Node(opType: "Conv", name: "strided", inputs: ["c1", "w2", "b2"], outputs: ["c2"],
                 attributes: [Attribute("strides", .ints([2, 2])), Attribute("dilations", .ints([2, 1]))]),
            Node(opType: "Conv", name: "same", inputs: ["c2", "w3"], outputs: ["c3"],
                 attributes: [Attribute("auto_pad", .text("SAME_UPPER")), Attribute("strides", .ints([2, 2]))]),
            Node(opType: "Conv", name: "valid", inputs: ["c3", "w3"], outputs: ["c4"],
                 attributes: [Attribute("auto_pad", .text("VALID"))]),
            Node(opType: "MaxPool", name: "ceil", inputs: ["c4"], outputs: ["p1", "idx"],
                 attributes: [Attribute("kernel_shape", .ints([3, 3])), Attribute("strides", .ints([2, 2])),
                              Attribute("ceil_mode", .int(1))]),
            Node(opType: "AveragePool", name: "avg", inputs: ["p1"], outputs: ["p2"],
                 attributes: [Attribute("kernel_shape", .ints([2, 2])), Attribute("pads", .ints([0, 0, 1, 1]))]),
            Node(opType: "GlobalAveragePool", inputs: ["p2"], outputs: ["g"]),
            Node(opType: "BatchNormalization", inputs: ["g", "s", "bb", "m", "v"], outputs: ["bn"]),
            Node(opType: "Relu", inputs: ["bn"], outputs: ["r"]),
            Node(opType: "Flatten", inputs: ["r"], outputs: ["f"]),
            Node(opType: "Gemm", inputs: ["f", "fc", "fcb"], outputs: ["y"], attributes: [Attribute("transB", .int(1))]),
            // A symbolic spatial size goes through the window arithmetic, and a 1-D conv.
            Node(opType: "Conv", name: "symbolic", inputs: ["z", "w"], outputs: ["zc"],
                 attributes: [Attribute("strides", .ints([2, 2]))]),
            Node(opType: "Conv", name: "oneD", inputs: ["seq", "w1"], outputs: ["sc"], attributes: [Attribute("pads", .ints([1, 1]))]),
            Node(opType: "MaxPool", name: "unranked", inputs: ["u"], outputs: ["up"], attributes: [Attribute("kernel_shape", .ints([2]))]),
        ], inputs: [tensor("x", .float, [.known(1), .known(3), .known(32), .known(30)]),
                    tensor("z", .float, [.symbolic("N"), .known(3), .symbolic("H"), .unknown]),
                    tensor("seq", .float, [.known(2), .known(4), .symbolic("T")]),
                    ValueInfo(name: "u", type: .tensor(.float, nil))],
           outputs: [ValueInfo(name: "y")],
           initializers: [Tensor(name: "w", floats: Array(repeating: 0, count: 8 * 27), dims: [8, 3, 3, 3]),
                          Tensor(name: "w2", floats: Array(repeating: 0, count: 16 * 72), dims: [16, 8, 3, 3]),
                          Tensor(name: "b2", floats: Array(repeating: 0, count: 16), dims: [16]),
                          Tensor(name: "w3", floats: Array(repeating: 0, count: 16 * 16 * 9), dims: [16, 16, 3, 3]),
                          Tensor(name: "w1", floats: Array(repeating: 0, count: 6 * 4 * 3), dims: [6, 4, 3]),
                          Tensor(name: "s", floats: Array(repeating: 1, count: 16), dims: [16]),
                          Tensor(name: "bb", floats: Array(repeating: 0, count: 16), dims: [16]),
                          Tensor(name: "m", floats: Array(repeating: 0, count: 16), dims: [16]),
                          Tensor(name: "v", floats: Array(repeating: 1, count: 16), dims: [16]),
                          Tensor(name: "fc", floats: Array(repeating: 0, count: 10 * 16), dims: [10, 16]),
                          Tensor(name: "fcb", floats: Array(repeating: 0, count: 10), dims: [10])])
        assertWalksAgree(g)
        let r = ShapeInference.infer(g, opsets: ["": 17])
        XCTAssertEqual(r.type(of: "y")?.dims, [SymDim(1), SymDim(10)])
        XCTAssertEqual(r.type(of: "idx")?.elementType, .int64)
    }

    func testProblemsAreTheGeneralRulesOwn() {
        // Each of these the packed rules hand back: the general rule reports it.
        let g = Graph(nodes: [
            Node(opType: "Conv", name: "noKernel", inputs: ["x", "wu"], outputs: ["c1"]),
            Node(opType: "Conv", name: "badStride", inputs: ["x", "w"], outputs: ["c2"],
                 attributes: [Attribute("strides", .ints([0, 1]))]),
            Node(opType: "Conv", name: "wrongPads", inputs: ["x", "w"], outputs: ["c3"], attributes: [Attribute("pads", .ints([1]))]),
            Node(opType: "Add", name: "noBroadcast", inputs: ["x", "v5"], outputs: ["a"]),
            Node(opType: "Add", name: "mixedTypes", inputs: ["x", "ints"], outputs: ["a2"]),
            Node(opType: "Concat", name: "rankMismatch", inputs: ["x", "v5"], outputs: ["cc"], attributes: [Attribute("axis", .int(0))]),
            Node(opType: "Concat", name: "noAxis", inputs: ["x", "x"], outputs: ["cc2"]),
            Node(opType: "MatMul", name: "inner", inputs: ["m1", "m1"], outputs: ["mm"]),
            Node(opType: "Transpose", name: "badPerm", inputs: ["x"], outputs: ["t"], attributes: [Attribute("perm", .ints([0, 0, 1, 2]))]),
            Node(opType: "Unsqueeze", name: "repeat", inputs: ["v5"], outputs: ["us"], attributes: [Attribute("axes", .ints([0, 0]))]),
            Node(opType: "Relu", name: "missing", inputs: ["nowhere"], outputs: ["rr"]),
            // A declared type that contradicts the inferred one, and one that fills a size in.
            Node(opType: "Relu", name: "declared", inputs: ["x"], outputs: ["d1"]),
            Node(opType: "MaxPool", name: "filled", inputs: ["wu"], outputs: ["d2"], attributes: [Attribute("kernel_shape", .ints([2]))]),
        ], inputs: [tensor("x", .float, [.known(1), .known(3), .known(8), .known(8)]),
                    tensor("ints", .int64, [.known(1), .known(3), .known(8), .known(8)]),
                    tensor("v5", .float, [.known(5)]),
                    tensor("m1", .float, [.known(2), .known(3)]),
                    ValueInfo(name: "wu", type: .tensor(.float, nil))],
           outputs: [tensor("d1", .float, [.known(1), .known(3), .known(8), .known(9)]),
                     tensor("d2", .float, [.known(2), .known(7)])],
           initializers: [Tensor(name: "w", floats: Array(repeating: 0, count: 8 * 27), dims: [8, 3, 3, 3])])
        assertWalksAgree(g, opsets: ["": 11])
        let r = ShapeInference.infer(g, opsets: ["": 11])
        XCTAssertEqual(Set(r.problems.map(\.nodeName)),
                       ["noKernel", "badStride", "wrongPads", "noBroadcast", "mixedTypes", "rankMismatch", "noAxis",
                        "inner", "badPerm", "repeat", "missing", "declared"])
        XCTAssertEqual(r.type(of: "d2")?.dims, [SymDim(2), SymDim(7)], "the declaration fills the unknown shape")
    }

    func testKnownContentsAndSymbolsAgree() {
        let g = Graph(nodes: [
            // Weights the ConstantOfShape way, large (no contents) and small (contents kept).
            Node(opType: "ConstantOfShape", inputs: ["wshape"], outputs: ["w"],
                 attributes: [Attribute("value", .tensor(Tensor(name: "", floats: [0.02], dims: [1])))]),
            Node(opType: "ConstantOfShape", inputs: ["tiny"], outputs: ["ones"],
                 attributes: [Attribute("value", .tensor(Tensor(name: "", int64s: [1], dims: [1])))]),
            Node(opType: "ConstantOfShape", inputs: ["tiny"], outputs: ["zeros"]),
            Node(opType: "Constant", inputs: [], outputs: ["k"],
                 attributes: [Attribute("value", .tensor(Tensor(name: "", int64s: [2, 3], dims: [2])))]),
            Node(opType: "Constant", inputs: [], outputs: ["big"],
                 attributes: [Attribute("value", .tensor(Tensor(name: "", floats: Array(repeating: 1, count: 40), dims: [4, 10])))]),
            Node(opType: "Constant", inputs: [], outputs: ["vi"], attributes: [Attribute("value_ints", .ints([4, 5]))]),
            // Folding (both known) and not (one unknown); Identity and Flatten carry contents.
            Node(opType: "Add", inputs: ["k", "k"], outputs: ["k2"]),
            Node(opType: "Mul", inputs: ["x", "big"], outputs: ["xb"]),
            Node(opType: "Identity", inputs: ["k2"], outputs: ["k3"]),
            Node(opType: "Flatten", inputs: ["k3"], outputs: ["k4"], attributes: [Attribute("axis", .int(0))]),
            Node(opType: "Unsqueeze", inputs: ["k"], outputs: ["k5"], attributes: [Attribute("axes", .ints([0]))]),
            Node(opType: "Concat", inputs: ["k", "vi"], outputs: ["kc"], attributes: [Attribute("axis", .int(0))]),
            Node(opType: "Cast", inputs: ["k"], outputs: ["kf"], attributes: [Attribute("to", .int(1))]),
            Node(opType: "Transpose", inputs: ["big"], outputs: ["bt"]),
            Node(opType: "Reshape", inputs: ["xb", "k"], outputs: ["rs"]),
            // Symbolic sizes through broadcasting, MatMul's batch dims and Concat's sum.
            Node(opType: "Add", inputs: ["s1", "s2"], outputs: ["sum"]),
            Node(opType: "MatMul", inputs: ["s1", "mw"], outputs: ["mm"]),
            Node(opType: "MatMul", inputs: ["batched", "s1"], outputs: ["bm"]),
            Node(opType: "Concat", inputs: ["s1", "s2"], outputs: ["sc"], attributes: [Attribute("axis", .int(1))]),
            Node(opType: "Sum", inputs: ["s1", "s2", "s2"], outputs: ["s3"]),
            Node(opType: "Dropout", inputs: ["s1"], outputs: ["dd", "mask"]),
            Node(opType: "Softmax", inputs: ["s1"], outputs: ["sm"]),
            Node(opType: "Cast", inputs: ["s1"], outputs: ["half"], attributes: [Attribute("to", .int(10))]),
        ], inputs: [tensor("x", .float, [.known(4), .known(10)]),
                    tensor("s1", .float, [.symbolic("batch"), .symbolic("seq"), .known(8)]),
                    tensor("s2", .float, [.known(1), .symbolic("seq"), .known(8)]),
                    tensor("mw", .float, [.known(8), .known(16)]),
                    tensor("batched", .float, [.symbolic("batch"), .known(5), .symbolic("seq")])],
           outputs: [ValueInfo(name: "rs")],
           initializers: [Tensor(name: "wshape", int64s: [64, 3, 7, 7], dims: [4]),
                          Tensor(name: "tiny", int64s: [2, 2], dims: [2])])
        assertWalksAgree(g, opsets: ["": 11])
        let r = ShapeInference.infer(g, opsets: ["": 11])
        XCTAssertEqual(r.values["k4"]?.value, .ints([SymDim(4), SymDim(6)]))
        XCTAssertEqual(r.values["ones"]?.value, .ints(Array(repeating: SymDim(1), count: 4)))
        XCTAssertNil(r.values["w"]?.value)
        XCTAssertEqual(r.type(of: "w")?.dims, [SymDim(64), SymDim(3), SymDim(7), SymDim(7)])
        XCTAssertEqual(r.type(of: "sum")?.dims, [.symbol("batch"), .symbol("seq"), SymDim(8)])
    }

    func testGraphsOfOpsWithoutPackedRulesTakeTheGeneralWalk() {
        // Shape arithmetic (transformer exports): mostly ops the packed rules leave to the
        // general ones. Either walk gives the same facts.
        var nodes: [Node] = []
        for i in 0..<8 {
            nodes.append(Node(opType: "Shape", inputs: ["x"], outputs: ["s\(i)"]))
            nodes.append(Node(opType: "Gather", inputs: ["s\(i)", "i0"], outputs: ["g\(i)"], attributes: [Attribute("axis", .int(0))]))
        }
        let g = Graph(nodes: nodes, inputs: [tensor("x", .float, [.symbolic("batch"), .known(8)])],
                      outputs: [ValueInfo(name: "g7")], initializers: [Tensor(name: "i0", int64s: [0], dims: [])])
        XCTAssertTrue(InferenceEngine.packedWalkApplies(g))
        XCTAssertFalse(InferenceEngine(opsets: ["": 17], functions: [], registry: .builtIn).packedWalkPays(g))
        let packed = ShapeInference.infer(g, opsets: ["": 17], walk: .packed)
        XCTAssertEqual(packed.values, ShapeInference.infer(g, opsets: ["": 17]).values)
        XCTAssertEqual(packed.values["g7"]?.value, .ints([.symbol("batch")]))
    }

    func testGraphsWithBodiesTakeTheGeneralWalk() {
        let body = Graph(nodes: [Node(opType: "Identity", inputs: ["x"], outputs: ["y"])], outputs: [ValueInfo(name: "y")])
        let g = Graph(nodes: [Node(opType: "If", inputs: ["c"], outputs: ["o"],
                                   attributes: [Attribute("then_branch", .graph(body)), Attribute("else_branch", .graph(body))])],
                      inputs: [tensor("c", .bool, []), tensor("x", .float, [.known(2)])], outputs: [ValueInfo(name: "o")])
        XCTAssertFalse(InferenceEngine.packedWalkApplies(g))
        XCTAssertEqual(ShapeInference.infer(g).type(of: "o")?.dims, [SymDim(2)])
    }

    /// A packed table as a `FactTable`: reads, writes, removals, the fold once writes pile up,
    /// iteration, equality and `mapValues` all as for the same facts by name.
    func testPackedTableBehavesAsATable() {
        var nodes: [Node] = []
        for i in 0..<300 { nodes.append(Node(opType: "Relu", inputs: [i == 0 ? "x" : "r\(i - 1)"], outputs: ["r\(i)"])) }
        let g = Graph(nodes: nodes, inputs: [tensor("x", .float, [.symbolic("n"), .known(4)])], outputs: [ValueInfo(name: "r299")])
        var packed = ShapeInference.infer(g, walk: .packed).values
        let plain = ShapeInference.infer(g, walk: .general).values
        XCTAssertEqual(packed, plain)
        XCTAssertEqual(packed.count, 301)
        XCTAssertEqual(Set(packed.keys), Set(plain.keys))
        XCTAssertEqual(packed.dictionary, plain.dictionary)
        XCTAssertEqual(packed.underestimatedCount, 301)
        let copy = packed
        packed["r5"] = .tensor(.int8, [SymDim(1)])
        packed["r6"] = nil
        packed["new"] = .tensor(.bool, [])
        XCTAssertEqual(packed.count, 301)
        XCTAssertEqual(packed["r5"]?.type?.elementType, .int8)
        XCTAssertNil(packed["r6"])
        XCTAssertEqual(Set(packed.keys).count, 301)
        XCTAssertFalse(packed.keys.contains("r6"))
        XCTAssertEqual(copy["r5"]?.type?.elementType, .float, "copies share the records, not the writes")
        // Enough writes fold the records into a dictionary; the facts stay.
        for i in 100..<200 { packed["r\(i)"] = .tensor(.int32, [SymDim(Int64(i))]) }
        XCTAssertEqual(packed.count, 301)
        XCTAssertEqual(packed["r150"]?.type?.dims, [SymDim(150)])
        XCTAssertEqual(packed["r250"], plain["r250"])
        XCTAssertNil(packed["r6"])
        XCTAssertEqual(copy, plain)
        XCTAssertEqual(copy.mapValues { $0 }, plain)
        let bound = ShapeInference.infer(g, walk: .packed).substituting(["n": 3])
        XCTAssertEqual(bound.type(of: "r299")?.dims, [SymDim(3), SymDim(4)])
    }
}
