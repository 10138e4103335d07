import XCTest
import Foundation
@testable import GraphEstimation

final class HardwareTests: XCTestCase {
    func testBundledRegistryHasFortyTargetsWithSources() throws {
        let reg = try HardwareRegistry.bundled()
        XCTAssertEqual(reg.targets.count, 40)
        XCTAssertTrue(reg.targets.allSatisfy { !$0.source.isEmpty })
        let h100 = try XCTUnwrap(reg.target("nvidia-h100-sxm5-80gb"))
        XCTAssertEqual(h100.peak(.bf16)?.opsPerSecond, 989.5e12)
        XCTAssertEqual(h100.peak(.fp16, matrix: false)?.opsPerSecond, 67e12)
        XCTAssertEqual(h100.memoryBandwidthBytesPerSecond, 3350e9)
        XCTAssertEqual(h100.computeUnits, 132)
        XCTAssertEqual(h100.onChipBytes["l2"], 50e6)
        XCTAssertEqual(reg.target("H100 SXM5 80GB")?.id, h100.id)
        XCTAssertEqual(reg.target("google-tpu-v5e")?.confidence, .high)
        XCTAssertEqual(reg.target("nvidia-h100-nvl-94gb")?.confidence(ofField: "tdp_w"), .medium)
        XCTAssertNil(reg.target("nvidia-h"))                 // ambiguous prefix
        XCTAssertNil(reg.target("h100"))                     // ambiguous fragment
        XCTAssertEqual(reg.target("h100-sxm5")?.id, "nvidia-h100-sxm5-80gb")
        XCTAssertEqual(reg.target("MI300X")?.id, "amd-mi300x")
        XCTAssertEqual(reg.rows().count, 40)
        XCTAssertEqual(reg.rows().first?.peakFP16TFLOPS, 989.5)
    }

    private func write(_ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hw-\(UUID().uuidString).json")
        try Data(text.utf8).write(to: url)
        return url
    }

    func testUserFileReportsEveryBadField() throws {
        let url = try write("""
        {"targets": [{"id": "my gpu", "peak_dense": {"fp16": "fast", "fp32": -3}, "memory": {"bandwidth_gbps": 0},
                      "source": "", "confidence": "sure", "tdp_w": "lots"}]}
        """)
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertThrowsError(try HardwareRegistry().adding(contentsOf: url)) { error in
            let paths = Set(((error as? HardwareLoadError)?.errors ?? []).map(\.path))
            for p in ["targets[0].id", "targets[0].class", "targets[0].peak_dense.fp16", "targets[0].peak_dense.fp32",
                      "targets[0].memory.bandwidth_gbps", "targets[0].source", "targets[0].confidence", "targets[0].tdp_w"] {
                XCTAssertTrue(paths.contains(p), "missing error for \(p); got \(paths.sorted())")
            }
            XCTAssertTrue(String(describing: error).contains(url.lastPathComponent))
        }
    }

    func testMalformedJSONAndEmptyFiles() throws {
        let bad = try write("{ not json")
        let empty = try write("{\"targets\": []}")
        defer { try? FileManager.default.removeItem(at: bad); try? FileManager.default.removeItem(at: empty) }
        XCTAssertThrowsError(try HardwareRegistry().adding(contentsOf: bad)) { XCTAssertTrue(String(describing: $0).contains("not valid JSON")) }
        XCTAssertThrowsError(try HardwareRegistry().adding(contentsOf: empty)) { XCTAssertTrue(String(describing: $0).contains("no targets")) }
        XCTAssertThrowsError(try HardwareRegistry().adding(contentsOf: URL(fileURLWithPath: "/nonexistent/hw.json")))
    }

    func testAddingAValidTargetAndOverridingByID() throws {
        let url = try write("""
        {"id": "my-npu", "name": "My NPU", "class": "accelerator", "peak_dense": {"int8": 50, "fp16": 25},
         "memory": {"bandwidth_gbps": 100, "capacity_gb": 8, "type": "LPDDR5"}, "tdp_w": 10,
         "energy": {"pj_per_byte": 60, "pj_per_flop": {"fp16": 0.2}, "static_w": 1},
         "launch_overhead_us": 3, "source": "my measurements", "confidence": "low"}
        """)
        defer { try? FileManager.default.removeItem(at: url) }
        let reg = try HardwareRegistry.bundled().adding(contentsOf: url)
        XCTAssertEqual(reg.targets.count, 41)
        let t = try XCTUnwrap(reg.target("my-npu"))
        XCTAssertEqual(t.peak(.int8)?.opsPerSecond, 50e12)
        XCTAssertEqual(t.launchOverheadSeconds, 3e-6, accuracy: 1e-15)
        XCTAssertEqual(t.energy.picojoulesPerFLOP[.fp16], 0.2)
        XCTAssertEqual(t.supportedPrecisions, [.fp16, .int8])
        XCTAssertEqual(try HardwareRegistry.bundled().target("nvidia-h100-sxm5-80gb")?.supportedPrecisions,
                       [.fp64, .fp32, .tf32, .bf16, .fp16, .fp8, .int8])
        XCTAssertEqual(try HardwareRegistry.bundled().target("apple-m2-max")?.supportedPrecisions, [.fp32, .fp16, .int8])
        let again = try reg.adding(contentsOf: url)
        XCTAssertEqual(again.targets.count, 41)
        // calibrated energy parameters mark energy as calibrated
        let m = try RooflineModel(target: t, precision: .fp16)
        XCTAssertEqual(m.time(WorkItem(flops: 1e9, bytes: 1e6, opClass: .matmul)).energy.confidence, .theoretical)
    }
}

final class AllTargetsTests: XCTestCase {
    /// Every bundled target prices a small graph at each precision it supports with finite,
    /// positive latency and finite energy (missing TDP, bandwidth or fp32 rates included).
    func testEveryTargetPricesFinitely() throws {
        var b = GraphBuilder()
        b.input("x", [8, 256]); b.weight("w", [256, 256])
        b.node("MatMul", ["x", "w"], ["h"]); b.node("Relu", ["h"], ["y"])
        let a = try CostAnalysis(graph: b.g)
        var priced = 0
        for t in try HardwareRegistry.bundled().targets {
            for p in Precision.allCases {
                guard let m = try? RooflineModel(target: t, precision: p) else { continue }
                let q = GraphEstimator.quickTotals(a, model: m)
                XCTAssertTrue(q.latency.value.isFinite && q.latency.value > 0, "\(t.id) \(p)")
                XCTAssertTrue(q.energy.value.isFinite && q.energy.value >= 0, "\(t.id) \(p)")
                XCTAssertTrue(m.roofs().ridgeIntensity.isFinite, "\(t.id) \(p)")
                priced += 1
            }
            XCTAssertTrue(Precision.allCases.contains { t.peak($0) != nil }, "\(t.id) has no usable rate")
        }
        XCTAssertGreaterThan(priced, 150)
    }
}
