/// The direct channel-blocked conv (DirectConv.swift, `gs_direct_conv`) agrees with a
/// double-precision loop and with the im2col path over window sizes, strides, asymmetric and
/// automatic pads, channel counts that do not fill their 16-channel blocks, output channels
/// past a group of 64, maps narrower than a register tile, batches, bias and a fused epilogue;
/// inputs of fewer than 16 channels (read plane by plane); the plan picks it only for constant
/// weights, group 1, no dilation and enough channels.
/// On CPUs without AVX-512 the plan never picks it (checked) and the numeric cases are skipped.
import Foundation
import GraphIR
import XCTest
@testable import GraphRuntime

final class DirectConvTests: XCTestCase {
    struct Case: CustomStringConvertible {
        var n = 1, c = 16, m = 16, h = 9, w = 11, kh = 3, kw = 3, sh = 1, sw = 1
        var pads = [1, 1, 1, 1]
        var autoPad: String? = nil
        var bias = true
        /// Relu after the conv, and a residual Add before it (both fused into the conv's epilogue).
        var residual = false
        var description: String {
            "n\(n) c\(c) m\(m) \(h)x\(w) k\(kh)x\(kw) s\(sh)x\(sw) pads \(autoPad ?? "\(pads)") bias \(bias) residual \(residual)"
        }
    }

    /// The conv in double: x [n, c, h, w], w [m, c, kh, kw], pads [top, left, bottom, right].
    func reference(_ k: Case, _ x: [Float], _ w: [Float], _ b: [Float]?, pads: [Int], oh: Int, ow: Int) -> [Float] {
        var out = [Float](repeating: 0, count: k.n * k.m * oh * ow)
        for n in 0..<k.n { for o in 0..<k.m { for oy in 0..<oh { for ox in 0..<ow {
            var v = Double(b?[o] ?? 0)
            for ch in 0..<k.c { for i in 0..<k.kh { for j in 0..<k.kw {
                let iy = oy * k.sh - pads[0] + i, ix = ox * k.sw - pads[1] + j
                if iy >= 0 && iy < k.h && ix >= 0 && ix < k.w {
                    v += Double(x[((n * k.c + ch) * k.h + iy) * k.w + ix]) * Double(w[((o * k.c + ch) * k.kh + i) * k.kw + j])
                }
            } } }
            out[((n * k.m + o) * oh + oy) * ow + ox] = Float(v)
        } } } }
        return out
    }

