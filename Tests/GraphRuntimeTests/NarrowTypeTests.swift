/// The narrow element types held widened (float8, float4, int4, ...): rounding to nearest even,
/// saturation and overflow per the ONNX Cast table, integer wrap on Cast and clamping on
/// QuantizeLinear, and CastLike taking its target from the declared type of its second input.
import GraphIR
import XCTest
@testable import GraphRuntime

final class NarrowTypeTests: XCTestCase {
    func testFloat8E4M3FNRoundsToNearestEvenAndSaturates() {
        let t = NarrowTypes.e4m3fn
        // 0.5 and 0.5625 are neighbours (mantissa step 1/16 at 2^-1); the midpoint goes to the even code 0.5.
        XCTAssertEqual(NarrowTypes.round(0.53125, t, saturate: true), 0.5)
        XCTAssertEqual(NarrowTypes.round(0.54, t, saturate: true), 0.5625)
        XCTAssertEqual(NarrowTypes.round(0.4789254665374756, t, saturate: true), 0.46875)
        XCTAssertEqual(NarrowTypes.round(1e6, t, saturate: true), 448)
        XCTAssertEqual(NarrowTypes.round(-.infinity, t, saturate: true), -448)
        XCTAssertTrue(NarrowTypes.round(1e6, t, saturate: false).isNaN, "no infinity in e4m3fn")
        XCTAssertEqual(NarrowTypes.round(460, t, saturate: false), 448, "rounds down to the largest value")
        let negZero = NarrowTypes.round(-1e-7, t, saturate: true)
        XCTAssertEqual(negZero, 0)
        XCTAssertEqual(negZero.sign, .minus)
        XCTAssertTrue(NarrowTypes.round(.nan, t, saturate: true).isNaN)
    }

    func testFloat8VariantsOverflowAndSignedZero() {
        XCTAssertEqual(NarrowTypes.round(1e6, NarrowTypes.e5m2, saturate: false), .infinity)
        XCTAssertEqual(NarrowTypes.round(1e6, NarrowTypes.e5m2, saturate: true), 57344)
        XCTAssertTrue(NarrowTypes.round(1e6, NarrowTypes.e5m2fnuz, saturate: false).isNaN)
        XCTAssertEqual(NarrowTypes.round(1e6, NarrowTypes.e4m3fnuz, saturate: true), 240)
        XCTAssertEqual(NarrowTypes.round(-1e-9, NarrowTypes.e4m3fnuz, saturate: true).sign, .plus, "fnuz has no -0")
        XCTAssertEqual(NarrowTypes.round(9, NarrowTypes.e2m1, saturate: false), 6, "float4 always saturates")
        XCTAssertEqual(NarrowTypes.round(2.5, NarrowTypes.e2m1, saturate: true), 2, "tie to the even code")
        XCTAssertEqual(NarrowTypes.e8m0(1.1, saturate: true, roundMode: "up"), 2)
        XCTAssertEqual(NarrowTypes.e8m0(1.1, saturate: true, roundMode: "down"), 1)
    }

    func testCastWrapsFourBitIntegersAndRoundsFloat8() throws {
        let x: [Float] = [-9, -8, 7, 8, 9.7, 0.54]
        let int4 = model([Node(opType: "Cast", inputs: ["x"], outputs: ["y"], attributes: [Attribute("to", .int(22))])],
                         inputs: [("x", [6])], outputs: ["y"], opset: 21)
        let y = try Interpreter(model: int4).run(["x": t(x, [6])]).outputs[0].tensor
        XCTAssertEqual(y.elementType, .int8, "int4 is held as int8")
        XCTAssertEqual(y.floatValues(), [7, -8, 7, -8, -7, 0])
        let f8 = model([Node(opType: "Cast", inputs: ["x"], outputs: ["y"], attributes: [Attribute("to", .int(17))])],
                       inputs: [("x", [6])], outputs: ["y"], opset: 21)
        XCTAssertEqual(try evaluate(f8, ["x": t(x, [6])]), [-9, -8, 7, 8, 10, 0.5625])
    }

