/// Pools over windows far larger than their input: the loops walk only the taps inside the
/// input, so a hostile 2^20-wide window costs what the input holds (it took 4-52 s per node
/// when every padded tap was visited), and a long pool stops when the run is cancelled.
import Foundation
import GraphIR
import XCTest
@testable import GraphRuntime

final class PoolWindowTests: XCTestCase {
    private let huge: Int64 = 1 << 20

    private func pool(_ op: String, rank: Int, _ extra: [Attribute] = []) -> Model {
        let spatial = [Int64](repeating: 4, count: rank)
        let attrs = [Attribute("kernel_shape", .ints([Int64](repeating: huge, count: rank))),
                     Attribute("auto_pad", .string(Array("SAME_UPPER".utf8)))] + extra
        return model([Node(opType: op, name: "p", inputs: ["x"], outputs: ["y"], attributes: attrs)],
                     inputs: [("x", [1, 2] + spatial)], outputs: ["y"], opset: 18)
    }

    private func input(rank: Int) -> (RuntimeTensor, [Float]) {
        let n = 2 * Int(pow(4.0, Double(rank)))
        let v = (0..<n).map { Float($0 % 7) - 2 }
        return (t(v, [1, 2] + [Int](repeating: 4, count: rank)), v)
    }

    /// Under SAME padding every output's window covers its whole plane: each output is the
    /// plane's mean (max, Lp norm), in the 2-D float loop and the N-D loop alike.
    func testAWindowWiderThanTheInputCoversJustTheInput() throws {
        for rank in [1, 2, 3] {
            let (x, v) = input(rank: rank)
            let plane = v.count / 2
            let halves = [Array(v[..<plane]), Array(v[plane...])]
            let mean = try evaluate(pool("AveragePool", rank: rank), ["x": x])
            let max = try evaluate(pool("MaxPool", rank: rank), ["x": x])
            let lp = try evaluate(pool("LpPool", rank: rank, [Attribute("p", .int(2))]), ["x": x])
            XCTAssertEqual(mean.count, v.count, "rank \(rank)")
            for (i, y) in mean.enumerated() {
                let h = halves[i / plane]
                XCTAssertEqual(y, h.reduce(0, +) / Float(plane), accuracy: 1e-5, "AveragePool rank \(rank) at \(i)")
                XCTAssertEqual(max[i], h.max(), "MaxPool rank \(rank) at \(i)")
                XCTAssertEqual(lp[i], h.map { $0 * $0 }.reduce(0, +).squareRoot(), accuracy: 1e-4, "LpPool rank \(rank) at \(i)")
            }
        }
    }

    /// count_include_pad divides by the padded window (clipped to input plus pads), not by the
    /// taps inside: a 3x3 average at a corner of a zero-padded 4x4 input counts 9 cells.
    func testCountIncludePadStillCountsThePaddedCells() throws {
        let m = model([Node(opType: "AveragePool", inputs: ["x"], outputs: ["y"],
                            attributes: [Attribute("kernel_shape", .ints([3, 3])), Attribute("pads", .ints([1, 1, 1, 1])),
                                         Attribute("count_include_pad", .int(1))])],
                      inputs: [("x", [1, 1, 4, 4])], outputs: ["y"], opset: 18)
        let y = try evaluate(m, ["x": t([Float](repeating: 9, count: 16), [1, 1, 4, 4])])
        XCTAssertEqual(y[0], 4)   // corner: 4 of 9 cells inside
        XCTAssertEqual(y[1], 6)   // edge: 6 of 9
        XCTAssertEqual(y[5], 9)   // inside
        // The same through the N-D loop (a float64 input).
        let m64 = model([Node(opType: "Cast", inputs: ["x"], outputs: ["x64"], attributes: [Attribute("to", .int(11))]),
                         Node(opType: "AveragePool", inputs: ["x64"], outputs: ["y"],
                              attributes: [Attribute("kernel_shape", .ints([3, 3])), Attribute("pads", .ints([1, 1, 1, 1])),
                                           Attribute("count_include_pad", .int(1))])],
                        inputs: [("x", [1, 1, 4, 4])], outputs: ["y"], opset: 18)
        let out = try Interpreter(model: m64).run(["x": t([Float](repeating: 9, count: 16), [1, 1, 4, 4])]).outputs[0].tensor
        XCTAssertEqual([out.double(at: 0), out.double(at: 1), out.double(at: 5)], [4, 6, 9])
    }

