// Tests of the op registry: loading the bundled resources, lookups by opset version (the schema
// in force is the greatest since-version not above the opset), attribute data (defaults, legal
// values), the opset a model imports, categories and closest-name suggestions.
import XCTest
import GraphIR
@testable import GraphOps

final class OpRegistryTests: XCTestCase {
    let registry = OpRegistry.builtIn

    func testBundledResourcesLoadWithoutProblems() {
        XCTAssertEqual(registry.loadProblems, [])
        XCTAssertGreaterThan(registry.schemaCount, 600)
        XCTAssertTrue(registry.knows(domain: "ai.onnx.ml"))
        XCTAssertTrue(registry.knows(domain: "ai.onnx.preview.training"))
    }

    func testLookupPicksTheVersionInForceAtTheOpset() throws {
        XCTAssertNil(registry.schema(domain: "", opType: "Resize", opsetVersion: 9), "Resize appeared in opset 10")
        XCTAssertEqual(registry.schema(domain: "", opType: "Resize", opsetVersion: 10)?.sinceVersion, 10)
        XCTAssertEqual(registry.schema(domain: "", opType: "Resize", opsetVersion: 12)?.sinceVersion, 11)
        XCTAssertEqual(registry.schema(domain: "ai.onnx", opType: "Resize", opsetVersion: 17)?.sinceVersion, 13)
        // Resize-10 has 2 inputs and no cubic mode; Resize-11 takes roi/scales/sizes and cubic.
        let r10 = try XCTUnwrap(registry.schema(domain: "", opType: "Resize", opsetVersion: 10))
        XCTAssertEqual(r10.maxInputs, 2)
        XCTAssertEqual(r10.attribute("mode")?.legalValues, ["nearest", "linear"])
        let r13 = try XCTUnwrap(registry.schema(domain: "", opType: "Resize", opsetVersion: 13))
        XCTAssertEqual(r13.maxInputs, 4)
        XCTAssertEqual(r13.attribute("mode")?.legalValues, ["nearest", "linear", "cubic"])
        XCTAssertEqual(r13.attribute("mode")?.defaultValue, .string("nearest"))
        XCTAssertFalse(r13.attribute("coordinate_transformation_mode")?.legalValues?.contains("tf_half_pixel_for_nn") ?? true)
        let r11 = try XCTUnwrap(registry.schema(domain: "", opType: "Resize", opsetVersion: 11))
        XCTAssertTrue(r11.attribute("coordinate_transformation_mode")?.legalValues?.contains("tf_half_pixel_for_nn") ?? false)
        // Float defaults stay floats even when integral in JSON (LeakyRelu alpha 0.01, Elu alpha 1.0).
        XCTAssertEqual(registry.schema(domain: "", opType: "Elu", opsetVersion: 17)?.attribute("alpha")?.defaultValue, .float(1.0))
        XCTAssertEqual(registry.schema(domain: "", opType: "Elu", opsetVersion: 17)?.attribute("alpha")?.defaultValue?.description, "1.0")
        XCTAssertEqual(registry.schema(domain: "", opType: "LeakyRelu", opsetVersion: 17)?.attribute("alpha")?.defaultValue, .float(0.01))
        // Softmax's axis default moved from 1 to -1 in opset 13.
        XCTAssertEqual(registry.schema(domain: "", opType: "Softmax", opsetVersion: 11)?.attribute("axis")?.defaultValue, .int(1))
        XCTAssertEqual(registry.schema(domain: "", opType: "Softmax", opsetVersion: 13)?.attribute("axis")?.defaultValue, .int(-1))
    }

