/// Winograd F(4x4, 3x3) and F(2x2, 3x3) convolution agree with a direct double-precision loop
/// over pads, auto_pad, odd sizes (partial tiles), bias, a fused epilogue and batches; the plan
/// picks them only where they suit (constant weight, enough tiles and channels; F(2x2, 3x3) only
/// where the planner's timing takes it) and falls back to im2col when the weight is a graph input.
import Foundation
import GraphIR
import XCTest
@testable import GraphRuntime

final class WinogradTests: XCTestCase {
    /// Direct conv (stride 1, 3x3) in double: x [n, c, h, w], w [m, c, 3, 3], pads [top, left, bottom, right].
    func direct(_ x: [Float], _ w: [Float], _ bias: [Float]?, n: Int, c: Int, m: Int, h: Int, wd: Int, pads: [Int]) -> [Float] {
        let oh = h + pads[0] + pads[2] - 2, ow = wd + pads[1] + pads[3] - 2
        var out = [Float](repeating: 0, count: n * m * oh * ow)
        for b in 0..<n { for o in 0..<m { for oy in 0..<oh { for ox in 0..<ow {
            var v = Double(bias?[o] ?? 0)
            for ch in 0..<c { for i in 0..<3 { for j in 0..<3 {
                let iy = oy - pads[0] + i, ix = ox - pads[1] + j
                if iy >= 0 && iy < h && ix >= 0 && ix < wd {
                    v += Double(x[((b * c + ch) * h + iy) * wd + ix]) * Double(w[((o * c + ch) * 3 + i) * 3 + j])
                }
            } } }
            out[((b * m + o) * oh + oy) * ow + ox] = Float(v)
        } } } }
        return out
    }

    struct Case {
        var n = 1, c = 16, m = 24, h = 23, w = 29
        var pads = [1, 1, 1, 1]
        var autoPad: String? = nil
        var bias = true
        var relu = false
        /// How the plan settles convs either kernel may win (fixed unless a test times them).
        var preference = WinogradPreference.never
        /// The interpreter's threads (the transforms split their channels from 2 on).
        var threads = 1
    }

    /// Runs one case with the weight as an initializer (Winograd) and as a graph input
    /// (im2col); returns both outputs, the direct result and the plan's Winograd count.
    func run(_ k: Case) throws -> (winograd: [Float], im2col: [Float], direct: [Float], convs: Int) {
        let x = noise(k.n * k.c * k.h * k.w, seed: 1), w = noise(k.m * k.c * 9, seed: 2).map { $0 * 0.4 }
        let b = noise(k.m, seed: 3)
        var attrs = [Attribute("kernel_shape", .ints([3, 3]))]
        if let a = k.autoPad { attrs.append(Attribute("auto_pad", .string(Array(a.utf8)))) } else {
            attrs.append(Attribute("pads", .ints(k.pads.map(Int64.init))))
        }
        var nodes = [Node(opType: "Conv", inputs: k.bias ? ["x", "w", "b"] : ["x", "w"], outputs: [k.relu ? "c" : "y"],
                          attributes: attrs)]
        if k.relu { nodes.append(Node(opType: "Relu", inputs: ["c"], outputs: ["y"])) }
        let xShape = [Int64(k.n), Int64(k.c), Int64(k.h), Int64(k.w)], wShape = [Int64(k.m), Int64(k.c), 3, 3]
        let bInit = k.bias ? [Tensor(name: "b", floats: b, dims: [Int64(k.m)])] : []
        let constant = model(nodes, inputs: [("x", xShape)], outputs: ["y"],
                             initializers: [Tensor(name: "w", floats: w, dims: wShape)] + bInit)
        let fed = model(nodes, inputs: [("x", xShape), ("w", wShape)], outputs: ["y"], initializers: bInit)
        let feeds = ["x": t(x, k.n == 1 ? [1, k.c, k.h, k.w] : [k.n, k.c, k.h, k.w])]
        let interp = try Interpreter(model: constant, threads: k.threads)
        interp.winogradPreference = k.preference
        let plan = try interp.plan(inputShapes: feeds.mapValues(\.shape))
        let wino = try interp.run(feeds).outputs[0].tensor.floatValues()
        let other = try Interpreter(model: fed).run(feeds.merging(["w": t(w, [k.m, k.c, 3, 3])]) { a, _ in a })
            .outputs[0].tensor.floatValues()
        var pads = k.pads
        if k.autoPad != nil { pads = [1, 1, 1, 1] }
        var d = direct(x, w, k.bias ? b : nil, n: k.n, c: k.c, m: k.m, h: k.h, wd: k.w, pads: pads)
        if k.relu { d = d.map { max($0, 0) } }
        return (wino, other, d, plan.winogradConvs)
    }

