/// Kernel-family tests of the interpreter against small hand-computed cases, plus the plan
/// (buffer reuse, folding), weights in place, cancellation, keep and the named errors.
import Foundation
import GraphIR
import XCTest
@testable import GraphRuntime

/// Builds a one-or-more-node model with float inputs of fixed shapes.
func model(_ nodes: [Node], inputs: [(String, [Int64])], outputs: [String], initializers: [Tensor] = [],
           opset: Int64 = 17) -> Model {
    let g = Graph(nodes: nodes,
                  inputs: inputs.map { ValueInfo(name: $0.0, type: .tensor(.float, TensorShape(static: $0.1))) },
                  outputs: outputs.map { ValueInfo(name: $0) }, initializers: initializers)
    return Model(graph: g, opsetImports: [OpsetImport(version: opset)])
}

func evaluate(_ m: Model, _ feeds: [String: RuntimeTensor]) throws -> [Float] {
    try Interpreter(model: m).run(feeds).outputs[0].tensor.floatValues()
}

func t(_ v: [Float], _ shape: [Int]) -> RuntimeTensor { RuntimeTensor(floats: v, shape: shape) }

/// Runs `interpreter` on `feeds`, cancels the run 0.2 s in, and checks that the run ends with a
/// "cancelled" error naming `node` within half a second of the cancel (loose: CI machines are
/// noisy; a miss is seconds or forever).
func assertStopsWhenCancelled(_ interpreter: Interpreter, _ feeds: [String: RuntimeTensor], node: String,
                              file: StaticString = #filePath, line: UInt = #line) {
    let flag = CancellationFlag()
    let cancelled = Date().addingTimeInterval(0.2)
    DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { flag.cancel() }
    XCTAssertThrowsError(try interpreter.run(feeds, cancellation: flag), file: file, line: line) { e in
        XCTAssertEqual((e as? RuntimeError)?.node, node, file: file, line: line)
        XCTAssertTrue("\(e)".contains("cancelled"), "\(e)", file: file, line: line)
    }
    XCTAssertLessThan(Date().timeIntervalSince(cancelled), 0.5, file: file, line: line)
}

/// Deterministic values in [-0.5, 0.5).
func noise(_ n: Int, seed: UInt64) -> [Float] {
    var s = seed &* 6364136223846793005 &+ 1442695040888963407
    return (0..<n).map { _ in
        s = s &* 6364136223846793005 &+ 1442695040888963407
        return Float(Double(s >> 40) / Double(1 << 24)) - 0.5
    }
}

/// The largest elementwise difference of two outputs (their counts must agree).
func maxError(_ a: [Float], _ b: [Float], file: StaticString = #filePath, line: UInt = #line) -> Float {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

func assertClose(_ a: [Float], _ b: [Float], tol: Float = 1e-5, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: tol, "\(a) vs \(b)", file: file, line: line) }
}

final class ElementwiseTests: XCTestCase {
    func testBroadcastAddPerChannel() throws {
        let m = model([Node(opType: "Add", inputs: ["x", "b"], outputs: ["y"])],
                      inputs: [("x", [1, 2, 1, 3]), ("b", [1, 2, 1, 1])], outputs: ["y"])
        let y = try evaluate(m, ["x": t([1, 2, 3, 4, 5, 6], [1, 2, 1, 3]), "b": t([10, 20], [1, 2, 1, 1])])
        assertClose(y, [11, 12, 13, 24, 25, 26])
    }

    func testBroadcastSubRowAgainstColumn() throws {
        let m = model([Node(opType: "Sub", inputs: ["a", "b"], outputs: ["y"])],
                      inputs: [("a", [2, 1]), ("b", [3])], outputs: ["y"])
        assertClose(try evaluate(m, ["a": t([1, 2], [2, 1]), "b": t([1, 2, 3], [3])]), [0, -1, -2, 1, 0, -1])
    }