    /// A pool whose one call is long (a wide window over a large input) stops when the run is
    /// cancelled, instead of finishing its seconds of work first.
    func testALongPoolStopsWhenTheRunIsCancelled() throws {
        let m = model([Node(opType: "AveragePool", name: "slow", inputs: ["x"], outputs: ["y"],
                            attributes: [Attribute("kernel_shape", .ints([1024, 1024])), Attribute("pads", .ints([512, 512, 511, 511]))])],
                      inputs: [("x", [1, 1, 1024, 1024])], outputs: ["y"], opset: 18)
        assertStopsWhenCancelled(try Interpreter(model: m), ["x": t([Float](repeating: 1, count: 1 << 20), [1, 1, 1024, 1024])],
                                 node: "slow")
    }

    /// The separable AveragePool (row sums, then window sums) against a double-precision loop
    /// over every tap, across kernel sizes, strides, asymmetric pads, ceil_mode and
    /// count_include_pad, on an input with NaN and infinity in one plane each.
    func testAveragePoolAgreesWithEveryTapSummed() throws {
        let h = 9, w = 11
        var x = noise(3 * h * w, seed: 5)
        x[h * w + 17] = .nan
        x[2 * h * w + 40] = .infinity
        for (k, stride, pads, ceil, includePad) in [([3, 3], [1, 1], [1, 1, 1, 1], 0, 0), ([3, 3], [1, 1], [1, 1, 1, 1], 0, 1),
                                                    ([3, 3], [2, 2], [0, 1, 1, 0], 1, 0), ([2, 2], [2, 2], [0, 0, 0, 0], 1, 1),
                                                    ([5, 3], [3, 2], [2, 1, 0, 2], 1, 1), ([1, 4], [1, 3], [0, 2, 0, 2], 0, 0),
                                                    ([12, 12], [1, 1], [3, 3, 3, 3], 0, 0)] {
            let m = model([Node(opType: "AveragePool", inputs: ["x"], outputs: ["y"],
                                attributes: [Attribute("kernel_shape", .ints(k.map(Int64.init))),
                                             Attribute("strides", .ints(stride.map(Int64.init))),
                                             Attribute("pads", .ints(pads.map(Int64.init))),
                                             Attribute("ceil_mode", .int(Int64(ceil))),
                                             Attribute("count_include_pad", .int(Int64(includePad)))])],
                          inputs: [("x", [1, 3, Int64(h), Int64(w)])], outputs: ["y"], opset: 19)
            let y = try evaluate(m, ["x": t(x, [1, 3, h, w])])
            // ONNX's output size; with ceil_mode the last window must start inside the input or
            // its leading pad.
            func outSize(_ n: Int, _ begin: Int, _ end: Int, _ k: Int, _ s: Int) -> Int {
                let span = n + begin + end - k
                var o = (ceil == 1 ? (span + s - 1) / s : span / s) + 1
                if ceil == 1, (o - 1) * s >= n + begin { o -= 1 }
                return o
            }
            let oh = outSize(h, pads[0], pads[2], k[0], stride[0]), ow = outSize(w, pads[1], pads[3], k[1], stride[1])
            var expected: [Float] = []
            for p in 0..<3 { for oy in 0..<oh { for ox in 0..<ow {
                let y0 = oy * stride[0] - pads[0], x0 = ox * stride[1] - pads[1]
                var sum = 0.0, n = 0
                for i in 0..<k[0] { for j in 0..<k[1] {
                    let iy = y0 + i, ix = x0 + j
                    if iy >= 0, iy < h, ix >= 0, ix < w { sum += Double(x[(p * h + iy) * w + ix]); n += 1 }
                } }
                if includePad == 1 {
                    n = (min(y0 + k[0], h + pads[2]) - y0) * (min(x0 + k[1], w + pads[3]) - x0)
                }
                expected.append(n > 0 ? Float(sum / Double(n)) : 0)
            } } }
            XCTAssertEqual(y.count, expected.count, "kernel \(k), strides \(stride), pads \(pads), ceil \(ceil)")
            for (i, (a, b)) in zip(y, expected).enumerated() {
                if b.isNaN { XCTAssertTrue(a.isNaN, "\(k) \(stride) at \(i): \(a), not NaN"); continue }
                if b.isInfinite { XCTAssertEqual(a, b, "\(k) \(stride) at \(i)"); continue }
                XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b)), "kernel \(k), strides \(stride), pads \(pads), ceil \(ceil), include pad \(includePad) at \(i)")
            }
        }
    }
}
