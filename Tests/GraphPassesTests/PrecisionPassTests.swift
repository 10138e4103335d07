import XCTest
import GraphEditing
import GraphIR
import GraphRuntime
@testable import GraphPasses

/// Quantize (static QDQ, dynamic) and convert (fp16/bf16) on a hand-built Conv -> Relu ->
/// Flatten -> MatMul model, checked numerically through the interpreter.
final class PrecisionPassTests: XCTestCase {
    /// Deterministic, not symmetric weights so per-channel scales differ.
    static func values(_ n: Int, _ k: Int) -> [Float] { (0..<n).map { Float((($0 * k) % 17) - 8) / Float(9 + $0 % 3) } }

    static func model(convAnnotations: [String: String] = [:], matmulAnnotations: [String: String] = [:]) -> Model {
        var conv = Node(opType: "Conv", inputs: ["x", "w", "b"], outputs: ["y"], attributes: [Attribute("pads", .ints([1, 1, 1, 1]))])
        conv.annotations = convAnnotations
        var mm = Node(opType: "MatMul", inputs: ["f", "m"], outputs: ["out"])
        mm.annotations = matmulAnnotations
        return PT.model([conv, Node(opType: "Relu", inputs: ["y"], outputs: ["r"]),
                         Node(opType: "Flatten", inputs: ["r"], outputs: ["f"], attributes: [Attribute("axis", .int(1))]), mm],
                        inputs: [PT.f("x", [1, 2, 4, 4])], outputs: [PT.f("out", [1, 5])],
                        initializers: [PT.c("w", values(54, 7), [3, 2, 3, 3]), PT.c("b", [0.1, -0.2, 0.3], [3]), PT.c("m", values(240, 5), [48, 5])],
                        opset: 13)
    }

    static func inputs(_ n: Int) -> [[String: RuntimeTensor]] {
        (0..<n).map { k in ["x": RuntimeTensor(floats: (0..<32).map { Float((($0 + k * 5) * 37) % 23) / 7 - 1.5 }, shape: [1, 2, 4, 4])] }
    }

    func run(_ pass: any Pass, _ m: Model) throws -> (Model, PassRun) {
        let r = try PassManager(passes: [pass]).run(m, origin: "test")
        return (r.transaction.model, r)
    }

    func testStaticQuantizationWritesQDQWithPerChannelInt8WeightsAndStaysClose() throws {
        let m = Self.model()
        let ranges = try Calibration.ranges(of: QuantizeStatic.activations(of: m.graph), model: m, inputs: Self.inputs(4), method: .minMax)
        XCTAssertEqual(Set(ranges.keys), ["x", "f"])
        let (q, run) = try run(QuantizeStatic(ranges: ranges), m)
        XCTAssertTrue(run.changed)
        let ops = q.graph.nodes.map(\.opType)
        XCTAssertEqual(ops.filter { $0 == "QuantizeLinear" }.count, 2, "x and f")
        XCTAssertEqual(ops.filter { $0 == "DequantizeLinear" }.count, 4, "two activations, two weights")
        XCTAssertNil(q.graph.initializer(named: "w"), "the float weight goes")
        XCTAssertNil(q.graph.initializer(named: "m"))
        let wq = try XCTUnwrap(q.graph.initializers.first { $0.elementType == .int8 && $0.dims == [3, 2, 3, 3] })
        let dq = try XCTUnwrap(q.graph.nodes.first { $0.opType == "DequantizeLinear" && $0.inputs[0] == wq.name })
        XCTAssertEqual(dq.attribute("axis")?.intValue, 0, "Conv weights per output channel")
        XCTAssertEqual(q.graph.initializer(named: dq.inputs[1])?.dims, [3])
        let check = try PrecisionCheck.measure(float: m, converted: q, inputs: Self.inputs(4))
        let scale = try Interpreter(model: m).run(Self.inputs(1)[0]).outputs[0].tensor.floatValues().map { abs($0) }.max() ?? 1
        XCTAssertGreaterThan(check.maxError, 0, "int8 changes the numbers")
        XCTAssertLessThan(check.maxError, 0.05 * Double(scale), "but stays within 5% of the output's magnitude")
        XCTAssertLessThan(check.sizeRatio, 0.45)
        XCTAssertFalse(check.nodeError.isEmpty, "per-node errors for the overlay")
        XCTAssertNotNil(check.nodeError[try XCTUnwrap(q.graph.nodes.first { $0.opType == "MatMul" }).id])
    }

    func testPercentileRangesAreInsideMinMax() throws {
        let m = Self.model()
        let mm = try Calibration.ranges(of: ["f"], model: m, inputs: Self.inputs(3), method: .minMax)
        let pc = try Calibration.ranges(of: ["f"], model: m, inputs: Self.inputs(3), method: .percentile(90))
        let a = try XCTUnwrap(mm["f"]), b = try XCTUnwrap(pc["f"])
        XCTAssertLessThan(b.max, a.max)
        XCTAssertGreaterThanOrEqual(b.min, a.min)
    }

