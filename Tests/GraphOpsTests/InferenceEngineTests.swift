// Tests of the inference engine and rules on small GraphIR graphs: symbolic shapes through
// conv and shape arithmetic, binding by substitution, control flow, unknown ops reported, and
// the three defects of the old ShapeInference (ReduceProd axes, Where with NaN, Gather index
// out of range) fixed.
import XCTest
import GraphIR
@testable import GraphOps

final class InferenceEngineTests: XCTestCase {
    func tensor(_ name: String, _ e: ElementType, _ dims: [Dim]) -> ValueInfo {
        ValueInfo(name: name, type: .tensor(e, TensorShape(dims)))
    }

    func dims(_ r: InferenceResult, _ name: String) -> [String]? {
        r.type(of: name)?.dims?.map { $0?.description ?? "?" }
    }

    func testConvAndShapeArithmeticStaySymbolic() throws {
        let g = Graph(nodes: [
            Node(opType: "Conv", inputs: ["x", "w"], outputs: ["c"],
                 attributes: [Attribute("strides", .ints([2, 2])), Attribute("kernel_shape", .ints([3, 3]))]),
            Node(opType: "Shape", inputs: ["c"], outputs: ["s"]),
            Node(opType: "Gather", inputs: ["s", "i0"], outputs: ["n"], attributes: [Attribute("axis", .int(0))]),
            Node(opType: "Unsqueeze", inputs: ["n", "ax"], outputs: ["n1"]),
            Node(opType: "Concat", inputs: ["n1", "m1"], outputs: ["target"], attributes: [Attribute("axis", .int(0))]),
            Node(opType: "Reshape", inputs: ["c", "target"], outputs: ["r"]),
        ], inputs: [tensor("x", .float, [.symbolic("N"), .known(3), .symbolic("H"), .symbolic("W")])],
           outputs: [ValueInfo(name: "r")],
           initializers: [Tensor(name: "w", floats: Array(repeating: 0, count: 8 * 27), dims: [8, 3, 3, 3]),
                          Tensor(name: "i0", int64s: [0], dims: []), Tensor(name: "ax", int64s: [0], dims: [1]),
                          Tensor(name: "m1", int64s: [-1], dims: [1])])
        let r = ShapeInference.infer(g, opsets: ["": 17])
        XCTAssertEqual(r.problems, [])
        XCTAssertEqual(dims(r, "c"), ["N", "8", "(H-3)/2+1", "(W-3)/2+1"])
        XCTAssertEqual(r.type(of: "r")?.dims?.count, 2)
        XCTAssertEqual(r.type(of: "r")?.dims?.first??.symbolName, "N")
        let h = SymDim.symbol("H"), w = SymDim.symbol("W")
        let oh = (h - SymDim(3)).floorDiv(SymDim(2))! + SymDim(1), ow = (w - SymDim(3)).floorDiv(SymDim(2))! + SymDim(1)
        XCTAssertEqual(r.type(of: "r")?.dims?.last, SymDim(8) * oh * ow, "-1 is the rest: 8*oh*ow")
        // Binding is substitution into this result.
        let bound = r.substituting(["N": 1, "H": 224, "W": 224])
        XCTAssertEqual(bound.type(of: "c")?.dims?.map { $0?.intValue }, [1, 8, 111, 111])
        XCTAssertEqual(bound.type(of: "r")?.dims?.map { $0?.intValue }, [1, 8 * 111 * 111])
        let fromShape = try r.bindings(forInput: "x", shape: [2, 3, 64, 32])
        XCTAssertEqual(r.substituting(fromShape).type(of: "c")?.dims?.map { $0?.intValue }, [2, 8, 31, 15])
        XCTAssertThrowsError(try r.bindings(forInput: "x", shape: [2, 4, 64, 32]), "channel 3 is fixed")
    }

    /// Found moving the estimator onto this inference: a Reshape without -1 whose element count
    /// differs was accepted (`[256,4,1,1]` to `[1,4]`), and an infinite Resize scale trapped.
    func testReshapeCountMismatchAndInfiniteResizeScaleAreReported() {
        let g = Graph(nodes: [
            Node(opType: "Reshape", name: "fixed", inputs: ["x", "target"], outputs: ["r"]),
            Node(opType: "Resize", name: "rz", inputs: ["x", "", "scales"], outputs: ["z"]),
        ], inputs: [tensor("x", .float, [.known(256), .known(4), .known(1), .known(1)])],
           outputs: [ValueInfo(name: "r"), ValueInfo(name: "z")],
           initializers: [Tensor(name: "target", int64s: [1, 4], dims: [2]),
                          Tensor(name: "scales", floats: [1, 1, .infinity, 1], dims: [4])])
        let r = ShapeInference.infer(g, opsets: ["": 17])
        XCTAssertNil(r.type(of: "r")?.dims?.compactMap { $0 })
        XCTAssertTrue(r.problems.contains { $0.nodeName == "fixed" && $0.reason.contains("cannot reshape [256, 4, 1, 1] to [1, 4]") },
                      "\(r.problems)")
        XCTAssertTrue(r.problems.contains { $0.nodeName == "rz" && $0.reason.contains("no finite size") }, "\(r.problems)")
    }