    /// With threads the transforms split their input channels and outputs into parts, each
    /// with its own row buffers: the numbers are exactly one thread's, for both variants and
    /// for a part count that does not divide the channels (where OpenBLAS's own kernels split
    /// products identically; otherwise within the last bits its split changes).
    func testThreadsGiveIdenticalNumbers() throws {
        // (F(2x2, 3x3) is weighed only against the direct kernel, which needs AVX-512.)
        let small = Case(c: 128, m: 128, h: 16, w: 16, preference: .always)
        for base in [Case(c: 64, m: 48, h: 32, w: 32)] + (DirectConv.available ? [small] : []) {
            var outputs: [[Float]] = []
            for threads in [1, 2, 3] {
                var k = base
                k.threads = threads
                let r = try run(k)
                XCTAssertEqual(r.convs, 1, "\(threads) threads: the conv runs Winograd")
                outputs.append(r.winograd)
            }
            for threads in [2, 3] {
                let other = outputs[threads - 1]
                XCTAssertEqual(other.count, outputs[0].count)
                let differ = zip(other, outputs[0]).filter { $0 != $1 }.count
                if Interpreter.threadsGiveIdenticalNumbers {
                    XCTAssertEqual(differ, 0, "\(threads) threads, \(base.c) channels: values differ from one thread's")
                } else {
                    // OpenBLAS's AVX2 kernels round a product split across threads differently
                    // (`Interpreter.threadsGiveIdenticalNumbers`): the last bits only.
                    let scale = outputs[0].map { abs($0) }.max() ?? 1
                    let worst = zip(other, outputs[0]).map { abs($0 - $1) }.max() ?? 0
                    XCTAssertLessThanOrEqual(worst, 1e-6 * scale, "\(threads) threads, \(base.c) channels, \(Interpreter.blasCoreName)")
                }
            }
        }
        _ = try Interpreter(model: Model(graph: Graph()), threads: 1)  // OpenBLAS back to one thread
    }

    func testAgreesWithDirectConvolution() throws {
        let cases: [Case] = [
            Case(),
            Case(pads: [0, 0, 0, 0]),
            Case(h: 30, w: 21, pads: [2, 0, 1, 3]),
            Case(autoPad: "SAME_UPPER"),
            Case(bias: false),
            Case(relu: true),
            Case(n: 2, c: 17, m: 19, h: 26, w: 25, relu: true),
            Case(c: 64, m: 32, h: 28, w: 28),
            // The transforms take blocks of about 128 tiles (`gs_winograd_block_rows`): 18 rows
            // of 12 tiles are a block of 10 rows and a partial one of 8, with partial tiles at
            // the right edge.
            Case(c: 16, m: 20, h: 70, w: 45),
            Case(n: 2, c: 16, m: 16, h: 62, w: 70, pads: [1, 0, 0, 1], relu: true),
        ]
        for k in cases {
            let r = try run(k)
            XCTAssertEqual(r.convs, 1, "\(k)")
            // F(4x4, 3x3) in float32 loses a few bits against the direct form; outputs here are O(1).
            XCTAssertLessThan(maxError(r.winograd, r.direct), 2e-4, "\(k)")
            XCTAssertLessThan(maxError(r.im2col, r.direct), 2e-4, "\(k)")
        }
    }

