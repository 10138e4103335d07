import XCTest
@testable import GraphEstimation

/// Per-op formulas on small hand-built graphs; every expected figure is computed by hand in the comments.
final class CostModelTests: XCTestCase {
    func testConvWithBias() throws {
        var b = GraphBuilder()
        b.input("x", [1, 3, 32, 32]); b.weight("w", [16, 3, 3, 3]); b.weight("b", [16])
        b.node("Conv", ["x", "w", "b"], ["y"], ["pads": .ints([1, 1, 1, 1]), "kernel_shape": .ints([3, 3])])
        let c = try b.costs()[0]
        // out = 1·16·32·32 = 16384; MACs = 16384 · (3·3·3) = 442368
        XCTAssertEqual(c.counts.macs, 442_368)
        XCTAssertEqual(c.counts.flops, 2 * 442_368 + 16_384)          // + one bias add per output
        XCTAssertEqual(c.counts.denseMACs, 442_368)
        XCTAssertEqual(c.counts.onnxToolMACs, 442_368 + 16_384)
        XCTAssertEqual(c.params, 16 * 27 + 16)
        XCTAssertEqual(c.bytesReadActivations, 3 * 32 * 32 * 4)
        XCTAssertEqual(c.bytesReadWeights, Double(448 * 4))
        XCTAssertEqual(c.bytesWritten, 16_384 * 4)
        XCTAssertEqual(c.opClass, .matmul)
        XCTAssertEqual(c.gemm, GemmShape(batch: 1, m: 1024, n: 16, k: 27))
        // bytes at a chosen precision
        let half = try b.costs(precision: .fp16)[0]
        XCTAssertEqual(half.bytesReadActivations, 3 * 32 * 32 * 2)
    }

    func testDepthwiseConvAndStrides() throws {
        var b = GraphBuilder()
        b.input("x", [1, 8, 10, 10]); b.weight("w", [8, 1, 3, 3])
        b.node("Conv", ["x", "w"], ["y"], ["group": .int(8), "strides": .ints([2, 2])])
        let a = try CostAnalysis(graph: b.g)
        // out spatial = (10 - 3)/2 + 1 = 4 → y = [1, 8, 4, 4] = 128; MACs = 128 · 1·3·3
        XCTAssertEqual(a.shapes.shapes[b.names["y"]!], [1, 8, 4, 4])
        XCTAssertEqual(a.costs[0].counts.macs, 1152)
        XCTAssertEqual(a.costs[0].counts.flops, 2304)
    }

    func testBatchedMatMulAndGemm() throws {
        var b = GraphBuilder()
        b.input("a", [2, 4, 8, 16]); b.weight("w", [16, 32])
        b.node("MatMul", ["a", "w"], ["y"])
        b.input("p", [4, 10]); b.weight("q", [20, 10]); b.weight("c", [20])
        b.node("Gemm", ["p", "q", "c"], ["z"], ["transB": .int(1)])
        let c = try b.costs()
        XCTAssertEqual(c[0].counts.macs, 2 * 4 * 8 * 32 * 16)          // out elements · K
        XCTAssertEqual(c[0].counts.flops, 2 * 32_768)
        XCTAssertEqual(c[1].counts.macs, 4 * 20 * 10)
        XCTAssertEqual(c[1].counts.flops, 2 * 800 + 80)                // bias add per output
        XCTAssertEqual(c[1].counts.onnxToolMACs, 80 * 10 + 80)
        XCTAssertEqual(c[1].counts.deepspeedFLOPs, 1680)
    }

    func testNormalizationSoftmaxAndElementwise() throws {
        var b = GraphBuilder()
        b.input("x", [2, 3, 4]); b.weight("g", [4]); b.weight("bb", [4]); b.weight("k", [4])
        b.node("LayerNormalization", ["x", "g", "bb"], ["ln"], ["axis": .int(-1)])
        b.node("Softmax", ["ln"], ["sm"])
        b.node("Add", ["sm", "k"], ["ad"])
        b.node("Tanh", ["ad"], ["th"])
        let c = try b.costs()
        XCTAssertEqual(c[0].counts.flops, 5 * 24)
        XCTAssertEqual(c[0].counts.onnxToolMACs, 24 * 7 + 6 * 29)      // 7/elem + 29/row, 6 rows
        XCTAssertEqual(c[0].counts.fvcoreMACs, 5 * 24)
        XCTAssertEqual(c[1].counts.flops, 5 * 24)
        XCTAssertEqual(c[1].counts.onnxToolMACs, 36 * 24)
        XCTAssertEqual(c[1].counts.deepspeedFLOPs, 24)
        XCTAssertEqual(c[2].counts.flops, 24)                          // broadcast output elements
        XCTAssertEqual(c[3].counts.flops, 24)
        XCTAssertEqual(c[3].counts.onnxToolMACs, 76 * 24)
        for k in c { XCTAssertEqual(k.counts.macs, 0); XCTAssertEqual(k.counts.denseMACs, 0) }
    }