    func testActivations() throws {
        let x: [Float] = [-4, -1, 0, 2, 5]
        let cases: [(String, [Attribute], [Float])] = [
            ("Relu", [], [0, 0, 0, 2, 5]),
            ("HardSigmoid", [], [0, 0.3, 0.5, 0.9, 1]),
            ("HardSwish", [], [0, -1.0 / 3, 0, 2 * 5.0 / 6, 5]),
            ("Sigmoid", [], x.map { 1 / (1 + exp(-$0)) }),
            ("LeakyRelu", [Attribute("alpha", .float(0.5))], [-2, -0.5, 0, 2, 5]),
        ]
        for (op, attrs, want) in cases {
            let m = model([Node(opType: op, inputs: ["x"], outputs: ["y"], attributes: attrs)], inputs: [("x", [5])], outputs: ["y"])
            assertClose(try evaluate(m, ["x": t(x, [5])]), want)
        }
    }

    func testClipWithInputsAndIntegerDiv() throws {
        let m = model([Node(opType: "Clip", inputs: ["x", "lo", "hi"], outputs: ["y"])], inputs: [("x", [4])], outputs: ["y"],
                      initializers: [Tensor(name: "lo", floats: [0], dims: []), Tensor(name: "hi", floats: [6], dims: [])])
        assertClose(try evaluate(m, ["x": t([-1, 3, 6, 9], [4])]), [0, 3, 6, 6])
        let d = model([Node(opType: "Div", inputs: ["a", "b"], outputs: ["y"]), Node(opType: "Cast", inputs: ["y"], outputs: ["z"], attributes: [Attribute("to", .int(1))])],
                      inputs: [], outputs: ["z"],
                      initializers: [Tensor(name: "a", int64s: [7, -7], dims: [2]), Tensor(name: "b", int64s: [2, 2], dims: [2])])
        assertClose(try evaluate(d, [:]), [3, -3]) // truncation toward zero, folded at plan time
    }
}

final class ConvTests: XCTestCase {
    /// 1x1x3x3 input, 2x2 kernel of ones, stride 1, no pad: window sums.
    func testConvWindowSums() throws {
        let m = model([Node(opType: "Conv", inputs: ["x", "w", "b"], outputs: ["y"])], inputs: [("x", [1, 1, 3, 3])], outputs: ["y"],
                      initializers: [Tensor(name: "w", floats: [1, 1, 1, 1], dims: [1, 1, 2, 2]), Tensor(name: "b", floats: [0.5], dims: [1])])
        assertClose(try evaluate(m, ["x": t((1...9).map(Float.init), [1, 1, 3, 3])]), [12.5, 16.5, 24.5, 28.5])
    }

    /// Padded, strided 3x3 conv against a direct sum; and the depthwise path equals it per channel.
    func testPaddedStridedAndDepthwise() throws {
        for stride in [1, 2] { try checkDepthwise(stride: stride) }
    }

    func checkDepthwise(stride: Int) throws {
        let x: [Float] = (0..<32).map { Float($0 % 7) - 3 }
        let w: [Float] = (0..<18).map { Float($0 % 5) - 2 }
        func direct(_ c: Int, _ oy: Int, _ ox: Int) -> Float {
            var s: Float = 0
            for i in 0..<3 { for j in 0..<3 {
                let iy = oy * stride - 1 + i, ix = ox * stride - 1 + j
                if iy >= 0 && iy < 4 && ix >= 0 && ix < 4 { s += x[c * 16 + iy * 4 + ix] * w[c * 9 + i * 3 + j] }
            } }
            return s
        }
        let attrs = [Attribute("pads", .ints([1, 1, 1, 1])), Attribute("strides", .ints([Int64(stride), Int64(stride)])), Attribute("group", .int(2))]
        let m = model([Node(opType: "Conv", inputs: ["x", "w"], outputs: ["y"], attributes: attrs)], inputs: [("x", [1, 2, 4, 4])],
                      outputs: ["y"], initializers: [Tensor(name: "w", floats: w, dims: [2, 1, 3, 3])])
        var want: [Float] = []
        let side = stride == 1 ? 4 : 2
        for c in 0..<2 { for oy in 0..<side { for ox in 0..<side { want.append(direct(c, oy, ox)) } } }
        assertClose(try evaluate(m, ["x": t(x, [1, 2, 4, 4])]), want)
    }

