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
}