    func testPoolingShapesAndCeilMode() throws {
        var b = GraphBuilder()
        b.input("x", [1, 1, 5, 5])
        b.node("MaxPool", ["x"], ["y"], ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])])
        b.node("MaxPool", ["x"], ["z"], ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2]), "ceil_mode": .int(1)])
        b.node("GlobalAveragePool", ["x"], ["gap"])
        let a = try CostAnalysis(graph: b.g)
        XCTAssertEqual(a.shapes.shapes[b.names["y"]!], [1, 1, 2, 2])
        XCTAssertEqual(a.shapes.shapes[b.names["z"]!], [1, 1, 3, 3])
        XCTAssertEqual(a.costs[0].counts.flops, 4 * 4)                 // 4 outputs · 2·2 window
        XCTAssertEqual(a.costs[2].counts.flops, 25)
        XCTAssertEqual(a.costs[2].counts.onnxToolMACs, 25 + 4)         // in + 4·out
    }

    func testLSTMAndAttention() throws {
        var b = GraphBuilder()
        b.input("x", [8, 1, 64]); b.weight("w", [1, 512, 64]); b.weight("r", [1, 512, 128]); b.weight("bias", [1, 1024])
        b.node("LSTM", ["x", "w", "r", "bias"], ["y", "yh", "yc"], ["hidden_size": .int(128)])
        b.input("q", [1, 2, 4, 8]); b.input("k", [1, 2, 4, 8]); b.input("v", [1, 2, 4, 8])
        b.node("Attention", ["q", "k", "v"], ["o"], ["is_causal": .int(1)])
        let a = try CostAnalysis(graph: b.g)
        // seq·batch·dirs·4h·(in+h) = 8·1·1·512·192
        XCTAssertEqual(a.costs[0].counts.denseMACs, 786_432)
        XCTAssertEqual(a.shapes.shapes[b.names["y"]!], [8, 1, 1, 128])
        // onnx-tool: gemm + bias(1024·8) + (4 + 96 + 76 + 4)·(8·128)
        XCTAssertEqual(a.costs[0].counts.onnxToolMACs, 786_432 + 8192 + 180 * 1024)
        // scores 1·2·4·4 = 32, causal (4+1)/(2·4) → 20; MACs = 20·(8+8)
        XCTAssertEqual(a.costs[1].counts.macs, 320)
        XCTAssertEqual(a.costs[1].counts.flops, 640 + 100)
    }

    func testSymbolicBindingAndShapeArithmeticFolding() throws {
        var b = GraphBuilder()
        b.input("x", [.symbolic("batch"), .known(3), .known(4)])
        b.weight("idx0", [], values: [0], bits: 64, isFloat: false)
        b.weight("ax0", [1], values: [0], bits: 64, isFloat: false)
        b.weight("minus1", [1], values: [-1], bits: 64, isFloat: false)
        b.weight("w", [12, 5])
        b.node("Shape", ["x"], ["s"])
        b.node("Gather", ["s", "idx0"], ["n"])
        b.node("Unsqueeze", ["n", "ax0"], ["n1"])
        b.node("Concat", ["n1", "minus1"], ["shape"], ["axis": .int(0)])
        b.node("Reshape", ["x", "shape"], ["flat"])
        b.node("MatMul", ["flat", "w"], ["y"])
        XCTAssertEqual(b.g.symbols, ["batch"])
        XCTAssertThrowsError(try b.costs()) { e in
            XCTAssertEqual(e as? EstimationError, .unboundSymbol(name: "batch", value: "input \"x\" [batch,3,4] (its leading dimension: batch= binds it too)"))
        }
        let a = try CostAnalysis(graph: b.g, bindings: ["batch": 8])
        XCTAssertEqual(a.shapes.shapes[b.names["flat"]!], [8, 12])
        XCTAssertEqual(a.costs[5].counts.macs, 8 * 5 * 12)
        XCTAssertEqual(a.costs[0].status, .folded)
        XCTAssertEqual(a.costs[3].status, .folded)
        XCTAssertEqual(a.costs[4].opClass, .metadata)                   // Reshape moves nothing
        XCTAssertEqual(a.costs[4].bytes, 0)
        XCTAssertEqual(a.costs[5].params, 60)
        XCTAssertEqual(a.shapes.issues.count, 0)
    }

    func testConstantOfShapeWeightsAreParameters() throws {
        var b = GraphBuilder()
        b.input("a", [2, 12])
        b.weight("wshape", [2], values: [5, 12], bits: 64, isFloat: false)
        b.node("ConstantOfShape", ["wshape"], ["w"], ["value": .tensor(ConstTensor(shape: [1], elementBits: 32, isFloat: true))])
        b.node("Gemm", ["a", "w"], ["y"], ["transB": .int(1)])
        b.node("Relu", ["y"], ["r"])
        let c = try b.costs()
        XCTAssertEqual(c[0].status, .folded)
        XCTAssertEqual(c[1].params, 60)
        XCTAssertEqual(c[1].bytesReadWeights, 240)
        XCTAssertEqual(c[1].counts.macs, 2 * 5 * 12)
        XCTAssertEqual(c[2].params, 0)
    }

    func testConventionsTotalsAndIssues() throws {
        var b = GraphBuilder()
        b.input("x", [1, 3, 8, 8]); b.weight("w", [4, 3, 1, 1]); b.weight("bias", [4])
        b.node("Conv", ["x", "w", "bias"], ["c"], name: "/enc/conv/Conv", path: ["enc", "conv"])
        b.node("BatchNormalization", ["c", "bias", "bias", "bias", "bias"], ["bn"], path: ["enc"])
        b.node("Relu", ["bn"], ["r"], path: ["enc"])
        b.node("MysteryOp", ["r"], ["m"])
        // conv out = 4·64 = 256, MACs 256·3 = 768
        let native = try GraphEstimator.estimate(b.g, options: EstimateOptions())
        XCTAssertEqual(native.totals.macs, 768)
        XCTAssertEqual(native.totals.flops, 2 * 768 + 256 + 2 * 256 + 256)
        let dense = try GraphEstimator.estimate(b.g, options: EstimateOptions(convention: .dense))
        XCTAssertEqual(dense.totals.macs, 768); XCTAssertEqual(dense.totals.flops, 1536)
        let ot = try GraphEstimator.estimate(b.g, options: EstimateOptions(convention: .onnxTool))
        XCTAssertEqual(ot.totals.macs, 768 + 256 + 31 * 256 + 256)
        let fv = try GraphEstimator.estimate(b.g, options: EstimateOptions(convention: .fvcore))
        XCTAssertEqual(fv.totals.macs, 768 + 2 * 256)
        XCTAssertEqual(native.totals.params, 12 + 4)                  // the bias tensor is owned once
        XCTAssertEqual(native.nodes[3].status, .unsupportedOp)
        XCTAssertTrue(native.issues.contains { $0.contains("MysteryOp") })
        XCTAssertEqual(native.namespaces.map(\.path), ["enc", "enc/conv"])
        XCTAssertEqual(native.namespaces[0].nodeCount, 3)
        XCTAssertEqual(native.namespaces[1].macs, 768)
        XCTAssertEqual(native.opTypes.first?.opType, "Conv")
        XCTAssertNil(native.totals.latencySeconds)
    }

    func testSliceSplitResizeAndTransposeShapes() throws {
        var b = GraphBuilder()
        b.input("x", [1, 4, 6, 6])
        b.weight("st", [1], values: [1], bits: 64, isFloat: false); b.weight("en", [1], values: [-1], bits: 64, isFloat: false)
        b.weight("ax", [1], values: [2], bits: 64, isFloat: false)
        b.weight("scales", [4], values: [1, 1, 2, 2])
        b.node("Slice", ["x", "st", "en", "ax"], ["s"])
        b.node("Split", ["x"], ["p0", "p1"], ["axis": .int(1)])
        b.node("Resize", ["x", "", "scales"], ["rz"], ["mode": .string("linear")])
        b.node("Transpose", ["x"], ["t"], ["perm": .ints([0, 2, 3, 1])])
        let a = try CostAnalysis(graph: b.g)
        XCTAssertEqual(a.shapes.shapes[b.names["s"]!], [1, 4, 4, 6])
        XCTAssertEqual(a.shapes.shapes[b.names["p1"]!], [1, 2, 6, 6])
        XCTAssertEqual(a.shapes.shapes[b.names["rz"]!], [1, 4, 12, 12])
        XCTAssertEqual(a.shapes.shapes[b.names["t"]!], [1, 6, 6, 4])
        XCTAssertEqual(a.costs[2].counts.flops, 4 * 576)
        XCTAssertEqual(a.costs[3].counts.flops, 0)
        XCTAssertEqual(a.costs[3].bytes, 2 * 144 * 4)
    }
}

final class BindingParseTests: XCTestCase {
    func testParsesWordsAndReportsBadOnes() throws {
        XCTAssertEqual(try EstimateOptions.parseBindings(["batch=8", "seq=512"]), ["batch": 8, "seq": 512])
        XCTAssertEqual(try EstimateOptions.parseBindings(["batch=8 seq=512"]), ["batch": 8, "seq": 512])
        XCTAssertThrowsError(try EstimateOptions.parseBindings(["batch"])) { XCTAssertTrue(String(describing: $0).contains("batch")) }
        XCTAssertThrowsError(try EstimateOptions.parseBindings(["seq=-1"])) { XCTAssertTrue(String(describing: $0).contains("seq")) }
        XCTAssertThrowsError(try EstimateOptions.parseBindings(["seq=abc"]))
    }
}
