/// Hand-computed checks of the kernels added for the ONNX node-test coverage (normalization,
/// index ops, scans, einsum, quantization, attention, contrib ops) and their named errors.
/// The backend node tests (Tests/e2e/test_node_tests.py) cover them against the stored outputs.
import GraphIR
import XCTest
@testable import GraphRuntime

final class OpCoverageTests: XCTestCase {
    func one(_ op: String, _ ins: [String], attrs: [Attribute] = [], inputs: [(String, [Int64])],
             inits: [Tensor] = [], domain: String = "", feeds: [String: RuntimeTensor]) throws -> RuntimeTensor {
        let m = model([Node(opType: op, domain: domain, inputs: ins, outputs: ["y"], attributes: attrs)],
                      inputs: inputs, outputs: ["y"], initializers: inits, opset: 23)
        return try Interpreter(model: m).run(feeds).outputs[0].tensor
    }

    func testLayerNormalizationLastAxis() throws {
        let y = try one("LayerNormalization", ["x", "s", "b"], inputs: [("x", [2, 2])],
                        inits: [Tensor(name: "s", floats: [1, 2], dims: [2]), Tensor(name: "b", floats: [0, 1], dims: [2])],
                        feeds: ["x": t([1, 3, 5, 5], [2, 2])])
        // Row [1, 3]: mean 2, var 1 -> [-1, 1]; row [5, 5]: var 0 -> [0, 0]; then scale and bias.
        assertClose(y.floatValues(), [-1, 3, 0, 1], tol: 1e-4)
    }

    func testArgMaxCumSumAndTopK() throws {
        let a = try one("ArgMax", ["x"], attrs: [Attribute("axis", .int(1)), Attribute("keepdims", .int(0))],
                        inputs: [("x", [2, 3])], feeds: ["x": t([1, 5, 2, 7, 0, 7], [2, 3])])
        XCTAssertEqual(a.elementType, .int64)
        XCTAssertEqual(a.int64Values(), [1, 0])
        let c = try one("CumSum", ["x", "ax"], attrs: [Attribute("exclusive", .int(1)), Attribute("reverse", .int(1))],
                        inputs: [("x", [4])], inits: [Tensor(name: "ax", int64s: [0], dims: [])], feeds: ["x": t([1, 2, 3, 4], [4])])
        assertClose(c.floatValues(), [9, 7, 4, 0])
        let m = model([Node(opType: "TopK", inputs: ["x", "k"], outputs: ["v", "i"])], inputs: [("x", [5])], outputs: ["v", "i"],
                      initializers: [Tensor(name: "k", int64s: [2], dims: [1])], opset: 23)
        let r = try Interpreter(model: m).run(["x": t([3, 9, 1, 9, 4], [5])])
        assertClose(r.outputs[0].tensor.floatValues(), [9, 9])
        XCTAssertEqual(r.outputs[1].tensor.int64Values(), [1, 3])
    }

    func testGatherElementsTriluEinsum() throws {
        let g = try one("GatherElements", ["x", "i"], attrs: [Attribute("axis", .int(1))], inputs: [("x", [2, 2])],
                        inits: [Tensor(name: "i", int64s: [1, 0, -1, 1], dims: [2, 2])], feeds: ["x": t([1, 2, 3, 4], [2, 2])])
        assertClose(g.floatValues(), [2, 1, 4, 4])
        let tri = try one("Trilu", ["x"], attrs: [Attribute("upper", .int(0))], inputs: [("x", [2, 2])], feeds: ["x": t([1, 2, 3, 4], [2, 2])])
        assertClose(tri.floatValues(), [1, 0, 3, 4])
        let e = try one("Einsum", ["a", "b"], attrs: [Attribute("equation", .string(Array("ij,jk->ik".utf8)))], inputs: [("a", [1, 2]), ("b", [2, 2])],
                        feeds: ["a": t([1, 2], [1, 2]), "b": t([1, 2, 3, 4], [2, 2])])
        assertClose(e.floatValues(), [7, 10])
        XCTAssertThrowsError(try one("GatherElements", ["x", "i"], inputs: [("x", [2])],
                                     inits: [Tensor(name: "i", int64s: [5], dims: [1])], feeds: ["x": t([1, 2], [2])])) { e in
            XCTAssertTrue("\(e)".contains("out of range"), "\(e)")
        }
    }