    /// Data no Int holds and declared sizes no array can have: a NaN, infinite or 1e30 OneHot
    /// depth, and a run-time Unsqueeze axes input declared with -3 or 2^40 entries. Each used
    /// to trap or try to allocate; now the size is unknown.
    func testValuesNoIntHoldsLeaveSizesUnknownInsteadOfTrapping() {
        for depth: Float in [.nan, .infinity, 1e30] {
            let g = Graph(nodes: [Node(opType: "OneHot", name: "oh", inputs: ["i", "d", "v"], outputs: ["y"])],
                          inputs: [tensor("i", .int64, [.known(2)])], outputs: [ValueInfo(name: "y")],
                          initializers: [Tensor(name: "d", floats: [depth], dims: []), Tensor(name: "v", floats: [0, 1], dims: [2])])
            XCTAssertEqual(dims(ShapeInference.infer(g, opsets: ["": 17]), "y"), ["2", "?"], "depth \(depth)")
        }
        for count: Int64 in [-3, 1 << 40] {
            let g = Graph(nodes: [Node(opType: "Unsqueeze", inputs: ["x", "axes"], outputs: ["y"])],
                          inputs: [tensor("x", .float, [.known(2)]), tensor("axes", .int64, [.known(count)])],
                          outputs: [ValueInfo(name: "y")])
            XCTAssertNil(ShapeInference.infer(g, opsets: ["": 17]).type(of: "y")?.dims, "axes of \(count)")
        }
    }

    func testUnnamedInputDimsGetTheirOwnSymbols() {
        let g = Graph(nodes: [Node(opType: "Relu", inputs: ["x"], outputs: ["y"])],
                      inputs: [tensor("x", .float, [.unknown, .symbolic("?"), .symbolic("?"), .known(-1)])],
                      outputs: [ValueInfo(name: "y")])
        let r = ShapeInference.infer(g)
        XCTAssertEqual(dims(r, "y"), ["x_d0", "x_d1", "x_d2", "x_d3"], "'?' twice is not one size")
    }

    func testUnknownOpsAndUnknownInputsAreReportedNotGuessed() {
        let g = Graph(nodes: [
            Node(opType: "FrobnicateTensor", name: "f", inputs: ["x"], outputs: ["y"]),
            Node(opType: "Relu", inputs: ["y"], outputs: ["z"]),
        ], inputs: [tensor("x", .float, [.known(2)])], outputs: [ValueInfo(name: "z")])
        let r = ShapeInference.infer(g)
        XCTAssertNil(r.type(of: "y"))
        XCTAssertNil(r.type(of: "z"))
        XCTAssertEqual(r.problems.count, 2)
        XCTAssertEqual(r.problems.first?.nodeName, "f")
        XCTAssertTrue(r.problems.first?.reason.contains("no inference rule for op FrobnicateTensor") ?? false)
        XCTAssertTrue(r.problems.last?.reason.contains("unknown type") ?? false)
    }

    // Op resolution is cached per op type for the call: an op of another domain with the same
    // name must not reuse the ai.onnx rule, and each node still reads its own attributes over
    // the schema defaults.
    func testOpResolutionKeepsDomainsApartAndDefaultsPerNode() {
        let g = Graph(nodes: [
            Node(opType: "Relu", inputs: ["x"], outputs: ["a"]),
            Node(opType: "Relu", domain: "com.example", name: "custom", inputs: ["a"], outputs: ["b"]),
            Node(opType: "Relu", inputs: ["a"], outputs: ["c"]),
            Node(opType: "MaxPool", inputs: ["x4"], outputs: ["p1"], attributes: [Attribute("kernel_shape", .ints([2, 2]))]),
            Node(opType: "MaxPool", inputs: ["x4"], outputs: ["p2"],
                 attributes: [Attribute("kernel_shape", .ints([2, 2])), Attribute("strides", .ints([2, 2]))]),
            Node(opType: "MaxPool", inputs: ["x4"], outputs: ["p3"], attributes: [Attribute("kernel_shape", .ints([3, 3]))]),
        ], inputs: [tensor("x", .float, [.known(2)]), tensor("x4", .float, [.known(1), .known(3), .known(8), .known(8)])],
           outputs: [ValueInfo(name: "b"), ValueInfo(name: "c"), ValueInfo(name: "p1"), ValueInfo(name: "p2"), ValueInfo(name: "p3")])
        let r = ShapeInference.infer(g, opsets: ["": 17])
        XCTAssertEqual(dims(r, "c"), ["2"])
        XCTAssertNil(r.type(of: "b"))
        XCTAssertEqual(r.problems.map(\.nodeName), ["custom"])
        XCTAssertEqual(r.problems.first?.kind, .noRule)
        XCTAssertEqual(dims(r, "p1"), ["1", "3", "7", "7"], "strides default to 1")
        XCTAssertEqual(dims(r, "p2"), ["1", "3", "4", "4"])
        XCTAssertEqual(dims(r, "p3"), ["1", "3", "6", "6"])
    }