    func testConvTransposeStride2() throws {
        let m = model([Node(opType: "ConvTranspose", inputs: ["x", "w"], outputs: ["y"], attributes: [Attribute("strides", .ints([2, 2]))])],
                      inputs: [("x", [1, 1, 1, 2])], outputs: ["y"], initializers: [Tensor(name: "w", floats: [1, 2, 3, 4], dims: [1, 1, 2, 2])])
        assertClose(try evaluate(m, ["x": t([1, 10], [1, 1, 1, 2])]), [1, 2, 10, 20, 3, 4, 30, 40])
    }
}

final class LinearAndPoolTests: XCTestCase {
    func testGemmTransBWithBias() throws {
        let m = model([Node(opType: "Gemm", inputs: ["a", "b", "c"], outputs: ["y"], attributes: [Attribute("transB", .int(1))])],
                      inputs: [("a", [1, 2])], outputs: ["y"],
                      initializers: [Tensor(name: "b", floats: [1, 2, 3, 4, 5, 6], dims: [3, 2]), Tensor(name: "c", floats: [1, 1, 1], dims: [3])])
        assertClose(try evaluate(m, ["a": t([1, 1], [1, 2])]), [4, 8, 12])
    }

    /// A single row of A runs as a matrix-vector product: every transpose combination, alpha
    /// and beta with a broadcast C, against a direct sum; depths with and without a partial
    /// vector of 16 and row counts with and without a partial group of 4 (`gs_sgemv_rows`).
    func testGemmSingleRowAllTransposes() throws {
        for (k, n) in [(37, 19), (64, 8), (1000, 5), (3, 4)] {
            try checkSingleRowGemm(k: k, n: n)
        }
    }

    /// With threads the rows of a batch-1 fully connected layer run in parts at once: the
    /// numbers are those of one thread.
    func testSingleRowGemmWithThreadsGivesIdenticalNumbers() throws {
        let k = 300, n = 1030
        let av = noise(k, seed: 3), bv = noise(k * n, seed: 4), cv = noise(n, seed: 5)
        let m = model([Node(opType: "Gemm", inputs: ["a", "b", "c"], outputs: ["y"], attributes: [Attribute("transB", .int(1))])],
                      inputs: [("a", [1, Int64(k)])], outputs: ["y"],
                      initializers: [Tensor(name: "b", floats: bv, dims: [Int64(n), Int64(k)]),
                                     Tensor(name: "c", floats: cv, dims: [Int64(n)])])
        var results: [[Float]] = []
        for threads in [1, 3] {
            let interp = try Interpreter(model: m, threads: threads)
            results.append(try interp.run(["a": t(av, [1, k])]).outputs[0].tensor.floatValues())
        }
        _ = try Interpreter(model: m, threads: 1)  // OpenBLAS's count is process-wide: back to one
        XCTAssertEqual(results[1], results[0])
        let expected = (0..<n).map { j -> Float in
            var s: Float = 0
            for i in 0..<k { s += av[i] * bv[j * k + i] }
            return s + cv[j]
        }
        assertClose(results[1], expected, tol: 1e-4)
    }

    func checkSingleRowGemm(k: Int, n: Int) throws {
        let av = noise(k, seed: 3), bv = noise(k * n, seed: 4), cv = noise(n, seed: 5)
        for transA in [false, true] {
            for transB in [false, true] {
                let m = model([Node(opType: "Gemm", inputs: ["a", "b", "c"], outputs: ["y"],
                                    attributes: [Attribute("transA", .int(transA ? 1 : 0)), Attribute("transB", .int(transB ? 1 : 0)),
                                                 Attribute("alpha", .float(0.5)), Attribute("beta", .float(2))])],
                              inputs: [("a", transA ? [Int64(k), 1] : [1, Int64(k)])], outputs: ["y"],
                              initializers: [Tensor(name: "b", floats: bv, dims: transB ? [Int64(n), Int64(k)] : [Int64(k), Int64(n)]),
                                             Tensor(name: "c", floats: cv, dims: [Int64(n)])])
                let y = try evaluate(m, ["a": t(av, transA ? [k, 1] : [1, k])])
                let expected = (0..<n).map { j -> Float in
                    var s: Float = 0
                    for i in 0..<k { s += av[i] * (transB ? bv[j * k + i] : bv[i * n + j]) }
                    return 0.5 * s + 2 * cv[j]
                }
                assertClose(y, expected, tol: 1e-4)
            }
        }
    }

