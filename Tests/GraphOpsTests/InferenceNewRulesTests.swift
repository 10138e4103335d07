// Tests of the rules for ai.onnx.ml, string, training, preview and recent ops, of partly known
// shape vectors (KnownValue.partialInts) and of opset-8 Scan; plus the coverage check that
// every op of the ONNX domains in the registry has a rule.
import XCTest
import GraphIR
@testable import GraphOps

final class InferenceNewRulesTests: XCTestCase {
    func tensor(_ name: String, _ e: ElementType, _ dims: [Dim]) -> ValueInfo {
        ValueInfo(name: name, type: .tensor(e, TensorShape(dims)))
    }

    func dims(_ r: InferenceResult, _ name: String) -> [String]? {
        r.type(of: name)?.dims?.map { $0?.description ?? "?" }
    }

    func infer(_ nodes: [Node], _ inputs: [ValueInfo], initializers: [Tensor] = [], opset: Int64 = 21) -> InferenceResult {
        let outs = nodes.flatMap(\.outputs).map { ValueInfo(name: $0) }
        let g = Graph(nodes: nodes, inputs: inputs, outputs: outs, initializers: initializers)
        return ShapeInference.infer(g, opsets: ["": opset, "ai.onnx.ml": 5, "ai.onnx.preview.training": 1,
                                                "ai.onnx.preview": 1])
    }

    /// Every op of ai.onnx, ai.onnx.ml, ai.onnx.preview and ai.onnx.preview.training has a rule.
    func testEveryONNXDomainOpHasARule() {
        let registry = OpRegistry.builtIn
        var missing: [String] = []
        for domain in ["", "ai.onnx.ml", "ai.onnx.preview", "ai.onnx.preview.training"] {
            for op in registry.opTypes(in: domain) where InferenceRules.table[domain.isEmpty ? op : domain + "::" + op] == nil {
                missing.append(domain.isEmpty ? op : domain + "::" + op)
            }
        }
        XCTAssertEqual(missing, [], "ops without an inference rule")
    }

    /// The com.microsoft ops onnxruntime's optimizers write keep shapes flowing downstream.
    func testContribFusedOpsOfOnnxruntime() {
        let ms = "com.microsoft"
        let nodes = [
            Node(opType: "FusedConv", domain: ms, inputs: ["x", "w", "b"], outputs: ["c"],
                 attributes: [Attribute("kernel_shape", .ints([3, 3])), Attribute("pads", .ints([1, 1, 1, 1])),
                              Attribute("strides", .ints([2, 2])), Attribute("activation", .string(Array("Relu".utf8)))]),
            Node(opType: "FusedGemm", domain: ms, inputs: ["a", "wg"], outputs: ["g"], attributes: [Attribute("transB", .int(1))]),
            Node(opType: "FusedMatMul", domain: ms, inputs: ["q", "k"], outputs: ["s"], attributes: [Attribute("transB", .int(1))]),
            Node(opType: "BiasGelu", domain: ms, inputs: ["s", "bias"], outputs: ["bg"]),
            Node(opType: "SkipLayerNormalization", domain: ms, inputs: ["h", "h", "gamma", "beta"], outputs: ["ln", "mean", "inv", "sum"]),
            Node(opType: "FusedMatMul", domain: ms, inputs: ["q", "k"], outputs: ["tb"], attributes: [Attribute("transBatchA", .int(1))]),
            Node(opType: "MultiHeadAttention", domain: ms, inputs: ["q", "k", "vv"], outputs: ["mha"], attributes: [Attribute("num_heads", .int(4))]),
        ]
        let inputs = [tensor("x", .float, [.symbolic("N"), .known(3), .symbolic("H"), .known(32)]), tensor("w", .float, [.known(8), .known(3), .known(3), .known(3)]),
                      tensor("b", .float, [.known(8)]), tensor("a", .float, [.symbolic("N"), .known(16)]), tensor("wg", .float, [.known(10), .known(16)]),
                      tensor("q", .float, [.symbolic("B"), .symbolic("S"), .known(64)]), tensor("k", .float, [.symbolic("B"), .symbolic("T"), .known(64)]),
                      tensor("bias", .float, [.symbolic("T")]), tensor("h", .float, [.symbolic("B"), .symbolic("S"), .known(32)]),
                      tensor("gamma", .float, [.known(32)]), tensor("beta", .float, [.known(32)]),
                      tensor("vv", .float, [.symbolic("B"), .symbolic("T"), .known(32)])]
        let outs = nodes.flatMap(\.outputs).map { ValueInfo(name: $0) }
        let g = Graph(nodes: nodes, inputs: inputs, outputs: outs)
        let r = ShapeInference.infer(g, opsets: ["": 17, ms: 1])
        XCTAssertEqual(dims(r, "mha"), ["B", "S", "32"], "query's batch and length, value's width")
        XCTAssertEqual(dims(r, "c"), ["N", "8", "(H-1)/2+1", "16"])
        XCTAssertEqual(dims(r, "g"), ["N", "10"])
        XCTAssertEqual(dims(r, "s"), ["B", "S", "T"])
        XCTAssertEqual(dims(r, "bg"), ["B", "S", "T"])
        XCTAssertEqual(dims(r, "ln"), ["B", "S", "32"])
        XCTAssertEqual(dims(r, "mean"), ["B", "S", "1"])
        XCTAssertEqual(dims(r, "sum"), ["B", "S", "32"])
        XCTAssertNil(dims(r, "tb"), "batch transposes are reported, not guessed")
        XCTAssertEqual(r.problems.count, 1, "\(r.problems)")
    }