    /// Runs `k` with the weight as an initializer (the direct kernel where the CPU has it) and
    /// as a graph input (im2col); returns both outputs, the reference and the plan's count.
    func run(_ k: Case) throws -> (constant: [Float], fed: [Float], reference: [Float], direct: Int) {
        let x = noise(k.n * k.c * k.h * k.w, seed: 11), w = noise(k.m * k.c * k.kh * k.kw, seed: 12).map { $0 * 0.3 }
        let b = noise(k.m, seed: 13)
        var attrs = [Attribute("kernel_shape", .ints([Int64(k.kh), Int64(k.kw)])),
                     Attribute("strides", .ints([Int64(k.sh), Int64(k.sw)]))]
        if let a = k.autoPad { attrs.append(Attribute("auto_pad", .string(Array(a.utf8)))) } else {
            attrs.append(Attribute("pads", .ints(k.pads.map(Int64.init))))
        }
        // Output size and the pads auto_pad gives (SAME_UPPER: the extra one at the end).
        var pads = k.pads
        if k.autoPad != nil {
            for (i, (size, s, kk)) in [(k.h, k.sh, k.kh), (k.w, k.sw, k.kw)].enumerated() {
                let out = (size + s - 1) / s, total = max(0, (out - 1) * s + kk - size)
                pads[i] = total / 2
                pads[i + 2] = total - total / 2
            }
        }
        let oh = (k.h + pads[0] + pads[2] - k.kh) / k.sh + 1, ow = (k.w + pads[1] + pads[3] - k.kw) / k.sw + 1
        let r = noise(k.n * k.m * oh * ow, seed: 14)
        var nodes = [Node(opType: "Conv", inputs: k.bias ? ["x", "w", "b"] : ["x", "w"], outputs: [k.residual ? "c" : "y"],
                          attributes: attrs)]
        if k.residual {
            nodes.append(Node(opType: "Add", inputs: ["c", "r"], outputs: ["s"]))
            nodes.append(Node(opType: "Relu", inputs: ["s"], outputs: ["y"]))
        }
        let xShape = [Int64(k.n), Int64(k.c), Int64(k.h), Int64(k.w)], wShape = [Int64(k.m), Int64(k.c), Int64(k.kh), Int64(k.kw)]
        let rShape = [Int64(k.n), Int64(k.m), Int64(oh), Int64(ow)]
        let bInit = k.bias ? [Tensor(name: "b", floats: b, dims: [Int64(k.m)])] : []
        let extraInputs = k.residual ? [("r", rShape)] : []
        let constant = model(nodes, inputs: [("x", xShape)] + extraInputs, outputs: ["y"],
                             initializers: [Tensor(name: "w", floats: w, dims: wShape)] + bInit)
        let fed = model(nodes, inputs: [("x", xShape), ("w", wShape)] + extraInputs, outputs: ["y"], initializers: bInit)
        var feeds = ["x": t(x, [k.n, k.c, k.h, k.w])]
        if k.residual { feeds["r"] = t(r, [k.n, k.m, oh, ow]) }
        let interp = try Interpreter(model: constant)
        let plan = try interp.plan(inputShapes: feeds.mapValues(\.shape))
        let viaConstant = try interp.run(feeds).outputs[0].tensor.floatValues()
        let viaFed = try Interpreter(model: fed).run(feeds.merging(["w": t(w, [k.m, k.c, k.kh, k.kw])]) { a, _ in a })
            .outputs[0].tensor.floatValues()
        var expected = reference(k, x, w, k.bias ? b : nil, pads: pads, oh: oh, ow: ow)
        if k.residual { expected = zip(expected, r).map { max($0 + $1, 0) } }
        return (viaConstant, viaFed, expected, plan.directConvs)
    }

    func testAgreesWithReferenceAndIm2col() throws {
        try XCTSkipUnless(DirectConv.available, "this CPU has no AVX-512: the plan keeps im2col (testPlanChoice)")
        let cases: [Case] = [
            Case(),
            Case(c: 96, m: 128, kh: 1, kw: 1, pads: [0, 0, 0, 0]),
            Case(c: 32, m: 64, h: 14, w: 14, kh: 1, kw: 1, sh: 2, sw: 2, pads: [0, 0, 0, 0]),
            Case(c: 24, m: 100, h: 8, w: 13),  // 24 -> 32 padded input lanes; 7 output vectors (4 + 3)
            Case(c: 48, m: 20, h: 5, w: 3, kh: 5, kw: 5, pads: [2, 1, 0, 2]),
            Case(c: 16, m: 16, h: 15, w: 17, sh: 2, sw: 2, autoPad: "SAME_UPPER"),
            Case(c: 32, m: 48, h: 12, w: 1, kh: 3, kw: 1, pads: [1, 0, 1, 0]),  // a map one column wide
            Case(c: 16, m: 32, h: 4, w: 20, kh: 1, kw: 3, pads: [0, 1, 0, 1], bias: false),
            Case(n: 2, c: 40, m: 72, h: 7, w: 7, residual: true),
            Case(c: 64, m: 16, h: 23, w: 19, kh: 7, kw: 7, sh: 2, sw: 2, pads: [3, 3, 3, 3], residual: true),
            Case(c: 1152, m: 64, h: 6, w: 6, kh: 1, kw: 1, pads: [0, 0, 0, 0]),  // 1x1: input blocks in chunks of 64
            Case(c: 128, m: 32, h: 6, w: 6),  // 3x3: input blocks split into chunks of 7
            Case(c: 3, m: 64, h: 30, w: 27, kh: 7, kw: 7, sh: 2, sw: 2, pads: [3, 3, 3, 3], residual: true),  // planar stem
            Case(c: 8, m: 24, h: 10, w: 9, sh: 2, sw: 1, pads: [0, 1, 2, 1]),  // planar, asymmetric pads
            Case(c: 1, m: 16, h: 5, w: 40, kh: 1, kw: 5, pads: [0, 2, 0, 2], bias: false),
        ]
        for k in cases {
            let r = try run(k)
            XCTAssertEqual(r.direct, 1, "\(k)")
            let tolerance: Float = 1e-4 * Float(max(1, k.c * k.kh * k.kw / 64))
            XCTAssertLessThan(maxError(r.constant, r.reference), tolerance, "\(k)")
            XCTAssertLessThan(maxError(r.fed, r.reference), tolerance, "\(k)")
        }
    }