    // Declared types (value_info, outputs) fill what inference leaves unknown and are
    // reported where they contradict it; the same whether a graph declares a few values
    // (compared directly) or many (hashed).
    func testDeclaredTypesFillUnknownsAndReportContradictions() {
        for extra in [0, 12] {
            let unused = (0..<extra).map { tensor("unused\($0)", .float, [.known(1)]) }
            let g = Graph(nodes: [
                Node(opType: "Relu", name: "wrongSize", inputs: ["x"], outputs: ["a"]),
                Node(opType: "Relu", name: "wrongType", inputs: ["x"], outputs: ["b"]),
                Node(opType: "Reshape", inputs: ["x", "t"], outputs: ["c"]),
                Node(opType: "Relu", inputs: ["x"], outputs: ["d"]),
            ], inputs: [tensor("x", .float, [.known(2), .known(3)]), tensor("t", .int64, [.known(2)])],
               outputs: [ValueInfo(name: "a"), ValueInfo(name: "b"), tensor("c", .float, [.symbolic("n"), .unknown])],
               valueInfo: unused + [tensor("a", .float, [.known(2), .known(4)]), tensor("b", .int64, [.known(2), .known(3)]),
                                    tensor("d", .float, [.known(2), .symbolic("m")])])
            let r = ShapeInference.infer(g, opsets: ["": 17])
            XCTAssertEqual(r.problems.map(\.nodeName), ["wrongSize", "wrongType"], "extra \(extra)")
            XCTAssertEqual(dims(r, "a"), ["2", "3"], "the inferred type is kept")
            XCTAssertEqual(r.type(of: "b")?.elementType, .float)
            XCTAssertEqual(dims(r, "c"), ["n", "?"], "unknown dims filled from the declaration")
            XCTAssertEqual(dims(r, "d"), ["2", "3"], "a declared symbol does not replace a known size")
        }
    }

    // ConstantOfShape decodes its fill only for contents small enough to keep; large outputs
    // (weights written as ConstantOfShape) get their shape and no contents.
    func testConstantOfShapeKeepsSmallContentsOnly() {
        let fill = Attribute("value", .tensor(Tensor(floats: [0.5], dims: [1])))
        let ifill = Attribute("value", .tensor(Tensor(int64s: [7], dims: [1])))
        let g = Graph(nodes: [
            Node(opType: "ConstantOfShape", inputs: ["small"], outputs: ["s"], attributes: [fill]),
            Node(opType: "ConstantOfShape", inputs: ["big"], outputs: ["b"], attributes: [fill]),
            Node(opType: "ConstantOfShape", inputs: ["small"], outputs: ["i"], attributes: [ifill]),
            Node(opType: "ConstantOfShape", inputs: ["small"], outputs: ["z"]),
        ], outputs: [ValueInfo(name: "s"), ValueInfo(name: "b"), ValueInfo(name: "i"), ValueInfo(name: "z")],
           initializers: [Tensor(name: "small", int64s: [2, 3], dims: [2]), Tensor(name: "big", int64s: [64, 64], dims: [2])])
        let r = ShapeInference.infer(g, opsets: ["": 17])
        XCTAssertEqual(r.problems, [])
        XCTAssertEqual(r.values["s"]?.value, .floats(Array(repeating: 0.5, count: 6)))
        XCTAssertEqual(r.values["i"]?.value, .ints(Array(repeating: SymDim(7), count: 6)))
        XCTAssertEqual(r.values["z"]?.value, .floats(Array(repeating: 0, count: 6)))
        XCTAssertEqual(r.values["i"]?.type?.elementType, .int64)
        XCTAssertEqual(dims(r, "b"), ["64", "64"])
        XCTAssertNil(r.values["b"]?.value)
    }

