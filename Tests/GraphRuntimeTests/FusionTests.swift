/// The speed paths agree with plain computation: fused elementwise chains and Conv epilogues
/// (against the same graph run node by node with keep=all), depthwise convs on the padded and
/// parity-plane paths (against a direct loop), MaxPool and Softmax fast paths, and the
/// OpenBLAS core choice from CPU flags.
import Foundation
import GraphIR
import XCTest
@testable import GraphRuntime

final class FusionTests: XCTestCase {
    /// Values -3...3 in a repeating pattern.
    func pattern(_ n: Int, _ k: Int = 7) -> [Float] { (0..<n).map { Float(($0 * 5 + 3) % k) - Float(k / 2) } }

    /// The graph's output fused and node by node (keep=all prevents fusion), and the plan's fused count.
    func fusedAndSeparate(_ m: Model, _ feeds: [String: RuntimeTensor]) throws -> (fused: [Float], separate: [Float], fusedNodes: Int) {
        let interp = try Interpreter(model: m)
        let plan = try interp.plan(inputShapes: feeds.mapValues(\.shape))
        let fused = try interp.run(feeds).outputs[0].tensor.floatValues()
        let separate = try interp.run(feeds, keep: .all).outputs[0].tensor.floatValues()
        return (fused, separate, plan.fusedNodes)
    }

    func testHardswishChainBecomesConvEpilogue() throws {
        let nodes = [
            Node(opType: "Conv", inputs: ["x", "w", "b"], outputs: ["c"]),
            Node(opType: "Add", inputs: ["c", "three"], outputs: ["a"]),
            Node(opType: "Clip", inputs: ["a", "zero", "six"], outputs: ["k"]),
            Node(opType: "Mul", inputs: ["c", "k"], outputs: ["p"]),
            Node(opType: "Div", inputs: ["p", "six"], outputs: ["y"]),
        ]
        let inits = [Tensor(name: "w", floats: pattern(3 * 2 * 9), dims: [3, 2, 3, 3]), Tensor(name: "b", floats: [0.5, -1, 2], dims: [3]),
                     Tensor(name: "three", floats: [3], dims: []), Tensor(name: "zero", floats: [0], dims: []),
                     Tensor(name: "six", floats: [6], dims: [])]
        let m = model(nodes, inputs: [("x", [1, 2, 5, 6])], outputs: ["y"], initializers: inits)
        let r = try fusedAndSeparate(m, ["x": t(pattern(60), [1, 2, 5, 6])])
        XCTAssertEqual(r.fusedNodes, 4)
        assertClose(r.fused, r.separate, tol: 1e-5)
    }

    /// Residual Add + per-channel Mul + Relu after a 1x1 conv; the intermediate that another
    /// node reads stays materialized and the chain resumes after it.
    func testResidualPerChannelAndEscapingValue() throws {
        let nodes = [
            Node(opType: "Conv", inputs: ["x", "w"], outputs: ["c"]),
            Node(opType: "Add", inputs: ["c", "x"], outputs: ["s"]),
            Node(opType: "Mul", inputs: ["s", "scale"], outputs: ["m"]),
            Node(opType: "Relu", inputs: ["m"], outputs: ["r"]),
            Node(opType: "Sigmoid", inputs: ["r"], outputs: ["g"]),
            Node(opType: "Sub", inputs: ["g", "r"], outputs: ["d"]),
            Node(opType: "Add", inputs: ["d", "m"], outputs: ["y"]),
            Node(opType: "Neg", inputs: ["m"], outputs: ["other"]),
        ]
        let inits = [Tensor(name: "w", floats: pattern(4), dims: [2, 2, 1, 1]),
                     Tensor(name: "scale", floats: [2, -0.5], dims: [2, 1, 1])]
        let m = model(nodes, inputs: [("x", [1, 2, 3, 4])], outputs: ["y", "other"], initializers: inits)
        let r = try fusedAndSeparate(m, ["x": t(pattern(24), [1, 2, 3, 4])])
        XCTAssertGreaterThan(r.fusedNodes, 0)
        assertClose(r.fused, r.separate, tol: 1e-5)
    }

