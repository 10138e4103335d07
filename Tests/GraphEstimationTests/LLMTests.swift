import XCTest
@testable import GraphEstimation

final class LLMTests: XCTestCase {
    func testPresetParameterCountsMatchPublishedCounts() throws {
        XCTAssertEqual(LLMCalculator(try XCTUnwrap(LLMPresets.config("gpt2"))).parameters().total, 124_439_808)
        XCTAssertEqual(LLMCalculator(try XCTUnwrap(LLMPresets.config("llama-2-7b"))).parameters().total, 6_738_415_616)
        for name in LLMPresets.names {
            let cfg = try XCTUnwrap(LLMPresets.config(name), name)
            XCTAssertNoThrow(try cfg.validate(), name)
            XCTAssertEqual(LLMCalculator(cfg).parameters().total, LLMPresets.publishedParameterCounts[name], name)
        }
        XCTAssertNil(LLMPresets.config("no-such-model"))
    }

    func testKorthikantiActivationsForGPT() throws {
        var c = try XCTUnwrap(LLMPresets.config("gpt2"))
        c.seq = 1024; c.batch = 1; c.dtype = .bf16; c.training = true; c.dropout = true
        let s = 1024.0, b = 1.0, h = 768.0, a = 12.0
        // per layer sbh(34 + 5as/h) with 16-bit activations
        XCTAssertEqual(LLMCalculator(c).activationBytesPerLayer(), s * b * h * (34 + 5 * a * s / h), accuracy: 0.5)
        c.flashAttention = true
        XCTAssertEqual(LLMCalculator(c).activationBytesPerLayer(), s * b * h * 34, accuracy: 0.5)
        c.recompute = .full
        XCTAssertEqual(LLMCalculator(c).activationBytesPerLayer(), 2 * s * b * h, accuracy: 0.5)
    }

    func testKVCachePerToken() throws {
        var l2 = try XCTUnwrap(LLMPresets.config("llama-2-7b")); l2.dtype = .fp16; l2.batch = 1
        XCTAssertEqual(LLMCalculator(l2).kvCacheBytes(tokens: 1), 512 * 1024)
        var l3 = try XCTUnwrap(LLMPresets.config("llama-3-8b")); l3.dtype = .fp16; l3.batch = 1
        XCTAssertEqual(LLMCalculator(l3).kvCacheBytes(tokens: 1), 128 * 1024)
    }

    func testTrainingMemoryAndFLOPs() throws {
        var c = try XCTUnwrap(LLMPresets.config("llama-2-7b"))
        c.training = true; c.optimizer = .adam; c.seq = 4096; c.batch = 1; c.flashAttention = true
        let calc = LLMCalculator(c)
        let p = Double(calc.parameters().total)
        let rows = Dictionary(uniqueKeysWithValues: calc.memory().rows.map { ($0.label, $0.value) })
        XCTAssertEqual((rows["weights"] ?? 0) + (rows["gradients"] ?? 0) + (rows["optimizer state"] ?? 0), 16 * p)
        c.optimizer = .adamFP32Grads
        let rows18 = Dictionary(uniqueKeysWithValues: LLMCalculator(c).memory().rows.map { ($0.label, $0.value) })
        XCTAssertEqual((rows18["weights"] ?? 0) + (rows18["gradients"] ?? 0) + (rows18["optimizer state"] ?? 0), 18 * p)
        XCTAssertEqual(rows["logits"] ?? 0, 2 * 4096 * 32000 * 2)
        XCTAssertEqual(calc.trainingFLOPs(), 6 * p * 4096)
        c.recompute = .full
        XCTAssertEqual(LLMCalculator(c).trainingFLOPs(), 8 * p * 4096)
    }

    func testInferenceFitAgainstDevice() throws {
        let reg = try HardwareRegistry.bundled()
        let h100 = try XCTUnwrap(reg.target("nvidia-h100-sxm5-80gb"))
        var c = try XCTUnwrap(LLMPresets.config("llama-2-7b")); c.dtype = .fp16; c.seq = 4096; c.batch = 1; c.flashAttention = true
        let report = LLMCalculator(c).memory(on: h100)
        XCTAssertEqual(report.fits, true)
        XCTAssertTrue(report.summary.hasSuffix("/ 80 GB"), report.summary)
        XCTAssertEqual(report.rows.first?.value, Double(6_738_415_616) * 2)
        XCTAssertEqual(report.totalBytes, report.rows.reduce(0) { $0 + $1.value })
        c.batch = 64
        XCTAssertEqual(LLMCalculator(c).memory(on: h100).fits, false)
        let inf = try XCTUnwrap(LLMCalculator(c).inference(on: h100))
        XCTAssertGreaterThan(inf.tokensPerSecond, 0)
        XCTAssertEqual(inf.decodeBoundBy, .memory)
    }

    func testConfigValidationNamesTheField() {
        let bad = LLMConfig(layers: 2, hidden: 64, heads: 8, kvHeads: 3, vocab: 100)
        XCTAssertThrowsError(try bad.validate()) { e in XCTAssertEqual((e as? LLMConfigError)?.field, "kv_heads") }
    }
}