    /// Indices larger than the data on an axis other than `axis` (the value fuzzer's case 30719,
    /// seed 11: a GatherElements read past the data and crashed) are an error naming the axis,
    /// for GatherElements and ScatterElements alike; as large as the data still runs.
    func testElementIndicesLargerThanTheDataAreNamed() throws {
        let data = t([1, 2, 3, 4], [2, 2])
        XCTAssertThrowsError(try one("GatherElements", ["x", "i"], attrs: [Attribute("axis", .int(1))], inputs: [("x", [2, 2])],
                                     inits: [Tensor(name: "i", int64s: [0, 0, 0, 0, 0, 0, 0, 0], dims: [4, 2])],
                                     feeds: ["x": data])) { e in
            XCTAssertTrue("\(e)".contains("larger than data shape [2, 2] on axis 0"), "\(e)")
        }
        XCTAssertThrowsError(try one("ScatterElements", ["x", "i", "u"], attrs: [Attribute("axis", .int(0))], inputs: [("x", [2, 2])],
                                     inits: [Tensor(name: "i", int64s: [0, 0, 0, 0, 0, 0], dims: [1, 6]),
                                             Tensor(name: "u", floats: [9, 9, 9, 9, 9, 9], dims: [1, 6])],
                                     feeds: ["x": data])) { e in
            XCTAssertTrue("\(e)".contains("on axis 1 (6 > 2)"), "\(e)")
        }
        let g = try one("GatherElements", ["x", "i"], attrs: [Attribute("axis", .int(0))], inputs: [("x", [2, 2])],
                        inits: [Tensor(name: "i", int64s: [1, 0, 0, 0, 1, 1], dims: [3, 2])], feeds: ["x": data])
        assertClose(g.floatValues(), [3, 2, 1, 2, 3, 4])
        let s = try one("ScatterElements", ["x", "i", "u"], attrs: [Attribute("axis", .int(1))], inputs: [("x", [2, 2])],
                        inits: [Tensor(name: "i", int64s: [1], dims: [1, 1]), Tensor(name: "u", floats: [9], dims: [1, 1])],
                        feeds: ["x": data])
        assertClose(s.floatValues(), [1, 9, 3, 4])
    }

    func testQuantizeRoundsHalfToEvenAndSaturates() throws {
        let q = try one("QuantizeLinear", ["x", "s", "z"], inputs: [("x", [4])],
                        inits: [Tensor(name: "s", floats: [2], dims: []), Tensor(name: "z", elementType: .uint8, dims: [], data: .raw(ByteSlice(copying: [10])))],
                        feeds: ["x": t([1, 3, -100, 1000], [4])])
        XCTAssertEqual(q.elementType, .uint8)
        XCTAssertEqual(q.int64Values(), [10, 12, 0, 255])  // 0.5 -> 0, 1.5 -> 2
    }

    func testAttentionWithEqualScoresAveragesValues() throws {
        // Q is zero, so every score is equal and each output row is the mean of V's rows.
        let y = try one("Attention", ["q", "k", "v"], inputs: [("q", [1, 1, 2, 2]), ("k", [1, 1, 3, 2]), ("v", [1, 1, 3, 2])],
                        feeds: ["q": t([0, 0, 0, 0], [1, 1, 2, 2]), "k": t([1, 2, 3, 4, 5, 6], [1, 1, 3, 2]),
                                "v": t([1, 2, 3, 4, 5, 6], [1, 1, 3, 2])])
        assertClose(y.floatValues(), [3, 4, 3, 4], tol: 1e-4)
    }

    func testContribQuickGeluAndUnknownContribOpIsNamed() throws {
        let y = try one("QuickGelu", ["x"], inputs: [("x", [2])], domain: "com.microsoft", feeds: ["x": t([0, 10], [2])])
        assertClose(y.floatValues(), [0, 10], tol: 1e-3)
        XCTAssertThrowsError(try one("NoSuchContrib", ["x"], inputs: [("x", [1])], domain: "com.microsoft", feeds: ["x": t([0], [1])])) { e in
            XCTAssertTrue("\(e)".contains("com.microsoft::NoSuchContrib is not supported"), "\(e)")
        }
    }
}