    func testMLClassifiersAndEncoders() {
        let ml = "ai.onnx.ml"
        let r = infer([
            Node(opType: "LinearClassifier", domain: ml, inputs: ["x"], outputs: ["label", "scores"],
                 attributes: [Attribute("coefficients", .floats(Array(repeating: 1, count: 4))),
                              Attribute("intercepts", .floats([0])), Attribute("classlabels_strings", .strings([[97], [98]]))]),
            Node(opType: "TreeEnsembleRegressor", domain: ml, inputs: ["x"], outputs: ["t"], attributes: [Attribute("n_targets", .int(3))]),
            Node(opType: "OneHotEncoder", domain: ml, inputs: ["x"], outputs: ["o"], attributes: [Attribute("cats_int64s", .ints([1, 2]))]),
            Node(opType: "ArrayFeatureExtractor", domain: ml, inputs: ["x", "idx"], outputs: ["a"]),
            Node(opType: "FeatureVectorizer", domain: ml, inputs: ["x", "x"], outputs: ["f"],
                 attributes: [Attribute("inputdimensions", .ints([4, 4]))]),
            Node(opType: "ZipMap", domain: ml, inputs: ["scores"], outputs: ["z"], attributes: [Attribute("classlabels_int64s", .ints([0, 1]))]),
        ], [tensor("x", .float, [.symbolic("N"), .known(4)]), tensor("idx", .int64, [.known(2)])])
        XCTAssertEqual(r.problems, [])
        XCTAssertEqual(r.type(of: "label")?.elementType, .string)
        XCTAssertEqual(dims(r, "scores"), ["N", "2"], "one intercept with two labels is a binary model")
        XCTAssertEqual(dims(r, "t"), ["N", "3"])
        XCTAssertEqual(dims(r, "o"), ["N", "4", "2"])
        XCTAssertEqual(dims(r, "a"), ["N", "2"])
        XCTAssertEqual(dims(r, "f"), ["N", "8"])
        XCTAssertEqual(r.type(of: "z"), .sequence(.other(.map(key: .int64, value: .tensor(.float, TensorShape([]))))))
    }

    func testMLLabelsMustBeGivenOnce() {
        let r = infer([Node(opType: "TreeEnsembleClassifier", domain: "ai.onnx.ml", inputs: ["x"], outputs: ["y", "z"],
                            attributes: [Attribute("classlabels_int64s", .ints([0])), Attribute("classlabels_strings", .strings([[97]]))])],
                      [tensor("x", .float, [.symbolic("N"), .known(4)])])
        XCTAssertEqual(r.problems.count, 1)
        XCTAssertTrue(r.problems.first?.reason.contains("both") ?? false)
    }

