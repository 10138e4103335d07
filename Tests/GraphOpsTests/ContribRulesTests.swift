// Tests of the com.microsoft rules that onnxruntime cannot cross-check on CPU (BiasAdd,
// BiasSplitGelu, BiasDropout, the com.microsoft LayerNormalization and its RMS form, which
// onnxruntime registers only in the default domain), with symbolic dims, and of the forms the
// rules report instead of guessing. The rest is checked against onnxruntime's real outputs in
// Tests/e2e/test_contrib_shapes.py.
import XCTest
import GraphIR
@testable import GraphOps

final class ContribRulesTests: XCTestCase {
    let ms = "com.microsoft"

    func tensor(_ name: String, _ e: ElementType, _ dims: [Dim]) -> ValueInfo {
        ValueInfo(name: name, type: .tensor(e, TensorShape(dims)))
    }

    func dims(_ r: InferenceResult, _ name: String) -> [String]? {
        r.type(of: name)?.dims?.map { $0?.description ?? "?" }
    }

    func infer(_ nodes: [Node], _ inputs: [ValueInfo]) -> InferenceResult {
        let outs = nodes.flatMap(\.outputs).map { ValueInfo(name: $0) }
        return ShapeInference.infer(Graph(nodes: nodes, inputs: inputs, outputs: outs), opsets: ["": 17, ms: 1])
    }

    func testBiasOpsAndLayerNormsWithSymbolicDims() {
        let x = tensor("x", .float16, [.symbolic("B"), .symbolic("S"), .known(64)])
        let r = infer([
            Node(opType: "BiasAdd", domain: ms, inputs: ["x", "b", "x"], outputs: ["ba"]),
            Node(opType: "BiasSplitGelu", domain: ms, inputs: ["x", "b"], outputs: ["sg"]),
            Node(opType: "BiasDropout", domain: ms, inputs: ["x", "b"], outputs: ["bd", "mask"]),
            Node(opType: "LayerNormalization", domain: ms, inputs: ["x", "g", "b"], outputs: ["ln", "mean", "inv"]),
            Node(opType: "SimplifiedLayerNormalization", domain: ms, inputs: ["x", "g"], outputs: ["rms", "rinv"],
                 attributes: [Attribute("axis", .int(1))]),
        ], [x, tensor("b", .float16, [.known(64)]), tensor("g", .float16, [.known(64)])])
        XCTAssertEqual(dims(r, "ba"), ["B", "S", "64"])
        XCTAssertEqual(dims(r, "sg"), ["B", "S", "32"])
        XCTAssertEqual(dims(r, "mask"), ["B", "S", "64"])
        XCTAssertEqual(r.type(of: "mask")?.elementType, .bool)
        XCTAssertEqual(dims(r, "ln"), ["B", "S", "64"])
        XCTAssertEqual(dims(r, "mean"), ["B", "S", "1"])
        XCTAssertEqual(r.type(of: "mean")?.elementType, .float, "statistics in float32 when stash_type is absent")
        XCTAssertEqual(dims(r, "rinv"), ["B", "1", "1"])
        XCTAssertEqual(r.type(of: "rms")?.elementType, .float16)
        XCTAssertTrue(r.problems.isEmpty, "\(r.problems)")
    }

    func testAttentionFamilyWithSymbolicDims() {
        let r = infer([
            Node(opType: "Attention", domain: ms, inputs: ["x", "w", "bias", "", "past"], outputs: ["att", "present"],
                 attributes: [Attribute("num_heads", .int(4))]),
            Node(opType: "GroupQueryAttention", domain: ms, inputs: ["q", "k", "k", "pk", "pk"], outputs: ["gqa", "gk", "gv"],
                 attributes: [Attribute("num_heads", .int(8)), Attribute("kv_num_heads", .int(2))]),
            Node(opType: "MatMulNBits", domain: ms, inputs: ["x", "packed", "scales"], outputs: ["nb"],
                 attributes: [Attribute("K", .int(64)), Attribute("N", .int(96)), Attribute("bits", .int(4)),
                              Attribute("block_size", .int(32))]),
        ], [tensor("x", .float, [.symbolic("B"), .symbolic("S"), .known(64)]), tensor("w", .float, [.known(64), .known(192)]),
            tensor("bias", .float, [.known(192)]),
            tensor("past", .float, [.known(2), .symbolic("B"), .known(4), .symbolic("P"), .known(16)]),
            tensor("q", .float, [.symbolic("B"), .symbolic("S"), .known(128)]),
            tensor("k", .float, [.symbolic("B"), .symbolic("S"), .known(32)]),
            tensor("pk", .float, [.symbolic("B"), .known(2), .symbolic("P"), .known(16)]),
            tensor("packed", .uint8, [.known(96), .known(2), .known(16)]), tensor("scales", .float, [.known(192)])])
        XCTAssertEqual(dims(r, "att"), ["B", "S", "64"])
        XCTAssertEqual(dims(r, "present"), ["2", "B", "4", "P+S", "16"])
        XCTAssertEqual(dims(r, "gqa"), ["B", "S", "128"])
        XCTAssertEqual(dims(r, "gk"), ["B", "2", "?", "16"], "with a past, the present's length depends on the buffer mode")
        XCTAssertEqual(dims(r, "nb"), ["B", "S", "96"])
        XCTAssertTrue(r.problems.isEmpty, "\(r.problems)")
    }

    func testFormsNotModelledAreReportedNotGuessed() {
        let q = ["x", "s", "z", "s", "z"]
        let r = infer([
            Node(opType: "QLinearAveragePool", domain: ms, inputs: q, outputs: ["nhwc"],
                 attributes: [Attribute("kernel_shape", .ints([2, 2])), Attribute("channels_last", .int(1))]),
            Node(opType: "MatMulNBits", domain: ms, inputs: ["f", "s", "s"], outputs: ["bad"],
                 attributes: [Attribute("K", .int(32)), Attribute("N", .int(8))]),
        ], [tensor("x", .uint8, [.known(1), .known(6), .known(6), .known(3)]), tensor("s", .float, []),
            tensor("z", .uint8, []), tensor("f", .float, [.known(2), .known(16)])])
        XCTAssertNil(dims(r, "nhwc"))
        XCTAssertNil(dims(r, "bad"))
        XCTAssertEqual(Set(r.problems.map(\.reason)).count, 2, "\(r.problems)")
        XCTAssertTrue(r.problems.contains { $0.reason.contains("channels_last") }, "\(r.problems)")
        XCTAssertTrue(r.problems.contains { $0.reason.contains("last dim is 16, attribute K is 32") }, "\(r.problems)")
    }
}
