/// Pad in every mode against a direct per-element reference: pads on outer and inner axes,
/// negative pads (crops), pads longer than the axis (wrap, reflect), a size-1 axis, rank 0
/// and 1, int64 and float16 elements; the kernel copies rows and maps only the padded ends.
import GraphIR
import XCTest
@testable import GraphRuntime

final class PadTests: XCTestCase {
    /// The reference: each output element's source index per axis, or the fill value.
    func reference(_ x: [Double], _ shape: [Int], _ pads: [Int], mode: String, fill: Double) -> [Double] {
        let rank = shape.count
        let out = (0..<rank).map { shape[$0] + pads[$0] + pads[$0 + rank] }
        let count = out.reduce(1, *)
        var result: [Double] = []
        for o in 0..<count {
            var rem = o, index = 0, inside = true, step = 1
            var coords = [Int](repeating: 0, count: rank)
            for d in stride(from: rank - 1, through: 0, by: -1) { coords[d] = rem % out[d]; rem /= out[d] }
            for d in stride(from: rank - 1, through: 0, by: -1) {
                var i = coords[d] - pads[d]
                let n = shape[d]
                if i < 0 || i >= n {
                    switch mode {
                    case "edge": i = min(max(i, 0), n - 1)
                    case "wrap": i = ((i % n) + n) % n
                    case "reflect":
                        if n == 1 { i = 0 } else { let p = 2 * (n - 1); i = ((i % p) + p) % p; if i >= n { i = p - i } }
                    default: inside = false
                    }
                }
                index += i * step
                step *= n
            }
            result.append(inside ? x[index] : fill)
        }
        return result
    }

    func run(_ shape: [Int], _ pads: [Int], mode: String, type: ElementType = .float, fill: Double = 0) throws -> ([Double], [Double]) {
        let x = (0..<shape.reduce(1, *)).map { Double($0 + 1) }
        var inputs = [ValueInfo(name: "x", type: .tensor(type, TensorShape(static: shape.map(Int64.init)))),
                      ValueInfo(name: "p", type: .tensor(.int64, TensorShape(static: [Int64(pads.count)])))]
        var names = ["x", "p"]
        if fill != 0 { inputs.append(ValueInfo(name: "v", type: .tensor(type, TensorShape(static: [])))); names.append("v") }
        let node = Node(opType: "Pad", inputs: names, outputs: ["y"], attributes: [Attribute("mode", .string(Array(mode.utf8)))])
        let m = Model(graph: Graph(nodes: [node], inputs: inputs, outputs: [ValueInfo(name: "y")]),
                      opsetImports: [OpsetImport(version: 19)])
        // Narrow floats are held as float32 (RuntimeElement.stored), and given that way.
        let xt = RuntimeTensor(zeros: RuntimeElement.stored(type), shape: shape)
        for (i, v) in x.enumerated() { xt.setDouble(v, at: i) }
        var feeds = ["x": xt, "p": RuntimeTensor(int64s: pads.map(Int64.init), shape: [pads.count])]
        if fill != 0 { let v = RuntimeTensor(zeros: RuntimeElement.stored(type), shape: []); v.setDouble(fill, at: 0); feeds["v"] = v }
        let y = try Interpreter(model: m).run(feeds).outputs[0].tensor
        return ((0..<y.count).map { y.double(at: $0) }, reference(x, shape, pads, mode: mode, fill: fill))
    }

    func testEveryModeAgainstTheReference() throws {
        let cases: [([Int], [Int])] = [
            ([5], [2, 3]), ([2, 4], [1, 2, 1, 3]), ([3, 4, 5], [0, 1, 2, 1, 0, 3]),
            ([2, 3, 4], [1, 0, -1, 0, 2, -2]),  // a crop on the last axis and padded outer rows
            ([3, 4], [-1, 0, 0, 0]),            // a crop on an outer axis
            ([2, 1, 3], [0, 2, 0, 0, 3, 0]),    // a size-1 axis (reflect repeats it)
        ]
        for mode in ["constant", "edge", "wrap", "reflect"] {
            for (shape, pads) in cases {
                let (got, want) = try run(shape, pads, mode: mode)
                XCTAssertEqual(got, want, "\(mode) \(shape) pads \(pads)")
            }
        }
        // Pads longer than the axis wrap and reflect more than once.
        for mode in ["wrap", "reflect", "edge"] {
            let (got, want) = try run([3], [7, 8], mode: mode)
            XCTAssertEqual(got, want, mode)
        }
    }

    func testFillValueAndOtherElementTypes() throws {
        var (got, want) = try run([2, 3], [1, 1, 1, 1], mode: "constant", fill: 7)
        XCTAssertEqual(got, want)
        (got, want) = try run([2, 3], [0, 2, 1, 0], mode: "reflect", type: .int64)
        XCTAssertEqual(got, want)
        (got, want) = try run([2, 3], [1, 1, 0, 2], mode: "edge", type: .float16, fill: 0)
        XCTAssertEqual(got, want)
    }
}
