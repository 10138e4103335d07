/// The kernels and run-loop paths the small transformer exports lean on, against direct
/// computations in Double: the unpacked small GEMM (every tile edge), layer and RMS
/// normalisation rows, sigmoid and softmax without subnormal results, bool logic with
/// broadcasting, IsNaN, transposes whose dims merge, repeated runs of one plan and views
/// (the float32 recurrent cells are in RecurrentTests).
import GraphIR
import XCTest
@testable import GraphRuntime

final class SmallGraphKernelTests: XCTestCase {
    /// MatMul over row counts and column counts on both sides of the 4-row and 16/64-column
    /// tile edges, against a Double product; and Gemm with alpha, beta and a bias row.
    func testSmallProductsAgreeWithDoubleAtEveryTileEdge() throws {
        for (m, k, n) in [(1, 7, 5), (2, 3, 16), (3, 64, 17), (4, 16, 64), (5, 9, 65), (16, 64, 200), (17, 33, 1)] {
            let av = noise(m * k, seed: UInt64(m * 100 + k)), bv = noise(k * n, seed: UInt64(n * 7 + k))
            let mm = model([Node(opType: "MatMul", inputs: ["a", "b"], outputs: ["y"])],
                           inputs: [("a", [1, Int64(m), Int64(k)])], outputs: ["y"],
                           initializers: [Tensor(name: "b", floats: bv, dims: [Int64(k), Int64(n)])])
            let y = try evaluate(mm, ["a": t(av, [1, m, k])])
            var want = [Float](repeating: 0, count: m * n)
            for i in 0..<m { for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += Double(av[i * k + p]) * Double(bv[p * n + j]) }
                want[i * n + j] = Float(s)
            } }
            XCTAssertLessThan(maxError(y, want), 1e-5, "MatMul \(m)x\(k)x\(n)")