    /// Direct depthwise conv for one geometry.
    func directDepthwise(_ x: [Float], _ w: [Float], c: Int, h: Int, wd: Int, k: Int, s: Int, pads: [Int]) -> [Float] {
        let oh = (h + pads[0] + pads[2] - k) / s + 1, ow = (wd + pads[1] + pads[3] - k) / s + 1
        var out: [Float] = []
        for ch in 0..<c { for oy in 0..<oh { for ox in 0..<ow {
            var v: Float = 0
            for i in 0..<k { for j in 0..<k {
                let iy = oy * s - pads[0] + i, ix = ox * s - pads[1] + j
                if iy >= 0 && iy < h && ix >= 0 && ix < wd { v += x[(ch * h + iy) * wd + ix] * w[ch * k * k + i * k + j] }
            } }
            out.append(v)
        } } }
        return out
    }

    func testDepthwisePaddedAndParityPlanes() throws {
        for (k, s, pads) in [(3, 1, [1, 1, 1, 1]), (5, 1, [2, 1, 2, 3]), (3, 2, [1, 1, 1, 1]), (5, 2, [2, 2, 2, 2]),
                             (3, 2, [0, 1, 1, 0]), (4, 2, [1, 2, 2, 1])] {
          for wd in [9, 8] {
            let c = 3, h = 7
            let x = pattern(c * h * wd, 11), w = pattern(c * k * k, 5)
            let attrs = [Attribute("pads", .ints(pads.map(Int64.init))), Attribute("strides", .ints([Int64(s), Int64(s)])),
                         Attribute("group", .int(Int64(c)))]
            let m = model([Node(opType: "Conv", inputs: ["x", "w"], outputs: ["y"], attributes: attrs)],
                          inputs: [("x", [1, Int64(c), Int64(h), Int64(wd)])], outputs: ["y"],
                          initializers: [Tensor(name: "w", floats: w, dims: [Int64(c), 1, Int64(k), Int64(k)])])
            let got = try evaluate(m, ["x": t(x, [1, c, h, wd])])
            assertClose(got, directDepthwise(x, w, c: c, h: h, wd: wd, k: k, s: s, pads: pads), tol: 1e-4)
          }
        }
    }

    func testMaxPoolStridedAndNaN() throws {
        let attrs = [Attribute("kernel_shape", .ints([3, 3])), Attribute("strides", .ints([2, 2])), Attribute("pads", .ints([1, 1, 1, 1]))]
        let m = model([Node(opType: "MaxPool", inputs: ["x"], outputs: ["y"], attributes: attrs)], inputs: [("x", [1, 2, 5, 5])],
                      outputs: ["y"])
        var x = pattern(50, 13)
        x[30] = .nan
        let y = try evaluate(m, ["x": t(x, [1, 2, 5, 5])])
        var want: [Float] = []
        for p in 0..<2 { for oy in 0..<3 { for ox in 0..<3 {
            var v = -Float.infinity
            for i in 0..<3 { for j in 0..<3 {
                let iy = oy * 2 - 1 + i, ix = ox * 2 - 1 + j
                if iy >= 0 && iy < 5 && ix >= 0 && ix < 5 { let e = x[p * 25 + iy * 5 + ix]; if e > v || e.isNaN { v = e } }
            } }
            want.append(v)
        } } }
        XCTAssertEqual(Array(y[0..<9]), Array(want[0..<9]))
        XCTAssertTrue(y[9].isNaN)
        XCTAssertEqual(y[9...].filter(\.isNaN).count, want[9...].filter(\.isNaN).count)
    }

    func testSoftmaxRows() throws {
        let m = model([Node(opType: "Softmax", inputs: ["x"], outputs: ["y"])], inputs: [("x", [3, 37])], outputs: ["y"])
        var x: [Float] = (0..<111).map { i -> Float in Float(i % 17) * 0.9 - 7 }
        x[5] -= 200
        let y = try evaluate(m, ["x": t(x, [3, 37])])
        for r in 0..<3 {
            let row = x[(r * 37)..<(r * 37 + 37)].map(Double.init), mx = row.max()!
            let e = row.map { Foundation.exp($0 - mx) }, s = e.reduce(0, +)
            for k in 0..<37 { XCTAssertEqual(Double(y[r * 37 + k]), e[k] / s, accuracy: 1e-6) }
        }
    }

    func testOpenBLASCoreFromCPUFlags() {
        XCTAssertEqual(BLASKernelSelection.coreType(for: ["avx512f", "avx512dq", "avx512bw", "avx512vl", "avx2", "fma"]), "SkylakeX")
        XCTAssertEqual(BLASKernelSelection.coreType(for: ["avx2", "fma", "avx"]), "Haswell")
        XCTAssertNil(BLASKernelSelection.coreType(for: ["sse2", "sse3"]))
    }