    func testPlanLeavesSmallMapsAndChannelsToIm2col() throws {
        // 7x7 output: 4 tiles; 8 input channels: transforms cost more than they save.
        for k in [Case(h: 7, w: 7), Case(c: 8), Case(m: 8)] {
            let r = try run(k)
            XCTAssertEqual(r.convs, 0, "\(k)")
            XCTAssertLessThan(maxError(r.winograd, r.direct), 2e-4, "\(k)")
        }
    }

    /// Maps too small for F(4x4, 3x3) run as F(2x2, 3x3) where the planner takes it (fixed
    /// here; it is timed against the direct kernel otherwise): whole and partial 2x2 tiles,
    /// asymmetric pads, auto_pad, batches, no bias, a fused Relu.
    func testSmallMapsAgreeThroughTwoByTwoTiles() throws {
        let cases: [Case] = [
            Case(c: 64, m: 64, h: 14, w: 14),
            Case(c: 64, m: 72, h: 7, w: 7),
            Case(n: 2, c: 64, m: 64, h: 13, w: 11, pads: [0, 1, 2, 1]),
            Case(c: 64, m: 64, h: 14, w: 14, autoPad: "SAME_UPPER", relu: true),
            Case(c: 80, m: 64, h: 10, w: 9, bias: false),
        ]
        for var k in cases {
            k.preference = .always
            let r = try run(k)
            XCTAssertEqual(r.convs, 1, "\(k)")
            XCTAssertLessThan(maxError(r.winograd, r.direct), 2e-4, "\(k)")
            XCTAssertLessThan(maxError(r.im2col, r.direct), 2e-4, "\(k)")
            // Not taken: the direct kernel or im2col, same numbers.
            k.preference = .never
            let other = try run(k)
            XCTAssertEqual(other.convs, 0, "\(k)")
            XCTAssertLessThan(maxError(other.winograd, other.direct), 2e-4, "\(k)")
        }
    }

    func testSuitsOnlyThreeByThreeStrideOne() throws {
        func geometry(_ attrs: [Attribute], h: Int = 32, k: Int = 3) throws -> WindowGeometry {
            try WindowGeometry(node: Node(opType: "Conv", inputs: ["x", "w"], outputs: ["y"], attributes: attrs),
                               spatial: [h, h], kernel: [k, k])
        }
        XCTAssertTrue(Winograd.suits(try geometry([]), inputs: 32, outputs: 32))
        XCTAssertFalse(Winograd.suits(try geometry([Attribute("strides", .ints([2, 2]))]), inputs: 32, outputs: 32))
        XCTAssertFalse(Winograd.suits(try geometry([Attribute("dilations", .ints([2, 2]))]), inputs: 32, outputs: 32))
        XCTAssertFalse(Winograd.suits(try geometry([], k: 5), inputs: 32, outputs: 32))
        XCTAssertFalse(Winograd.suits(try geometry([], h: 12), inputs: 32, outputs: 32))
        // F(2x2, 3x3): the maps F(4x4, 3x3) leaves, from 64 channels and 16 tiles.
        XCTAssertTrue(Winograd.suitsSmall(try geometry([], h: 14), inputs: 64, outputs: 64))
        XCTAssertTrue(Winograd.suitsSmall(try geometry([Attribute("pads", .ints([1, 1, 1, 1]))], h: 7), inputs: 512, outputs: 512))
        XCTAssertFalse(Winograd.suitsSmall(try geometry([], h: 32), inputs: 64, outputs: 64))
        XCTAssertFalse(Winograd.suitsSmall(try geometry([], h: 14), inputs: 32, outputs: 64))
        XCTAssertFalse(Winograd.suitsSmall(try geometry([], h: 5), inputs: 64, outputs: 64))
        XCTAssertFalse(Winograd.suitsSmall(try geometry([Attribute("strides", .ints([2, 2]))], h: 14), inputs: 64, outputs: 64))
    }
}