    func testQuantizeToInt4ClampsAndCastLikeFollowsDeclaredType() throws {
        let q = model([Node(opType: "QuantizeLinear", inputs: ["x", "s"], outputs: ["y"], attributes: [Attribute("output_dtype", .int(22))])],
                      inputs: [("x", [4])], outputs: ["y"], initializers: [Tensor(name: "s", floats: [0.5], dims: [])], opset: 21)
        XCTAssertEqual(try evaluate(q, ["x": t([-10, -1.25, 1.25, 10], [4])]), [-8, -2, 2, 7])
        // The second input is declared float8e4m3fn: held as float32, the cast still rounds to float8.
        let g = Graph(nodes: [Node(opType: "CastLike", inputs: ["x", "like"], outputs: ["y"])],
                      inputs: [ValueInfo(name: "x", type: .tensor(.float, TensorShape(static: [2]))),
                               ValueInfo(name: "like", type: .tensor(.float8e4m3fn, TensorShape(static: [1])))],
                      outputs: [ValueInfo(name: "y")])
        let m = Model(graph: g, opsetImports: [OpsetImport(version: 21)])
        let y = try evaluate(m, ["x": t([0.54, 1e6], [2]), "like": t([1], [1])])
        XCTAssertEqual(y, [0.5625, 448])
    }
}

/// String tensors and sequences/optionals travel through the plan as values of their own.
final class StringAndSequenceTests: XCTestCase {
    func testStringSplitAndEqual() throws {
        let g = Graph(nodes: [Node(opType: "StringSplit", inputs: ["x"], outputs: ["parts", "n"], attributes: [Attribute("delimiter", .string(Array(",".utf8)))]),
                              Node(opType: "Equal", inputs: ["x", "x"], outputs: ["same"])],
                      inputs: [ValueInfo(name: "x", type: .tensor(.string, TensorShape(static: [2])))],
                      outputs: [ValueInfo(name: "parts"), ValueInfo(name: "n"), ValueInfo(name: "same")])
        let m = Model(graph: g, opsetImports: [OpsetImport(version: 22)])
        let x = RuntimeTensor(strings: [Array("a,b,c".utf8), Array("d".utf8)], shape: [2])
        let outs = try Interpreter(model: m).run(["x": x]).outputs
        XCTAssertEqual(outs[0].tensor.shape, [2, 3])
        XCTAssertEqual(outs[0].tensor.strings?.map { String(decoding: $0, as: UTF8.self) }, ["a", "b", "c", "d", "", ""])
        XCTAssertEqual(outs[1].tensor.int64Values(), [3, 1])
        XCTAssertEqual(outs[2].tensor.floatValues(), [1, 1])
    }

    func testSequenceRoundTripAndOptional() throws {
        let g = Graph(nodes: [Node(opType: "SplitToSequence", inputs: ["x"], outputs: ["s"], attributes: [Attribute("keepdims", .int(0))]),
                              Node(opType: "SequenceErase", inputs: ["s"], outputs: ["s2"]),
                              Node(opType: "SequenceLength", inputs: ["s2"], outputs: ["len"]),
                              Node(opType: "ConcatFromSequence", inputs: ["s2"], outputs: ["y"], attributes: [Attribute("axis", .int(0)), Attribute("new_axis", .int(1))]),
                              Node(opType: "OptionalHasElement", inputs: [""], outputs: ["has"])],
                      inputs: [ValueInfo(name: "x", type: .tensor(.float, TensorShape(static: [3, 2])))],
                      outputs: [ValueInfo(name: "len"), ValueInfo(name: "y"), ValueInfo(name: "has")])
        let m = Model(graph: g, opsetImports: [OpsetImport(version: 18)])
        let outs = try Interpreter(model: m).run(["x": t([1, 2, 3, 4, 5, 6], [3, 2])]).outputs
        XCTAssertEqual(outs[0].tensor.int64Values(), [2])
        XCTAssertEqual(outs[1].tensor.shape, [2, 2])
        XCTAssertEqual(outs[1].tensor.floatValues(), [1, 2, 3, 4], "the last row was erased")
        XCTAssertEqual(outs[2].tensor.floatValues(), [0], "no input: no element")
    }

    func testNumericKernelRefusesStringsByName() throws {
        let g = Graph(nodes: [Node(opType: "Relu", inputs: ["x"], outputs: ["y"])],
                      inputs: [ValueInfo(name: "x", type: .tensor(.string, TensorShape(static: [1])))],
                      outputs: [ValueInfo(name: "y")])
        let m = Model(graph: g, opsetImports: [OpsetImport(version: 18)])
        XCTAssertThrowsError(try Interpreter(model: m).run(["x": RuntimeTensor(strings: [Array("a".utf8)], shape: [1])])) { e in
            XCTAssertTrue("\(e)".contains("Relu does not take string tensors"), "\(e)")
        }
    }
}