    /// LRN against the ONNX formula in double: beta 0.75 (square roots) and another beta (pow),
    /// even and odd window sizes, a batch of 2.
    func testLRNAgreesWithFormula() throws {
        let n = 2, c = 7, inner = 23
        let xv = noise(n * c * inner, seed: 9).map { $0 * 4 }
        for (size, beta) in [(5, Float(0.75)), (4, Float(0.6)), (1, Float(0.75))] {
            let alpha: Float = 0.02, bias: Float = 1.5
            let m = model([Node(opType: "LRN", inputs: ["x"], outputs: ["y"],
                                attributes: [Attribute("size", .int(Int64(size))), Attribute("alpha", .float(alpha)),
                                             Attribute("beta", .float(beta)), Attribute("bias", .float(bias))])],
                          inputs: [("x", [Int64(n), Int64(c), 1, Int64(inner)])], outputs: ["y"])
            let y = try evaluate(m, ["x": t(xv, [n, c, 1, inner])])
            var expected = [Float](repeating: 0, count: xv.count)
            let lo = (size - 1) / 2, hi = size - 1 - lo
            for b in 0..<n { for ch in 0..<c { for i in 0..<inner {
                var sq = 0.0
                for k in max(0, ch - lo)...min(c - 1, ch + hi) { let v = Double(xv[(b * c + k) * inner + i]); sq += v * v }
                let idx = (b * c + ch) * inner + i
                expected[idx] = Float(Double(xv[idx]) / pow(Double(bias) + Double(alpha) / Double(size) * sq, Double(beta)))
            } } }
            assertClose(y, expected, tol: 1e-5)
        }
    }

    /// The vectorised tanh against Foundation's over a sweep across the polynomial/exp switch at
    /// 0.625, large magnitudes, infinities and NaN.
    func testTanhAgreesWithFoundation() throws {
        var xs: [Float] = stride(from: -12, through: 12, by: 0.0137).map { Float($0) }
        xs += [0, -0, 0.624, 0.625, 0.626, -0.625, 1e-8, -1e-8, 50, -50, .infinity, -.infinity, .nan]
        let m = model([Node(opType: "Tanh", inputs: ["x"], outputs: ["y"])], inputs: [("x", [Int64(xs.count)])], outputs: ["y"])
        let y = try evaluate(m, ["x": t(xs, [xs.count])])
        for (x, v) in zip(xs, y) {
            let want = Foundation.tanh(x)
            if want.isNaN { XCTAssertTrue(v.isNaN, "tanh(\(x))"); continue }
            XCTAssertEqual(v, want, accuracy: 2e-7 + 2e-6 * abs(want), "tanh(\(x))")
        }
    }

    /// The vectorised erf (and exact Gelu) against Foundation's, across both polynomial
    /// switches (1 and 2), the tails, infinities and NaN.
    func testErfAndGeluAgreeWithFoundation() throws {
        var xs: [Float] = stride(from: -10, through: 10, by: 0.0113).map { Float($0) }
        xs += [0, 0.999, 1, 1.001, 1.999, 2, 2.001, -1, -2, 1e-7, .infinity, -.infinity, .nan]
        let erfModel = model([Node(opType: "Erf", inputs: ["x"], outputs: ["y"])], inputs: [("x", [Int64(xs.count)])], outputs: ["y"])
        let gelu = model([Node(opType: "Gelu", inputs: ["x"], outputs: ["y"])], inputs: [("x", [Int64(xs.count)])], outputs: ["y"],
                         opset: 20)
        let e = try evaluate(erfModel, ["x": t(xs, [xs.count])]), g = try evaluate(gelu, ["x": t(xs, [xs.count])])
        for (i, x) in xs.enumerated() {
            let want = Foundation.erf(Double(x)), wantGelu = 0.5 * Double(x) * Foundation.erfc(-Double(x) / 2.squareRoot())
            if x.isNaN { XCTAssertTrue(e[i].isNaN && g[i].isNaN); continue }
            XCTAssertEqual(Double(e[i]), want, accuracy: 3e-7 + 1e-6 * abs(want), "erf(\(x))")
            if x.isFinite { XCTAssertEqual(Double(g[i]), wantGelu, accuracy: 1e-6 + 1e-6 * abs(wantGelu), "gelu(\(x))") }
        }
    }