    func testRecentOpsAndBitWidths() {
        let r = infer([
            Node(opType: "BitCast", inputs: ["x"], outputs: ["b"], attributes: [Attribute("to", .int(Int64(ElementType.int32.rawValue)))]),
            Node(opType: "CausalConvWithState", inputs: ["c", "w"], outputs: ["cy", "cs"]),
            Node(opType: "LinearAttention", inputs: ["q", "k", "v"], outputs: ["ly", "ls"],
                 attributes: [Attribute("q_num_heads", .int(4)), Attribute("kv_num_heads", .int(2))]),
        ], [tensor("x", .float, [.symbolic("N"), .known(4)]), tensor("c", .float, [.symbolic("B"), .known(8), .symbolic("L")]),
            tensor("w", .float, [.known(8), .known(1), .known(4)]), tensor("q", .float, [.symbolic("B"), .symbolic("T"), .known(64)]),
            tensor("k", .float, [.symbolic("B"), .symbolic("T"), .known(32)]), tensor("v", .float, [.symbolic("B"), .symbolic("T"), .known(48)])],
                      opset: 27)
        XCTAssertEqual(r.problems, [])
        XCTAssertEqual(r.type(of: "b")?.elementType, .int32)
        XCTAssertEqual(dims(r, "cs"), ["B", "8", "3"])
        XCTAssertEqual(dims(r, "ly"), ["B", "T", "96"])
        XCTAssertEqual(dims(r, "ls"), ["B", "2", "16", "24"])
        let bad = infer([Node(opType: "BitCast", inputs: ["x"], outputs: ["b"], attributes: [Attribute("to", .int(Int64(ElementType.int8.rawValue)))])],
                        [tensor("x", .float, [.known(2)])], opset: 27)
        XCTAssertTrue(bad.problems.first?.reason.contains("equal widths") ?? false)
    }

    func testTrainingOptimizerOutputsFollowTheirInputs() {
        let r = infer([Node(opType: "Momentum", domain: "ai.onnx.preview.training", inputs: ["r", "t", "x", "g", "v"], outputs: ["x2", "v2"])],
                      [tensor("r", .float, []), tensor("t", .int64, []), tensor("x", .float, [.symbolic("a")]),
                       tensor("g", .float, [.symbolic("a")]), tensor("v", .double, [.known(3)])])
        XCTAssertEqual(r.problems, [])
        XCTAssertEqual(dims(r, "x2"), ["a"])
        XCTAssertEqual(r.type(of: "v2"), .tensor(.double, [SymDim(3)]))
    }