    // Defect: the old fold multiplied every element (`!keep || true`), ignoring axes.
    func testReduceProdHonoursAxesAndNoopWithEmptyAxes() {
        let g = Graph(nodes: [
            Node(opType: "ReduceProd", inputs: ["t"], outputs: ["p"],
                 attributes: [Attribute("axes", .ints([1])), Attribute("keepdims", .int(0))]),
            Node(opType: "ReduceProd", inputs: ["t", "none"], outputs: ["q"],
                 attributes: [Attribute("noop_with_empty_axes", .int(1))]),
            Node(opType: "ReduceProd", inputs: ["t"], outputs: ["all"], attributes: [Attribute("keepdims", .int(0))]),
        ], outputs: [ValueInfo(name: "p"), ValueInfo(name: "q"), ValueInfo(name: "all")],
           initializers: [Tensor(name: "t", int64s: [1, 2, 3, 4, 5, 6], dims: [2, 3]),
                          Tensor(name: "none", int64s: [], dims: [0])])
        let r = ShapeInference.infer(g, opsets: ["": 13])
        XCTAssertEqual(r.values["p"]?.value, .ints([SymDim(6), SymDim(120)]))
        XCTAssertEqual(dims(r, "p"), ["2"])
        XCTAssertEqual(r.values["q"]?.value?.constantInts, [1, 2, 3, 4, 5, 6], "empty axes with noop: identity")
        XCTAssertEqual(dims(r, "q"), ["2", "3"])
        XCTAssertEqual(r.values["all"]?.value?.constantInts, [720])
    }

    // Defect: the old fold used NaN in X to mean "take Y".
    func testWhereFoldsByTheConditionNotBySentinels() {
        let g = Graph(nodes: [Node(opType: "Where", inputs: ["c", "x", "y"], outputs: ["w"])],
                      outputs: [ValueInfo(name: "w")],
                      initializers: [Tensor(name: "c", elementType: .bool, dims: [2], data: .raw(ByteSlice(copying: [1, 0]))),
                                     Tensor(name: "x", floats: [.nan, 1], dims: [2]),
                                     Tensor(name: "y", floats: [5, 6], dims: [2])])
        let r = ShapeInference.infer(g)
        guard case .floats(let v)? = r.values["w"]?.value else { return XCTFail("not folded: \(r.problems)") }
        XCTAssertTrue(v[0].isNaN, "condition true takes X even when X is NaN")
        XCTAssertEqual(v[1], 6)
    }

    // Defect: the old fold turned an out-of-range index into 0.
    func testGatherIndexOutOfRangeIsAProblemNotZero() {
        let g = Graph(nodes: [
            Node(opType: "Shape", inputs: ["x"], outputs: ["s"]),
            Node(opType: "Gather", name: "g", inputs: ["s", "i"], outputs: ["d"], attributes: [Attribute("axis", .int(0))]),
        ], inputs: [tensor("x", .float, [.known(4), .known(5)])], outputs: [ValueInfo(name: "d")],
           initializers: [Tensor(name: "i", int64s: [5], dims: [])])
        let r = ShapeInference.infer(g)
        XCTAssertNil(r.values["d"]?.value)
        XCTAssertEqual(r.problems.map(\.nodeName), ["g"])
        XCTAssertTrue(r.problems.first?.reason.contains("out of range") ?? false)
    }

    func body(_ name: String, _ node: Node, out: String) -> Graph {
        Graph(name: name, nodes: [node], outputs: [ValueInfo(name: out)], isSubgraph: true)
    }

    func testIfTakesAKnownBranchAndMergesOtherwise() {
        let thenG = body("t", Node(opType: "Relu", inputs: ["x"], outputs: ["a"]), out: "a")
        let elseG = body("e", Node(opType: "Transpose", inputs: ["x"], outputs: ["b"]), out: "b")
        func graph(cond: ValueInfo?, initial: [Tensor]) -> Graph {
            Graph(nodes: [Node(opType: "If", inputs: ["c"], outputs: ["y"],
                               attributes: [Attribute("then_branch", .graph(thenG)), Attribute("else_branch", .graph(elseG))])],
                  inputs: [tensor("x", .float, [.symbolic("a"), .symbolic("b")])] + (cond.map { [$0] } ?? []),
                  outputs: [ValueInfo(name: "y")], initializers: initial)
        }
        let known = ShapeInference.infer(graph(cond: nil, initial: [Tensor(name: "c", elementType: .bool, dims: [],
                                                                           data: .raw(ByteSlice(copying: [0])))]))
        XCTAssertEqual(dims(known, "y"), ["b", "a"], "else branch: the transpose")
        let unknownGraph = graph(cond: tensor("c", .bool, []), initial: [])
        let unknown = ShapeInference.infer(unknownGraph)
        XCTAssertEqual(dims(unknown, "y"), ["?", "?"], "branches disagree: same rank, sizes unknown")
        // The If's id is fresh across its bodies' id space (not 0, which the bodies' nodes hold).
        XCTAssertNotNil(unknown.bodies["\(unknownGraph.nodes[0].id)/then_branch"]?["a"])
    }