    func testBatchedMatMulBroadcast() throws {
        let m = model([Node(opType: "MatMul", inputs: ["a", "b"], outputs: ["y"])], inputs: [("a", [2, 1, 2]), ("b", [2, 1])], outputs: ["y"])
        assertClose(try evaluate(m, ["a": t([1, 2, 3, 4], [2, 1, 2]), "b": t([10, 1], [2, 1])]), [12, 34])
    }

    func testPoolingAndBatchNorm() throws {
        let x = t((1...16).map(Float.init), [1, 1, 4, 4])
        let mp = model([Node(opType: "MaxPool", inputs: ["x"], outputs: ["y"], attributes: [Attribute("kernel_shape", .ints([2, 2])), Attribute("strides", .ints([2, 2]))])],
                       inputs: [("x", [1, 1, 4, 4])], outputs: ["y"])
        assertClose(try evaluate(mp, ["x": x]), [6, 8, 14, 16])
        let ap = model([Node(opType: "AveragePool", inputs: ["x"], outputs: ["y"], attributes: [Attribute("kernel_shape", .ints([3, 3])), Attribute("pads", .ints([1, 1, 1, 1])), Attribute("strides", .ints([3, 3]))])],
                       inputs: [("x", [1, 1, 4, 4])], outputs: ["y"])
        // Padding excluded from the count: top-left window holds 1,2,5,6.
        assertClose(try evaluate(ap, ["x": x]), [3.5, 5.5, 11.5, 13.5])
        // One window over each whole plane (plane means), 37 values: past the 16-lane sums.
        let whole = model([Node(opType: "AveragePool", inputs: ["x"], outputs: ["y"], attributes: [Attribute("kernel_shape", .ints([1, 37]))])],
                          inputs: [("x", [1, 2, 1, 37])], outputs: ["y"])
        let planes = (0..<74).map { Float($0 % 37) + ($0 < 37 ? 0 : 100) }
        assertClose(try evaluate(whole, ["x": t(planes, [1, 2, 1, 37])]), [18, 118])
        let bn = model([Node(opType: "BatchNormalization", inputs: ["x", "s", "b", "m", "v"], outputs: ["y"], attributes: [Attribute("epsilon", .float(0))])],
                       inputs: [("x", [1, 2, 1, 1])], outputs: ["y"],
                       initializers: [Tensor(name: "s", floats: [2, 1], dims: [2]), Tensor(name: "b", floats: [1, 0], dims: [2]),
                                      Tensor(name: "m", floats: [1, 0], dims: [2]), Tensor(name: "v", floats: [4, 1], dims: [2])])
        assertClose(try evaluate(bn, ["x": t([3, 5], [1, 2, 1, 1])]), [3, 5])
    }

    func testSoftmaxAndReduceMean() throws {
        let sm = model([Node(opType: "Softmax", inputs: ["x"], outputs: ["y"])], inputs: [("x", [1, 2])], outputs: ["y"])
        let e = exp(Float(1))
        assertClose(try evaluate(sm, ["x": t([0, 1], [1, 2])]), [1 / (1 + e), e / (1 + e)])
        let rm = model([Node(opType: "ReduceMean", inputs: ["x"], outputs: ["y"], attributes: [Attribute("axes", .ints([-1]))])],
                       inputs: [("x", [2, 3])], outputs: ["y"], opset: 13)
        assertClose(try evaluate(rm, ["x": t([1, 2, 3, 4, 5, 9], [2, 3])]), [2, 6])
    }
}