    /// Concat of Shape(x)[0:1] and an unknown one-element piece: [N, ?] reaches Reshape,
    /// ConstantOfShape and Expand, each keeping what is known; before, all three failed.
    func testPartlyKnownShapeVectors() {
        let r = infer([
            Node(opType: "Shape", inputs: ["x"], outputs: ["s"], attributes: [Attribute("end", .int(1))]),
            Node(opType: "Concat", inputs: ["s", "k"], outputs: ["t"], attributes: [Attribute("axis", .int(0))]),
            Node(opType: "Reshape", inputs: ["x", "t"], outputs: ["r"]),
            Node(opType: "ConstantOfShape", inputs: ["t"], outputs: ["c"]),
            Node(opType: "Expand", inputs: ["x", "t"], outputs: ["e"]),
            Node(opType: "NonZero", inputs: ["u"], outputs: ["nz"]),
            Node(opType: "Shape", inputs: ["nz"], outputs: ["su"]),
            Node(opType: "Gather", inputs: ["su", "zero"], outputs: ["g"], attributes: [Attribute("axis", .int(0))]),
            Node(opType: "Mul", inputs: ["su", "two"], outputs: ["m"]),
            Node(opType: "Tile", inputs: ["u", "m"], outputs: ["tiled"]),
        ], [tensor("x", .float, [.symbolic("N"), .known(4)]), tensor("k", .int64, [.known(1)]),
            tensor("u", .float, [.known(2), .symbolic("S")])],
           initializers: [Tensor(name: "zero", int64s: [0], dims: [1]), Tensor(name: "two", int64s: [2], dims: [])])
        XCTAssertEqual(r.problems, [])
        XCTAssertEqual(r.values["t"]?.value, .partialInts([SymDim.symbol("N"), nil]))
        XCTAssertEqual(dims(r, "r"), ["N", "?"])
        XCTAssertEqual(dims(r, "c"), ["N", "?"])
        XCTAssertEqual(dims(r, "e"), ["N", "4"], "an unknown target entry against 4 is 4")
        // NonZero's count is unknown: Shape gives [2, ?], Mul by 2 gives [4, ?].
        XCTAssertEqual(r.values["su"]?.value, .partialInts([SymDim(2), nil]))
        XCTAssertEqual(r.values["g"]?.value, .ints([SymDim(2)]))
        XCTAssertEqual(r.values["m"]?.value, .partialInts([SymDim(4), nil]))
        XCTAssertEqual(dims(r, "tiled"), ["8", "?"])
    }

    /// A partly known shape whose unknown entry may be the -1: nothing else is inferred from
    /// the element count.
    func testPartlyKnownReshapeTargetInfersNoRest() {
        let r = infer([
            Node(opType: "Concat", inputs: ["k", "m1"], outputs: ["t"], attributes: [Attribute("axis", .int(0))]),
            Node(opType: "Reshape", inputs: ["x", "t"], outputs: ["r"]),
        ], [tensor("x", .float, [.known(6), .known(4)]), tensor("k", .int64, [.known(1)])],
           initializers: [Tensor(name: "m1", int64s: [-1], dims: [1])])
        XCTAssertEqual(dims(r, "r"), ["?", "?"])
    }

    /// Opset-8 Scan: a batch axis on every input/output, the sequence axis 1 on scan inputs.
    func testScanOpset8() {
        let body = Graph(nodes: [Node(opType: "Add", inputs: ["s", "xi"], outputs: ["s2"]),
                                 Node(opType: "Identity", inputs: ["s2"], outputs: ["o"])],
                         inputs: [ValueInfo(name: "s"), ValueInfo(name: "xi")],
                         outputs: [ValueInfo(name: "s2"), ValueInfo(name: "o")], isSubgraph: true)
        let r = infer([Node(opType: "Scan", inputs: ["", "init", "xs"], outputs: ["final", "ys"],
                            attributes: [Attribute("num_scan_inputs", .int(1)), Attribute("body", .graph(body))])],
                      [tensor("init", .float, [.known(1), .known(2)]), tensor("xs", .float, [.known(1), .symbolic("T"), .known(2)])],
                      opset: 8)
        XCTAssertEqual(r.problems, [])
        XCTAssertEqual(dims(r, "final"), ["1", "2"])
        XCTAssertEqual(dims(r, "ys"), ["1", "T", "2"])
    }

    /// A shape of unknown length still leaves ConstantOfShape's element type (from `value`)
    /// known; before, the output had no type at all.
    func testConstantOfShapeWithShapeOfUnknownLengthKeepsItsType() {
        let r = infer([Node(opType: "ConstantOfShape", inputs: ["s"], outputs: ["c"],
                            attributes: [Attribute("value", .tensor(Tensor(name: "v", int64s: [7], dims: [1])))])],
                      [tensor("s", .int64, [.symbolic("n")])])
        XCTAssertEqual(r.type(of: "c"), .tensor(.int64, nil))
    }