    func testAnnotationsSelectWhatIsQuantized() throws {
        // quantize=none excludes the Conv; keep=true keeps the MatMul as it is.
        let m = Self.model(convAnnotations: ["quantize": "none"], matmulAnnotations: ["keep": "true"])
        let ranges = try Calibration.ranges(of: QuantizeStatic.activations(of: m.graph), model: m, inputs: Self.inputs(2), method: .minMax)
        let r = try PassManager(passes: [QuantizeStatic(ranges: ranges)]).run(m, origin: "test")
        XCTAssertFalse(r.changed)
        // An int8 annotation on the MatMul: only it is quantized.
        let only = Self.model(matmulAnnotations: ["quantize": "int8"])
        let (q, _) = try run(QuantizeStatic(ranges: ranges), only)
        XCTAssertNotNil(q.graph.initializer(named: "w"), "the Conv is not annotated: left in float")
        XCTAssertNil(q.graph.initializer(named: "m"))
        let (d, _) = try run(QuantizeDynamic(), Self.model(matmulAnnotations: ["quantize": "none"]))
        XCTAssertFalse(d.graph.nodes.contains { $0.opType == "MatMulInteger" })
    }

    func testDynamicQuantizationUsesMatMulIntegerAndStaysClose() throws {
        let m = Self.model()
        let (q, run) = try run(QuantizeDynamic(), m)
        XCTAssertTrue(run.changed)
        let ops = q.graph.nodes.map(\.opType)
        XCTAssertEqual(ops.filter { $0 == "MatMulInteger" }.count, 1)
        XCTAssertEqual(ops.filter { $0 == "DynamicQuantizeLinear" }.count, 1)
        XCTAssertFalse(ops.contains("MatMul"))
        XCTAssertTrue(ops.contains("Conv"), "Conv is not touched by dynamic quantization")
        XCTAssertEqual(q.graph.initializer(named: "m_quantized")?.elementType, .int8)
        XCTAssertEqual(q.graph.outputs.map(\.name), ["out"])
        let check = try PrecisionCheck.measure(float: m, converted: q, inputs: Self.inputs(3))
        XCTAssertGreaterThan(check.maxError, 0)
        XCTAssertLessThan(check.maxError, 0.2)
        XCTAssertEqual(check.outputs.first?.top1, 1, "the argmax holds on these inputs")
    }

    func testDynamicGemmWithTransposedWeightAlphaAndBias() throws {
        let gemm = Node(opType: "Gemm", inputs: ["a", "w", "c"], outputs: ["y"],
                        attributes: [Attribute("transB", .int(1)), Attribute("alpha", .float(0.5)), Attribute("beta", .float(2))])
        let m = PT.model([gemm], inputs: [PT.f("a", [2, 6])], outputs: [PT.f("y", [2, 4])],
                         initializers: [PT.c("w", Self.values(24, 3), [4, 6]), PT.c("c", [1, 2, 3, 4], [4])], opset: 13)
        let (q, _) = try run(QuantizeDynamic(), m)
        XCTAssertEqual(q.graph.initializers.first { $0.elementType == .int8 }?.dims, [6, 4], "stored [K, N]")
        let x = ["a": RuntimeTensor(floats: (0..<12).map { Float($0 % 5) - 2 }, shape: [2, 6])]
        let check = try PrecisionCheck.measure(float: m, converted: q, inputs: [x])
        XCTAssertLessThan(check.maxError, 0.1)
    }

    func testConvertFloat16KeepsIOTypesWithCasts() throws {
        let m = Self.model()
        let (c, run) = try run(ConvertFloat16(dtype: .float16, keepIOTypes: true), m)
        XCTAssertTrue(run.changed)
        XCTAssertEqual(c.graph.initializer(named: "w")?.elementType, .float16)
        XCTAssertEqual(c.graph.initializer(named: "m")?.elementType, .float16)
        XCTAssertEqual(c.graph.inputs.first?.type?.elementType, .float)
        XCTAssertEqual(c.graph.outputs.map(\.name), ["out"])
        XCTAssertEqual(c.graph.outputs.first?.type?.elementType, .float)
        XCTAssertEqual(c.graph.nodes.filter { $0.opType == "Cast" }.count, 2, "one at the input, one at the output")
        let check = try PrecisionCheck.measure(float: m, converted: c, inputs: Self.inputs(2))
        XCTAssertLessThan(check.maxError, 0.02)
        XCTAssertEqual(check.sizeRatio, 0.5, accuracy: 0.01)
    }

    func testConvertWithoutKeepingIOTypesRetypesInputsAndOutputs() throws {
        let (c, _) = try run(ConvertFloat16(dtype: .float16, keepIOTypes: false), Self.model())
        XCTAssertEqual(c.graph.inputs.first?.type?.elementType, .float16)
        XCTAssertEqual(c.graph.outputs.first?.type?.elementType, .float16)
        XCTAssertFalse(c.graph.nodes.contains { $0.opType == "Cast" })
    }

    func testConvertLeavesExcludedNodesInFloat32() throws {
        // The MatMul stays float32: its weight stays float, and a Cast brings f back to float.
        let m = Self.model(matmulAnnotations: ["quantize": "none"])
        let (c, _) = try run(ConvertFloat16(dtype: .bfloat16, keepIOTypes: true), m)
        XCTAssertEqual(c.graph.initializer(named: "m")?.elementType, .float)
        let mm = try XCTUnwrap(c.graph.nodes.first { $0.opType == "MatMul" })
        XCTAssertEqual(c.graph.producerNode(of: mm.inputs[0])?.opType, "Cast")
        // Conv has no bfloat16 kernel in its schema: it stays float32 too, and so does w.
        XCTAssertEqual(c.graph.initializer(named: "w")?.elementType, .float)
    }
}