final class DataMovementTests: XCTestCase {
    func testTransposeSliceConcatGather() throws {
        let x = t([1, 2, 3, 4, 5, 6], [2, 3])
        let tr = model([Node(opType: "Transpose", inputs: ["x"], outputs: ["y"], attributes: [Attribute("perm", .ints([1, 0]))])], inputs: [("x", [2, 3])], outputs: ["y"])
        assertClose(try evaluate(tr, ["x": x]), [1, 4, 2, 5, 3, 6])
        let sl = model([Node(opType: "Slice", inputs: ["x", "s", "e", "a", "st"], outputs: ["y"])], inputs: [("x", [2, 3])], outputs: ["y"],
                       initializers: [Tensor(name: "s", int64s: [-1], dims: [1]), Tensor(name: "e", int64s: [-100], dims: [1]),
                                      Tensor(name: "a", int64s: [1], dims: [1]), Tensor(name: "st", int64s: [-2], dims: [1])])
        assertClose(try evaluate(sl, ["x": x]), [3, 1, 6, 4])
        let cc = model([Node(opType: "Concat", inputs: ["x", "x"], outputs: ["y"], attributes: [Attribute("axis", .int(1))])], inputs: [("x", [2, 3])], outputs: ["y"])
        assertClose(try evaluate(cc, ["x": x]), [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6])
        let ga = model([Node(opType: "Gather", inputs: ["x", "i"], outputs: ["y"], attributes: [Attribute("axis", .int(1))])], inputs: [("x", [2, 3])], outputs: ["y"],
                       initializers: [Tensor(name: "i", int64s: [-1, 0], dims: [2])])
        assertClose(try evaluate(ga, ["x": x]), [3, 1, 6, 4])
    }

    func testShapeReshapeFoldedAndResizeNearest() throws {
        // Shape -> Reshape: the shape is known from inference, so Shape folds at plan time.
        let m = model([Node(opType: "Shape", inputs: ["x"], outputs: ["s"]), Node(opType: "Reshape", inputs: ["x", "s"], outputs: ["y"])],
                      inputs: [("x", [2, 2])], outputs: ["y"])
        let interp = try Interpreter(model: m)
        XCTAssertEqual(try interp.plan(inputShapes: ["x": [2, 2]]).foldedNodes, 1)
        assertClose(try interp.run(["x": t([1, 2, 3, 4], [2, 2])]).outputs[0].tensor.floatValues(), [1, 2, 3, 4])
        let rs = model([Node(opType: "Resize", inputs: ["x", "", "sc"], outputs: ["y"],
                             attributes: [Attribute("mode", .text("nearest")), Attribute("coordinate_transformation_mode", .text("asymmetric")), Attribute("nearest_mode", .text("floor"))])],
                       inputs: [("x", [1, 1, 1, 2])], outputs: ["y"], initializers: [Tensor(name: "sc", floats: [1, 1, 2, 2], dims: [4])], opset: 13)
        assertClose(try evaluate(rs, ["x": t([1, 2], [1, 1, 1, 2])]), [1, 1, 2, 2, 1, 1, 2, 2])
    }
}

final class PlanAndExecutorTests: XCTestCase {
    /// A chain of five Negs (an op elementwise fusion leaves alone) needs two blocks, not five;
    /// five Relus fuse into one step with one block.
    func testBuffersOfDeadValuesAreReused() throws {
        let names = ["x", "a", "b", "c", "d", "y"]
        let relus = (0..<5).map { Node(opType: "Relu", inputs: [names[$0]], outputs: [names[$0 + 1]]) }
        let fused = try Interpreter(model: model(relus, inputs: [("x", [256])], outputs: ["y"])).plan(inputShapes: ["x": [256]])
        XCTAssertEqual(fused.stepCount, 1)
        XCTAssertEqual(fused.peakActivationBytes, 1024)
        let nodes = (0..<5).map { Node(opType: "Neg", inputs: [names[$0]], outputs: [names[$0 + 1]]) }
        let interp = try Interpreter(model: model(nodes, inputs: [("x", [256])], outputs: ["y"]))
        let p = try interp.plan(inputShapes: ["x": [256]])
        XCTAssertEqual(p.totalActivationBytes, 5 * 1024)
        XCTAssertEqual(p.peakActivationBytes, 2 * 1024)
        let r1 = try interp.run(["x": t((0..<256).map { Float($0) - 100 }, [256])])
        let r2 = try interp.run(["x": t(Array(repeating: -1, count: 256), [256])])
        // The first result is a copy: the second run's reuse of the blocks did not change it.
        XCTAssertEqual(r1.outputs[0].tensor.floatValues()[255], -155)
        XCTAssertEqual(r2.outputs[0].tensor.floatValues()[255], 1)
    }