    func testLoopStacksScanOutputsOverAConstantTripCount() {
        let bodyG = Graph(name: "body", nodes: [
            Node(opType: "Identity", inputs: ["cond_in"], outputs: ["cond_out"]),
            Node(opType: "Add", inputs: ["acc_in", "x"], outputs: ["acc_out"]),
            Node(opType: "Identity", inputs: ["acc_out"], outputs: ["scan"]),
        ], inputs: [ValueInfo(name: "i"), ValueInfo(name: "cond_in"), ValueInfo(name: "acc_in")],
           outputs: [ValueInfo(name: "cond_out"), ValueInfo(name: "acc_out"), ValueInfo(name: "scan")], isSubgraph: true)
        let g = Graph(nodes: [Node(opType: "Loop", inputs: ["m", "", "acc0"], outputs: ["acc", "stack"],
                                   attributes: [Attribute("body", .graph(bodyG))])],
                      inputs: [tensor("x", .float, [.known(3)]), tensor("acc0", .float, [.known(3)])],
                      outputs: [ValueInfo(name: "acc"), ValueInfo(name: "stack")],
                      initializers: [Tensor(name: "m", int64s: [7], dims: [])])
        let r = ShapeInference.infer(g)
        XCTAssertEqual(r.problems, [])
        XCTAssertEqual(dims(r, "acc"), ["3"])
        XCTAssertEqual(dims(r, "stack"), ["7", "3"])
    }

    func testAttributeDefaultsComeFromTheSchema() {
        // Flatten's axis defaults to 1 (schema), Gemm's transA/transB to 0.
        let g = Graph(nodes: [Node(opType: "Flatten", inputs: ["x"], outputs: ["f"])],
                      inputs: [tensor("x", .float, [.symbolic("n"), .known(3), .known(4)])], outputs: [ValueInfo(name: "f")])
        XCTAssertEqual(dims(ShapeInference.infer(g, opsets: ["": 13]), "f"), ["n", "12"])
    }

    func testRunTimeBoundsKeepTheRankWithoutGuessingSizes() {
        let g = Graph(nodes: [Node(opType: "Slice", inputs: ["x", "s", "e"], outputs: ["y"])],
                      inputs: [tensor("x", .float, [.known(4), .symbolic("n")]), tensor("s", .int64, [.known(2)]),
                               tensor("e", .int64, [.known(2)])],
                      outputs: [ValueInfo(name: "y")])
        let r = ShapeInference.infer(g, opsets: ["": 13])
        XCTAssertEqual(dims(r, "y"), ["?", "?"])
        XCTAssertEqual(r.problems, [])
    }

    func testLocalFunctionsAreInferredThroughTheirBodiesWithTheCallsAttributes() {
        // f(x) = Transpose(x, perm=@p): the call's perm applies inside the body.
        let body = Graph(name: "f", nodes: [Node(opType: "Transpose", inputs: ["a"], outputs: ["b"],
                                                 attributes: [Attribute("perm", .ints([]), refAttrName: "p")])],
                         inputs: [ValueInfo(name: "a")], outputs: [ValueInfo(name: "b")], isSubgraph: true)
        let f = Function(name: "f", domain: "local", overload: "", attributeNames: ["p"], attributeDefaults: [],
                         body: body, opsetImports: [OpsetImport(version: 17)], docString: "",
                         metadataProps: MetadataProps(), unknownFields: UnknownFields())
        let g = Graph(nodes: [Node(opType: "f", domain: "local", inputs: ["x"], outputs: ["y"],
                                   attributes: [Attribute("p", .ints([1, 2, 0]))])],
                      inputs: [tensor("x", .float, [.symbolic("a"), .known(3), .known(5)])], outputs: [ValueInfo(name: "y")])
        let r = ShapeInference.infer(g, opsets: ["": 17, "local": 1], functions: [f])
        XCTAssertEqual(r.problems, [])
        XCTAssertEqual(dims(r, "y"), ["3", "5", "a"])
    }
}