    /// Slice bounds, Pad pads and Resize sizes known in part: each axis with known entries gets
    /// its size, the others stay unknown (before, every size was unknown).
    func testPartlyKnownSliceBoundsPadsAndResizeSizes() {
        let r = infer([
            Node(opType: "Shape", inputs: ["x"], outputs: ["s"], attributes: [Attribute("end", .int(2))]),
            Node(opType: "Concat", inputs: ["s", "hw"], outputs: ["sizes"], attributes: [Attribute("axis", .int(0))]),
            Node(opType: "Resize", inputs: ["x", "", "", "sizes"], outputs: ["r"]),
            Node(opType: "Concat", inputs: ["zero", "u"], outputs: ["starts"], attributes: [Attribute("axis", .int(0))]),
            Node(opType: "Concat", inputs: ["two", "two"], outputs: ["ends"], attributes: [Attribute("axis", .int(0))]),
            Node(opType: "Slice", inputs: ["x", "starts", "ends", "axes"], outputs: ["sl"]),
            Node(opType: "Concat", inputs: ["zero", "zero", "two", "u", "zero", "zero", "zero", "zero"], outputs: ["pads"],
                 attributes: [Attribute("axis", .int(0))]),
            Node(opType: "Pad", inputs: ["x", "pads"], outputs: ["p"]),
        ], [tensor("x", .float, [.symbolic("N"), .known(3), .known(4), .known(5)]), tensor("hw", .int64, [.known(2)]),
            tensor("u", .int64, [.known(1)])],
           initializers: [Tensor(name: "zero", int64s: [0], dims: [1]), Tensor(name: "two", int64s: [2], dims: [1]),
                          Tensor(name: "axes", int64s: [1, 2], dims: [2])])
        XCTAssertEqual(r.problems, [])
        XCTAssertEqual(dims(r, "r"), ["N", "3", "?", "?"])
        XCTAssertEqual(dims(r, "sl"), ["N", "2", "?", "5"])
        XCTAssertEqual(dims(r, "p"), ["N", "3", "6", "?"])
    }

    /// An If with an unknown condition keeps the integer entries both branches agree on;
    /// float contents that differ are dropped whole (never turned into integers).
    func testIfMergesPartlyKnownIntegerContents() {
        func branch(_ name: String, ints: [Int64], floats: [Float]) -> Graph {
            Graph(name: name, nodes: [
                Node(opType: "Constant", outputs: ["\(name)_i"], attributes: [Attribute("value_ints", .ints(ints))]),
                Node(opType: "Constant", outputs: ["\(name)_f"], attributes: [Attribute("value_floats", .floats(floats))]),
            ], outputs: [ValueInfo(name: "\(name)_i"), ValueInfo(name: "\(name)_f")], isSubgraph: true)
        }
        let r = infer([Node(opType: "If", inputs: ["c"], outputs: ["i", "f"],
                            attributes: [Attribute("then_branch", .graph(branch("t", ints: [1, 2], floats: [1, 2]))),
                                         Attribute("else_branch", .graph(branch("e", ints: [1, 3], floats: [1, 3])))])],
                      [tensor("c", .bool, [])])
        XCTAssertEqual(r.values["i"]?.value, .partialInts([SymDim(1), nil]))
        XCTAssertNil(r.values["f"]?.value)
    }

    /// Squeeze without axes on a dim that is not known (now reachable through partly known
    /// shapes, as in onnx's AffineGrid expansion) cannot tell whether it is 1: a warning about
    /// unknown input, not an inconsistency (`check` lists those as errors).
    func testSqueezeWithoutAxesOnAnUnknownDimIsUnknownNotInconsistent() {
        let r = infer([
            Node(opType: "Concat", inputs: ["k", "three"], outputs: ["t"], attributes: [Attribute("axis", .int(0))]),
            Node(opType: "ConstantOfShape", inputs: ["t"], outputs: ["z"]),
            Node(opType: "Squeeze", inputs: ["z"], outputs: ["s"]),
        ], [tensor("k", .int64, [.known(1)])], initializers: [Tensor(name: "three", int64s: [3], dims: [1])])
        XCTAssertEqual(dims(r, "z"), ["?", "3"])
        XCTAssertEqual(r.problems.map(\.kind), [.unknownInput])
        XCTAssertEqual(r.type(of: "s")?.elementType, .float)
    }
}