    /// The kernels are re-selected only when OpenBLAS's core lacks what the CPU runs: a Zen 5
    /// that OpenBLAS 0.3.21 gives the AVX2 Haswell kernels gets SkylakeX's; a core already at
    /// that level stays, and an AVX2 CPU never gets more than Haswell.
    func testOpenBLASCoreReselectedOnlyWhenItLacksAnInstructionSet() {
        XCTAssertTrue(BLASKernelSelection.lacks("Prescott", "SkylakeX"))
        XCTAssertTrue(BLASKernelSelection.lacks("Core not found", "Haswell"))
        XCTAssertTrue(BLASKernelSelection.lacks("Haswell", "SkylakeX"))
        XCTAssertTrue(BLASKernelSelection.lacks("Zen", "SkylakeX"))
        XCTAssertFalse(BLASKernelSelection.lacks("SkylakeX", "SkylakeX"))
        XCTAssertFalse(BLASKernelSelection.lacks("Cooperlake", "SkylakeX"))
        XCTAssertFalse(BLASKernelSelection.lacks("SapphireRapids", "SkylakeX"))
        XCTAssertFalse(BLASKernelSelection.lacks("Zen", "Haswell"))
        XCTAssertFalse(BLASKernelSelection.lacks("SkylakeX", "Haswell"))
        XCTAssertTrue(BLASKernelSelection.lacks("Sandybridge", "Haswell"))
    }

    /// The RMS norm torch writes out for Llama (Pow, ReduceMean, Add eps, Sqrt, Reciprocal,
    /// Mul x, Mul weight) becomes one step, with the ReduceMean axes as an attribute (opset 17)
    /// or an input (opset 18), with and without the weight multiply; an intermediate another
    /// node reads keeps the ops separate. Each against the graph run node by node and the formula.
    func testRMSNormChainBecomesOneStep() throws {
        let rows = 3, n = 20, eps: Float = 1e-6
        let xv = pattern(rows * n, 11).map { $0 * 0.37 + 0.1 }, wv = pattern(n, 5).map { $0 + 0.5 }
        for (opset, withWeight, escaping) in [(Int64(17), true, false), (18, true, false), (18, false, false), (18, true, true)] {
            let mean = opset < 18 ? Node(opType: "ReduceMean", inputs: ["p"], outputs: ["m"], attributes: [Attribute("axes", .ints([-1]))])
                                  : Node(opType: "ReduceMean", inputs: ["p", "axes"], outputs: ["m"])
            var nodes = [
                Node(opType: "Pow", inputs: ["x", "two"], outputs: ["p"]), mean,
                Node(opType: "Add", inputs: ["m", "eps"], outputs: ["a"]),
                Node(opType: "Sqrt", inputs: ["a"], outputs: ["s"]),
                Node(opType: "Reciprocal", inputs: ["s"], outputs: ["r"]),
                Node(opType: "Mul", inputs: ["x", "r"], outputs: withWeight ? ["u"] : ["y"]),
            ]
            if withWeight { nodes.append(Node(opType: "Mul", inputs: ["w", "u"], outputs: ["y"])) }
            if escaping { nodes.append(Node(opType: "Neg", inputs: ["s"], outputs: ["other"])) }
            let inits = [Tensor(name: "two", floats: [2], dims: []), Tensor(name: "eps", floats: [eps], dims: []),
                         Tensor(name: "w", floats: wv, dims: [Int64(n)]), Tensor(name: "axes", int64s: [-1], dims: [1])]
            let m = model(nodes, inputs: [("x", [1, Int64(rows), Int64(n)])], outputs: escaping ? ["y", "other"] : ["y"],
                          initializers: inits, opset: opset)
            let r = try fusedAndSeparate(m, ["x": t(xv, [1, rows, n])])
            // Escaping: only elementwise chains may fuse, never the whole norm.
            if escaping { XCTAssertLessThan(r.fusedNodes, nodes.count - 2) } else {
                XCTAssertEqual(r.fusedNodes, nodes.count - 1, "opset \(opset), weight \(withWeight)")
            }
            assertClose(r.fused, r.separate, tol: 1e-5)
            for row in 0..<rows {
                let v = (0..<n).map { Double(xv[row * n + $0]) }
                let f = 1 / (v.map { $0 * $0 }.reduce(0, +) / Double(n) + Double(eps)).squareRoot()
                for k in 0..<n {
                    XCTAssertEqual(Double(r.fused[row * n + k]), v[k] * f * (withWeight ? Double(wv[k]) : 1), accuracy: 1e-5)
                }
            }
        }
    }
}