            let cv = noise(n, seed: 11)
            let gemm = model([Node(opType: "Gemm", inputs: ["a", "b", "c"], outputs: ["y"],
                                   attributes: [Attribute("alpha", .float(0.5)), Attribute("beta", .float(2))])],
                             inputs: [("a", [Int64(m), Int64(k)])], outputs: ["y"],
                             initializers: [Tensor(name: "b", floats: bv, dims: [Int64(k), Int64(n)]),
                                            Tensor(name: "c", floats: cv, dims: [Int64(n)])])
            let g = try evaluate(gemm, ["a": t(av, [m, k])])
            let wantGemm = (0..<(m * n)).map { 0.5 * want[$0] + 2 * cv[$0 % n] }
            XCTAssertLessThan(maxError(g, wantGemm), 1e-5, "Gemm \(m)x\(k)x\(n)")
        }
    }

    /// Per-head attention products: a batch of [16 x 16] x [16 x 16] blocks.
    func testBatchedHeadsAgreeWithDouble() throws {
        let heads = 3, s = 16, d = 16
        let qv = noise(heads * s * d, seed: 21), kv = noise(heads * d * s, seed: 22)
        let m = model([Node(opType: "MatMul", inputs: ["q", "k"], outputs: ["y"])],
                      inputs: [("q", [1, Int64(heads), Int64(s), Int64(d)]), ("k", [1, Int64(heads), Int64(d), Int64(s)])],
                      outputs: ["y"])
        let y = try evaluate(m, ["q": t(qv, [1, heads, s, d]), "k": t(kv, [1, heads, d, s])])
        var want = [Float](repeating: 0, count: heads * s * s)
        for h in 0..<heads { for i in 0..<s { for j in 0..<s {
            var acc = 0.0
            for p in 0..<d { acc += Double(qv[(h * s + i) * d + p]) * Double(kv[(h * d + p) * s + j]) }
            want[(h * s + i) * s + j] = Float(acc)
        } } }
        XCTAssertLessThan(maxError(y, want), 1e-5)
    }

    /// LayerNormalization (with and without bias, with its Mean and InvStdDev outputs) and
    /// RMSNormalization over rows of 5, 16 and 70 against the formula in Double, including a
    /// row whose mean is large against its spread (the centred second pass).
    func testLayerAndRMSNormRowsAgreeWithDouble() throws {
        for inner in [5, 16, 70] {
            let rows = 3
            var xv = noise(rows * inner, seed: UInt64(inner))
            for k in 0..<inner { xv[k] += 1000 }
            let sv = noise(inner, seed: 5).map { $0 + 1 }, bv = noise(inner, seed: 6)
            for withBias in [true, false] {
                let ln = Model(graph: Graph(nodes: [Node(opType: "LayerNormalization", inputs: withBias ? ["x", "s", "b"] : ["x", "s"],
                                                         outputs: ["y", "mean", "inv"], attributes: [Attribute("epsilon", .float(1e-5))])],
                                            inputs: [ValueInfo(name: "x", type: .tensor(.float, TensorShape(static: [Int64(rows), Int64(inner)])))],
                                            outputs: [ValueInfo(name: "y"), ValueInfo(name: "mean"), ValueInfo(name: "inv")],
                                            initializers: [Tensor(name: "s", floats: sv, dims: [Int64(inner)]),
                                                           Tensor(name: "b", floats: bv, dims: [Int64(inner)])]),
                               opsetImports: [OpsetImport(version: 17)])
                let out = try Interpreter(model: ln).run(["x": t(xv, [rows, inner])]).outputs
                let y = out[0].tensor.floatValues(), mean = out[1].tensor.floatValues(), inv = out[2].tensor.floatValues()
                for r in 0..<rows {
                    let row = (0..<inner).map { Double(xv[r * inner + $0]) }
                    let mu = row.reduce(0, +) / Double(inner)
                    let variance = row.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(inner)
                    let f = 1 / (variance + 1e-5).squareRoot()
                    XCTAssertEqual(Double(mean[r]), mu, accuracy: 1e-6 * max(1, abs(mu)))
                    XCTAssertEqual(Double(inv[r]), f, accuracy: 1e-3 * f)
                    for k in 0..<inner {
                        let want = (row[k] - mu) * f * Double(sv[k]) + (withBias ? Double(bv[k]) : 0)
                        XCTAssertEqual(Double(y[r * inner + k]), want, accuracy: 2e-3, "row \(r) of \(inner)")
                    }
                }
            }
            let rms = model([Node(opType: "RMSNormalization", inputs: ["x", "s"], outputs: ["y"], attributes: [Attribute("epsilon", .float(1e-6))])],
                            inputs: [("x", [Int64(rows), Int64(inner)])], outputs: ["y"],
                            initializers: [Tensor(name: "s", floats: sv, dims: [Int64(inner)])], opset: 23)
            let small = noise(rows * inner, seed: 9)
            let y = try evaluate(rms, ["x": t(small, [rows, inner])])
            for r in 0..<rows {
                let row = (0..<inner).map { Double(small[r * inner + $0]) }
                let f = 1 / (row.map { $0 * $0 }.reduce(0, +) / Double(inner) + 1e-6).squareRoot()
                for k in 0..<inner { XCTAssertEqual(Double(y[r * inner + k]), row[k] * f * Double(sv[k]), accuracy: 1e-5) }
            }
        }
    }

    /// Sigmoid and masked softmax give no subnormal results (each would slow every later
    /// multiply), stay within 4.5e-38 of the true value where they flush, and agree with
    /// Foundation / Double elsewhere.
    func testSigmoidAndMaskedSoftmaxLeaveNoSubnormals() throws {
        var xs: [Float] = stride(from: -120, through: 40, by: 0.173).map { Float($0) }
        xs += [-86.01, -86, -85.99, -87.4, -103, 0, .infinity, -.infinity, .nan]
        let sig = model([Node(opType: "Sigmoid", inputs: ["x"], outputs: ["y"])], inputs: [("x", [Int64(xs.count)])], outputs: ["y"])
        let y = try evaluate(sig, ["x": t(xs, [xs.count])])
        for (x, v) in zip(xs, y) {
            if x.isNaN { XCTAssertTrue(v.isNaN); continue }
            XCTAssertTrue(v == 0 || v.isNormal, "sigmoid(\(x)) = \(v) is subnormal")
            let want = 1 / (1 + Foundation.exp(-Double(x)))
            XCTAssertEqual(Double(v), want, accuracy: 4.5e-38 + 2e-6 * want, "sigmoid(\(x))")
        }
        // Scores with -inf (masked), finfo.min and values 90 below the row's max.
        let n = 16
        var scores = noise(4 * n, seed: 31).map { $0 * 8 }
        for k in 0..<n where k > 5 { scores[k] = -.infinity }
        for k in 0..<n where k % 3 == 0 { scores[n + k] = -Float.greatestFiniteMagnitude }
        scores[2 * n + 1] = scores[2 * n] - 90
        let sm = model([Node(opType: "Softmax", inputs: ["x"], outputs: ["y"], attributes: [Attribute("axis", .int(-1))])],
                       inputs: [("x", [4, Int64(n)])], outputs: ["y"])
        let p = try evaluate(sm, ["x": t(scores, [4, n])])
        for r in 0..<4 {
            let row = (0..<n).map { Double(scores[r * n + $0]) }
            let top = row.max() ?? 0
            let e = row.map { $0 == -.infinity ? 0 : Foundation.exp($0 - top) }
            let sum = e.reduce(0, +)
            for k in 0..<n {
                let v = p[r * n + k]
                XCTAssertTrue(v == 0 || v.isNormal, "softmax row \(r)[\(k)] = \(v) is subnormal")
                XCTAssertEqual(Double(v), e[k] / sum, accuracy: 1e-6, "softmax row \(r)[\(k)]")
            }
        }
        XCTAssertEqual(p[6], 0, "a -inf score weighs exactly 0")
    }

    /// And/Or/Xor of bools broadcast like numpy, any nonzero byte counting as true; IsNaN of
    /// float32.
    func testBoolLogicBroadcastsAndIsNaN() throws {
        func boolModel(_ op: String) -> Model {
            let g = Graph(nodes: [Node(opType: op, inputs: ["a", "b"], outputs: ["y"])],
                          inputs: [ValueInfo(name: "a", type: .tensor(.bool, TensorShape(static: [1, 1, 3, 4]))),
                                   ValueInfo(name: "b", type: .tensor(.bool, TensorShape(static: [2, 1, 1, 4])))],
                          outputs: [ValueInfo(name: "y")])
            return Model(graph: g, opsetImports: [OpsetImport(version: 17)])
        }
        func bools(_ v: [UInt8], _ shape: [Int]) -> RuntimeTensor {
            let r = RuntimeTensor(zeros: .bool, shape: shape)
            for (i, x) in v.enumerated() { r.raw.storeBytes(of: x, toByteOffset: i, as: UInt8.self) }
            return r
        }
        let av: [UInt8] = [1, 0, 2, 0, 0, 1, 1, 0, 7, 7, 0, 0], bv: [UInt8] = [1, 1, 0, 0, 0, 3, 1, 0]
        for (op, f) in [("And", { (x: Bool, y: Bool) in x && y }), ("Or", { $0 || $1 }), ("Xor", { $0 != $1 })] {
            let out = try Interpreter(model: boolModel(op)).run(["a": bools(av, [1, 1, 3, 4]), "b": bools(bv, [2, 1, 1, 4])]).outputs[0].tensor
            XCTAssertEqual(out.shape, [2, 1, 3, 4])
            for b in 0..<2 { for r in 0..<3 { for c in 0..<4 {
                let want = f(av[r * 4 + c] != 0, bv[b * 4 + c] != 0)
                XCTAssertEqual(out.double(at: (b * 3 + r) * 4 + c), want ? 1 : 0, "\(op) at \(b),\(r),\(c)")
            } } }
        }
        let xs: [Float] = [0, .nan, 1, -.infinity, .infinity, -.nan, 3, 4, 5, .nan, 0, 0, 0, 0, 0, 0, 0, .nan]
        let isNaN = Model(graph: Graph(nodes: [Node(opType: "IsNaN", inputs: ["x"], outputs: ["y"])],
                                       inputs: [ValueInfo(name: "x", type: .tensor(.float, TensorShape(static: [Int64(xs.count)])))],
                                       outputs: [ValueInfo(name: "y")]), opsetImports: [OpsetImport(version: 17)])
        let flags = try Interpreter(model: isNaN).run(["x": t(xs, [xs.count])]).outputs[0].tensor
        for (i, x) in xs.enumerated() { XCTAssertEqual(flags.double(at: i), x.isNaN ? 1 : 0, "IsNaN(\(x))") }
    }

    /// Transposes whose size-1 dims drop and whose neighbouring dims merge (the attention
    /// layout changes), and one that merges nothing, against index arithmetic.
    func testTransposesWithMergedDimsAgreeWithIndexing() throws {
        let shape = [1, 6, 4, 5, 1]
        let xv = (0..<120).map { Float($0) }
        for perm in [[0, 2, 1, 3, 4], [0, 1, 2, 4, 3], [4, 3, 2, 1, 0], [2, 0, 3, 1, 4], [0, 2, 3, 1, 4]] {
            let m = model([Node(opType: "Transpose", inputs: ["x"], outputs: ["y"], attributes: [Attribute("perm", .ints(perm.map { Int64($0) }))])],
                          inputs: [("x", shape.map { Int64($0) })], outputs: ["y"])
            let y = try evaluate(m, ["x": t(xv, shape)])
            let outShape = perm.map { shape[$0] }
            let inStrides = [120, 20, 5, 1, 1]
            var want: [Float] = []
            for a in 0..<outShape[0] { for b in 0..<outShape[1] { for c in 0..<outShape[2] { for d in 0..<outShape[3] { for e in 0..<outShape[4] {
                let idx = [a, b, c, d, e]
                var src = 0
                for (o, p) in perm.enumerated() { src += idx[o] * inStrides[p] }
                want.append(xv[src])
            } } } } }
            XCTAssertEqual(y, want, "perm \(perm)")
        }
    }

    /// One interpreter run many times with changing inputs (the values array is kept between
    /// runs), after a failing run, gives each run's own result.
    func testRepeatedRunsOfOnePlanStayIndependent() throws {
        let m = model([Node(opType: "Mul", inputs: ["x", "w"], outputs: ["h"]), Node(opType: "Add", inputs: ["h", "x"], outputs: ["y"])],
                      inputs: [("x", [4])], outputs: ["y"], initializers: [Tensor(name: "w", floats: [1, 2, 3, 4], dims: [4])])
        let interpreter = try Interpreter(model: m)
        XCTAssertThrowsError(try interpreter.run(["x": RuntimeTensor(zeros: .int64, shape: [4])]))
        for r in 0..<5 {
            let x = (0..<4).map { Float($0 + r) }
            let y = try interpreter.run(["x": t(x, [4])]).outputs[0].tensor.floatValues()
            XCTAssertEqual(y, (0..<4).map { x[$0] * Float($0 + 1) + x[$0] }, "run \(r)")
        }
    }

    /// Reshape, Unsqueeze, Squeeze and Flatten of computed values run as views sharing their
    /// input's block: the block is not handed to a later value while a view (or a view of a
    /// view, or a graph output that is a view) still reads it, as the same graph run node by
    /// node (keep=all: no views) shows.
    func testViewsShareTheirInputsBlockUntilBothAreDead() throws {
        let nodes = [
            Node(opType: "Relu", inputs: ["x"], outputs: ["y"]),
            Node(opType: "Reshape", inputs: ["y", "shape"], outputs: ["r"]),
            Node(opType: "Unsqueeze", inputs: ["r", "axes"], outputs: ["u"]),
            Node(opType: "Neg", inputs: ["x"], outputs: ["n"]),
            Node(opType: "Flatten", inputs: ["n"], outputs: ["f"], attributes: [Attribute("axis", .int(1))]),
            Node(opType: "Squeeze", inputs: ["u", "axes"], outputs: ["s"]),
            Node(opType: "Reshape", inputs: ["f", "shape"], outputs: ["g"]),
            Node(opType: "Add", inputs: ["s", "g"], outputs: ["a"]),
            Node(opType: "Reshape", inputs: ["a", "back"], outputs: ["out"]),
            Node(opType: "Sigmoid", inputs: ["x"], outputs: ["later"]),
        ]
        let inits = [Tensor(name: "shape", int64s: [4, 6], dims: [2]), Tensor(name: "axes", int64s: [0], dims: [1]),
                     Tensor(name: "back", int64s: [2, 3, 4], dims: [3])]
        let m = model(nodes, inputs: [("x", [2, 3, 4])], outputs: ["out", "later", "u"], initializers: inits)
        let interpreter = try Interpreter(model: m)
        let plan = try interpreter.plan(inputShapes: ["x": [2, 3, 4]])
        XCTAssertEqual(plan.views, 6)
        for r in 0..<3 {
            let xv = noise(24, seed: UInt64(40 + r)).map { $0 * 4 }
            let viewed = try interpreter.run(["x": t(xv, [2, 3, 4])]).outputs
            let separate = try interpreter.run(["x": t(xv, [2, 3, 4])], keep: .all).outputs
            for (a, b) in zip(viewed, separate) {
                XCTAssertEqual(a.tensor.shape, b.tensor.shape, a.name)
                XCTAssertEqual(a.tensor.floatValues(), b.tensor.floatValues(), a.name)
            }
            XCTAssertEqual(viewed[0].tensor.floatValues(), xv.map { max($0, 0) - $0 })
        }
    }
}