    /// Conv -> BatchNormalization runs as one Conv with folded weights, with the same result
    /// as running both (keeping the Conv output prevents the fold).
    func testBatchNormFoldsIntoConv() throws {
        let inits = [Tensor(name: "w", floats: [1, -2, 0.5, 3], dims: [2, 2, 1, 1]), Tensor(name: "cb", floats: [0.25, -1], dims: [2]),
                     Tensor(name: "s", floats: [2, 0.5], dims: [2]), Tensor(name: "b", floats: [1, -3], dims: [2]),
                     Tensor(name: "m", floats: [0.5, 2], dims: [2]), Tensor(name: "v", floats: [4, 0.25], dims: [2])]
        let m = model([Node(opType: "Conv", inputs: ["x", "w", "cb"], outputs: ["c"]),
                       Node(opType: "BatchNormalization", inputs: ["c", "s", "b", "m", "v"], outputs: ["y"])],
                      inputs: [("x", [1, 2, 1, 2])], outputs: ["y"], initializers: inits)
        let interp = try Interpreter(model: m)
        let x = t([1, 2, 3, -4], [1, 2, 1, 2])
        XCTAssertEqual(try interp.plan(inputShapes: ["x": [1, 2, 1, 2]]).fusedNodes, 1)
        XCTAssertEqual(try interp.plan(inputShapes: ["x": [1, 2, 1, 2]], keep: .values(["c"])).fusedNodes, 0)
        let fused = try interp.run(["x": x]).outputs[0].tensor.floatValues()
        let separate = try interp.run(["x": x], keep: .values(["c"])).outputs[0].tensor.floatValues()
        // By hand: c0 = [1*1-2*3+.25, 1*2-2*(-4)+.25] = [-4.75, 10.25]; y0 = (c0-.5)/2*2+1.
        assertClose(Array(separate[0..<2]), [-4.25, 10.75], tol: 1e-4)
        assertClose(fused, separate, tol: 1e-4)
    }

    func testKeepAllReturnsIntermediates() throws {
        let m = model([Node(opType: "Neg", inputs: ["x"], outputs: ["a"]), Node(opType: "Relu", inputs: ["a"], outputs: ["y"])],
                      inputs: [("x", [2])], outputs: ["y"])
        let r = try Interpreter(model: m).run(["x": t([1, -2], [2])], keep: .all)
        assertClose(r.kept["a"]?.floatValues() ?? [], [-1, 2])
    }

    func testCancelledRunStopsWithNamedNode() throws {
        let m = model([Node(opType: "Relu", name: "first", inputs: ["x"], outputs: ["y"])], inputs: [("x", [2])], outputs: ["y"])
        let flag = CancellationFlag()
        flag.cancel()
        XCTAssertThrowsError(try Interpreter(model: m).run(["x": t([1, 2], [2])], cancellation: flag)) { e in
            XCTAssertEqual((e as? RuntimeError)?.node, "first")
        }
    }

    func testUnsupportedOpAndBadInputsAreNamed() throws {
        let m = model([Node(opType: "FancyOp", name: "f1", inputs: ["x"], outputs: ["y"])], inputs: [("x", [2])], outputs: ["y"])
        XCTAssertThrowsError(try Interpreter(model: m).run(["x": t([1, 2], [2])])) { e in
            XCTAssertEqual("\(e)", "node 'f1' (FancyOp): op FancyOp is not supported by the interpreter")
        }
        let r = model([Node(opType: "Relu", inputs: ["x"], outputs: ["y"])], inputs: [("x", [2])], outputs: ["y"])
        XCTAssertThrowsError(try Interpreter(model: r).run(["x": t([1, 2, 3], [3])])) { e in
            XCTAssertEqual((e as? RuntimeError)?.input, "x")
        }
        XCTAssertThrowsError(try Interpreter(model: r).run([:])) { e in XCTAssertEqual((e as? RuntimeError)?.input, "x") }
    }