    func testFormalParametersAndTypeConstraints() throws {
        let concat = try XCTUnwrap(registry.schema(domain: "", opType: "Concat", opsetVersion: 13))
        XCTAssertEqual(concat.inputs.first?.option, .variadic)
        XCTAssertNil(concat.maxInputs)
        XCTAssertEqual(concat.attribute("axis")?.isRequired, true)
        let conv = try XCTUnwrap(registry.schema(domain: "", opType: "Conv", opsetVersion: 11))
        XCTAssertEqual(conv.inputs.map(\.option), [.single, .single, .optional])
        XCTAssertEqual(conv.attribute("auto_pad")?.legalValues, ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"])
        let t = try XCTUnwrap(conv.typeConstraint("T"))
        XCTAssertTrue(t.tensorElementTypes.contains(.float))
        XCTAssertFalse(t.tensorElementTypes.contains(.int64))
        XCTAssertEqual(conv.category, .convolution)
        XCTAssertEqual(conv.formalInput(at: 2)?.name, "B")
        XCTAssertNil(conv.formalInput(at: 3))
    }

    func testModelOpsetImports() {
        let m = Model(graph: Graph(), opsetImports: [OpsetImport(domain: "ai.onnx", version: 17),
                                                      OpsetImport(domain: "com.microsoft", version: 1)])
        XCTAssertEqual(m.opsetVersion(for: ""), 17)
        XCTAssertEqual(m.opsetVersion(for: "com.microsoft"), 1)
        XCTAssertNil(m.opsetVersion(for: "ai.onnx.ml"))
        XCTAssertEqual(OpRegistry.opsetVersion(for: "", in: m.opsetImports), 17)
    }

    func testClosestOpTypes() {
        XCTAssertEqual(registry.closestOpTypes(to: "Conv2D", domain: "").first, "Conv")
        XCTAssertEqual(registry.closestOpTypes(to: "Relux", domain: "").first, "Relu")
        XCTAssertEqual(registry.closestOpTypes(to: "zzzzzzzzzzzzzzzzzz", domain: ""), [])
        XCTAssertEqual(closestNames(to: "kernal_shape", among: ["kernel_shape", "strides", "pads"]), ["kernel_shape"])
    }

    func testCategoriesFromTheTable() {
        XCTAssertEqual(registry.category(opType: "MatMul"), .matmul)
        XCTAssertEqual(registry.category(opType: "MaxPool"), .pooling)
        XCTAssertEqual(registry.category(opType: "LSTM"), .recurrent)
        XCTAssertEqual(registry.category(opType: "QuantizeLinear"), .quantization)
        XCTAssertEqual(registry.category(opType: "Input"), .constant)
        XCTAssertEqual(registry.category(opType: "MyFancyConv3x3"), .convolution, "unknown ops fall back to a name guess")
        XCTAssertEqual(registry.category(opType: "reshape"), .shape, "case-insensitive match")
    }

    func testContribOps() throws {
        let required = ["FusedConv", "FusedGemm", "FusedMatMul", "Gelu", "FastGelu", "BiasGelu", "QuickGelu",
                        "SkipLayerNormalization", "SkipSimplifiedLayerNormalization", "Attention", "MultiHeadAttention",
                        "GroupQueryAttention", "RotaryEmbedding", "QLinearConv", "QLinearAdd", "QLinearMul",
                        "QLinearSigmoid", "QLinearAveragePool", "QLinearGlobalAveragePool", "QLinearConcat",
                        "QLinearLeakyRelu", "QLinearSoftmax", "MatMulNBits", "DynamicQuantizeMatMul"]
        for op in required {
            XCTAssertNotNil(registry.schema(domain: "com.microsoft", opType: op, opsetVersion: 1), op)
        }
        let fused = try XCTUnwrap(registry.schema(domain: "com.microsoft", opType: "FusedConv", opsetVersion: 1))
        XCTAssertEqual(fused.inputs.map(\.name), ["X", "W", "B", "Z"])
        XCTAssertEqual(fused.category, .convolution)
        XCTAssertEqual(fused.attribute("auto_pad")?.legalValues, ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"])
        let nbits = try XCTUnwrap(registry.schema(domain: "com.microsoft", opType: "MatMulNBits", opsetVersion: 1))
        XCTAssertEqual(nbits.attribute("K")?.isRequired, true)
        XCTAssertEqual(nbits.category, .matmul)
        XCTAssertEqual(registry.category(opType: "GroupQueryAttention", domain: "com.microsoft"), .attention)
        XCTAssertEqual(registry.category(opType: "QLinearAdd", domain: "com.microsoft"), .elementwise)
        // onnxruntime's LayerNormalization-1 in the default domain, before ONNX's own (17).
        XCTAssertEqual(registry.schema(domain: "", opType: "LayerNormalization", opsetVersion: 13)?.sinceVersion, 1)
        XCTAssertEqual(registry.schema(domain: "", opType: "LayerNormalization", opsetVersion: 17)?.sinceVersion, 17)
    }

    func testTFLiteBuiltins() throws {
        let conv = try XCTUnwrap(registry.schema(domain: "tflite", opType: "DEPTHWISE_CONV_2D", opsetVersion: 1))
        XCTAssertEqual(conv.attribute("padding")?.legalValues, ["SAME", "VALID"])
        XCTAssertEqual(conv.category, .convolution)
        XCTAssertEqual(registry.category(opType: "FULLY_CONNECTED"), .matmul)
        XCTAssertEqual(registry.category(opType: "MAX_POOL_2D"), .pooling)
        XCTAssertEqual(registry.category(opType: "LOGISTIC"), .activation)
        XCTAssertEqual(registry.category(opType: "DEQUANTIZE"), .quantization)
    }

    func testCompletionAPI() {
        XCTAssertEqual(registry.legalValues(domain: "", opType: "Conv", opsetVersion: 17, attribute: "auto_pad", prefix: "SAME"),
                       ["SAME_UPPER", "SAME_LOWER"])
        XCTAssertEqual(registry.legalValues(domain: "", opType: "Resize", opsetVersion: 19, attribute: "mode"),
                       ["nearest", "linear", "cubic"])
        XCTAssertNil(registry.legalValues(domain: "", opType: "Conv", opsetVersion: 17, attribute: "group"))
        XCTAssertEqual(registry.attributeNames(domain: "", opType: "Conv", opsetVersion: 17, prefix: "d"), ["dilations"])
        XCTAssertTrue(registry.allOpTypes.contains("FastGelu"))
    }
}