    /// A batch of small maps (fewer than 64 output positions an image) runs one im2col GEMM over
    /// every image's columns: the weight fed as a graph input takes that path on any CPU, with
    /// bias, a fused residual epilogue, strides and pads, and agrees with the double loop.
    func testSmallMapsOfABatchShareOneGEMM() throws {
        let cases: [Case] = [
            Case(n: 8, c: 20, m: 24, h: 4, w: 5),
            Case(n: 3, c: 16, m: 40, h: 7, w: 7, sh: 2, sw: 2, pads: [1, 0, 1, 1], residual: true),
            Case(n: 8, c: 129, m: 128, h: 1, w: 4, kh: 1, kw: 3, pads: [0, 1, 0, 1], bias: false),
            Case(n: 5, c: 32, m: 16, h: 1, w: 9, kh: 1, kw: 3, sw: 2, pads: [0, 1, 0, 1], residual: true),
        ]
        for k in cases {
            let r = try run(k)
            let tolerance: Float = 1e-4 * Float(max(1, k.c * k.kh * k.kw / 64))
            XCTAssertLessThan(maxError(r.fed, r.reference), tolerance, "\(k)")
            XCTAssertLessThan(maxError(r.constant, r.reference), tolerance, "\(k)")
        }
        // A 1-D conv (rank-3 input), batch 8: each image equals the same conv run alone.
        let x = noise(8 * 16 * 9, seed: 21), w = noise(32 * 16 * 3, seed: 22)
        let conv = [Node(opType: "Conv", inputs: ["x", "w"], outputs: ["y"],
                         attributes: [Attribute("strides", .ints([2])), Attribute("pads", .ints([1, 1]))])]
        let batched = try evaluate(model(conv, inputs: [("x", [8, 16, 9]), ("w", [32, 16, 3])], outputs: ["y"]),
                                   ["x": t(x, [8, 16, 9]), "w": t(w, [32, 16, 3])])
        let single = model(conv, inputs: [("x", [1, 16, 9]), ("w", [32, 16, 3])], outputs: ["y"])
        XCTAssertEqual(batched.count, 8 * 32 * 5)
        for b in 0..<8 {
            let alone = try evaluate(single, ["x": t(Array(x[(b * 144)..<((b + 1) * 144)]), [1, 16, 9]), "w": t(w, [32, 16, 3])])
            XCTAssertLessThan(maxError(Array(batched[(b * 160)..<((b + 1) * 160)]), alone), 1e-5, "image \(b)")
        }
    }

    func testPlanChoice() throws {
        // Too few output channels, or input channels that fill too little of their blocks: im2col.
        // A 1x1 stride-1 conv with little work per element, or on a map under 16 positions: sgemm.
        for k in [Case(m: 8), Case(c: 20), Case(c: 40, m: 12), Case(c: 64, m: 64, kh: 1, kw: 1, pads: [0, 0, 0, 0]),
                  Case(c: 256, m: 256, h: 3, w: 5, kh: 1, kw: 1, pads: [0, 0, 0, 0])] {
            let r = try run(k)
            XCTAssertEqual(r.direct, 0, "\(k)")
            XCTAssertLessThan(maxError(r.constant, r.reference), 1e-4, "\(k)")
        }
        if !DirectConv.available {
            XCTAssertEqual(try run(Case()).direct, 0)
        }
        // Dilated convs are not taken.
        let g = try WindowGeometry(node: Node(opType: "Conv", inputs: ["x", "w"], outputs: ["y"],
                                              attributes: [Attribute("dilations", .ints([2, 2]))]),
                                   spatial: [16, 16], kernel: [3, 3])
        XCTAssertFalse(DirectConv.suits(g, inputs: 32, outputs: 32))
    }
}