    /// A huge ConstantOfShape is refused before allocating, naming the node; a NaN resize
    /// scale is refused, not a crash.
    func testHugeOutputsAndBadScalesAreRefused() throws {
        let big = model([Node(opType: "ConstantOfShape", name: "huge", inputs: ["s"], outputs: ["y"])], inputs: [], outputs: ["y"],
                        initializers: [Tensor(name: "s", int64s: [1 << 40, 1 << 20], dims: [2])])
        XCTAssertThrowsError(try Interpreter(model: big).run([:])) { e in
            XCTAssertEqual((e as? RuntimeError)?.node, "huge")
            XCTAssertTrue("\(e)".contains("too large") || "\(e)".contains("memory"), "\(e)")
        }
        let rs = model([Node(opType: "Resize", name: "r", inputs: ["x", "", "sc"], outputs: ["y"])], inputs: [("x", [1, 1, 1, 2])], outputs: ["y"],
                       initializers: [Tensor(name: "sc", floats: [1, 1, .nan, 2], dims: [4])], opset: 13)
        XCTAssertThrowsError(try Interpreter(model: rs).run(["x": t([1, 2], [1, 1, 1, 2])])) { e in
            XCTAssertEqual((e as? RuntimeError)?.node, "r")
        }
    }

    /// Counts and coordinates read from data that no Int can hold (NaN, infinity, 1e30,
    /// Int64.max sizes) give named errors or padding, never a trapping conversion: each of
    /// these took the process down before.
    func testValuesNoIntCanHoldAreErrorsNotTraps() throws {
        for depth: Float in [.nan, .infinity, 1e30] {
            let m = model([Node(opType: "OneHot", name: "oh", inputs: ["i", "d", "v"], outputs: ["y"])], inputs: [], outputs: ["y"],
                          initializers: [Tensor(name: "i", int64s: [0, 1], dims: [2]), Tensor(name: "d", floats: [depth], dims: []),
                                         Tensor(name: "v", floats: [0, 1], dims: [2])])
            XCTAssertThrowsError(try Interpreter(model: m).run([:]), "depth \(depth)") { e in XCTAssertEqual((e as? RuntimeError)?.node, "oh") }
        }
        let rs = model([Node(opType: "Resize", name: "r", inputs: ["x", "", "", "sz"], outputs: ["y"],
                             attributes: [Attribute("axes", .ints([3])), Attribute("keep_aspect_ratio_policy", .string(Array("not_larger".utf8)))])],
                       inputs: [("x", [1, 1, 1, 2])], outputs: ["y"], initializers: [Tensor(name: "sz", int64s: [.max], dims: [1])], opset: 18)
        XCTAssertThrowsError(try Interpreter(model: rs).run(["x": t([1, 2], [1, 1, 1, 2])])) { e in XCTAssertEqual((e as? RuntimeError)?.node, "r") }
        // Nearest grid sampling at NaN and huge coordinates samples outside: zero padding.
        let gs = model([Node(opType: "GridSample", inputs: ["x", "g"], outputs: ["y"], attributes: [Attribute("mode", .string(Array("nearest".utf8)))])],
                       inputs: [("x", [1, 1, 2, 2]), ("g", [1, 1, 2, 2])], outputs: ["y"], opset: 20)
        let y = try evaluate(gs, ["x": t([1, 2, 3, 4], [1, 1, 2, 2]), "g": t([.nan, 0, 1e30, -1e30], [1, 1, 2, 2])])
        XCTAssertEqual(y, [0, 0])
    }

    /// Aligned float weights in a file-like storage are used in place, not copied.
    func testAlignedWeightsAreBorrowed() throws {
        let bytes: [UInt8] = [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40] // 1.0, 2.0
        let storage = ByteStorage(copying: bytes, origin: "weights.bin")
        let w = Tensor(name: "w", elementType: .float, dims: [2], data: .raw(storage.slice))
        let (rt, borrowed) = try RuntimeTensor.from(w)
        XCTAssertTrue(borrowed)
        XCTAssertEqual(rt.floatValues(), [1, 2])
        XCTAssertEqual(UnsafeRawPointer(rt.raw), storage.baseAddress)
    }
}
