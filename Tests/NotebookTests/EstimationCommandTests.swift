import XCTest
import JupyterKernel
@testable import Notebook

final class EstimationCommandTests: XCTestCase {
    var runner: CellRunner!

    override func setUpWithError() throws {
        runner = try CellRunner.withTourModel()
    }

    func testEstimateJSONAndOverlayFields() throws {
        XCTAssertNil(runner.run("estimate hw=h100-sxm5 dtype=fp16 batch=8 seq=128").error)
        guard case .object(let json)? = runner.displays.first?[OutputBundle.dataMIME] else { return XCTFail("no json") }
        XCTAssertEqual(Set(json.keys).intersection(["totals", "hardware", "dtype", "confidence", "nodes"]).count, 5)
        guard case .object(let totals)? = json["totals"] else { return XCTFail() }
        XCTAssertEqual(Set(totals.keys), ["macs", "flops", "params", "bytes", "latency_s", "energy_j"])
        XCTAssertEqual(json["hardware"], .string("nvidia-h100-sxm5-80gb"))
        XCTAssertEqual(json["dtype"], .string("fp16"))
        XCTAssertEqual(json["confidence"], .string("theoretical"))
        XCTAssertEqual(totals["params"], .int(176_650))
        // One MatMul of the FFN: batch 8 x seq 128 rows, 64 -> 256: 8*128*64*256 MACs.
        let ffn = json["nodes"]?.objectValue?.values.first { $0["name"] == .string("/encoder/layer.0/intermediate/dense/MatMul") }
        XCTAssertEqual(ffn?["macs"], .int(8 * 128 * 64 * 256))
        XCTAssertEqual(ffn?["flops"], .int(2 * 8 * 128 * 64 * 256))
        let fields = runner.interpreter.session.graphs["bert"]?.fields ?? [:]
        XCTAssertEqual(Set(fields.keys), ["latency", "energy", "flops", "bytes", "macs", "params"])
        XCTAssertNil(runner.run("show overlay=latency").error)
        XCTAssertTrue(runner.displays.first?["image/svg+xml"]?.stringValue?.contains("latency") ?? false)
        // Without hardware: counts, no latency; unbound dims are a clear error.
        XCTAssertNil(runner.run("estimate batch=1 seq=16 convention=dense").error)
        XCTAssertEqual(runner.displays.first?[OutputBundle.dataMIME]?["totals"]?["latency_s"], .null)
        XCTAssertEqual(runner.run("estimate").error?.name, "ModelError")
        XCTAssertEqual(runner.run("estimate hw=nosuchchip batch=1 seq=8").error?.name, "LookupError")
    }

    func testRooflineChart() {
        XCTAssertNil(runner.run("roofline hw=a100-sxm4-80 batch=8 seq=128").error)
        let b = runner.displays.first
        XCTAssertNotNil(b?["application/vnd.vegalite.v5+json"]?["layer"])
        XCTAssertTrue(b?["image/svg+xml"]?.stringValue?.hasPrefix("<svg") ?? false)
        XCTAssertEqual(b?[OutputBundle.dataMIME]?["points"]?.arrayValue?.count, 68)
    }

    func testLLMExactCountsAndFit() {
        XCTAssertNil(runner.run("llm gpt2").error)
        XCTAssertEqual(runner.displays.first?[OutputBundle.dataMIME]?["parameters"], .int(124_439_808))
        XCTAssertNil(runner.run("llm llama-2-7b hw=h100-sxm5").error)
        let j = runner.displays.first?[OutputBundle.dataMIME]
        XCTAssertEqual(j?["parameters"], .int(6_738_415_616))
        XCTAssertEqual(j?["fits"], .bool(true))
        // Tables and the chart are two outputs: HTML never competes with Vega-Lite.
        XCTAssertEqual(runner.displays.count, 2)
        XCTAssertNil(runner.displays.first?["application/vnd.vegalite.v5+json"])
        XCTAssertNotNil(runner.displays.last?["application/vnd.vegalite.v5+json"])
        XCTAssertNotNil(runner.displays.last?["image/svg+xml"])
        XCTAssertNil(runner.displays.last?["text/html"])
        XCTAssertTrue(runner.displays.first?["text/plain"]?.stringValue?.contains("/ 80 GB") ?? false)
        // Training: gradients and optimizer state appear; 6PD.
        XCTAssertNil(runner.run("llm gpt2 --training batch=8 seq=1024").error)
        let t = runner.displays.first?[OutputBundle.dataMIME]
        XCTAssertNotNil(t?["memory_bytes"]?["optimizer state"])
        XCTAssertEqual(t?["training_flops"]?.doubleValue, 6 * 124_439_808 * 8 * 1024)
        XCTAssertEqual(runner.run("llm layers=2").error?.name, "CommandError")
        XCTAssertEqual(runner.run("llm gpt2 heads=5").error?.name, "ValueError")
    }

    func testSweepTableChartAndInterrupt() {
        XCTAssertNil(runner.run("sweep batch=1,8 hardware=a100-sxm4-80,h100-sxm5 seq=128 metric=throughput").error)
        let table = runner.displays.dropLast().last, chart = runner.displays.last
        XCTAssertEqual(table?[OutputBundle.dataMIME]?["points"]?.arrayValue?.count, 4)
        XCTAssertNotNil(table?["text/html"])
        XCTAssertNotNil(chart?["application/vnd.vegalite.v5+json"])
        XCTAssertNil(chart?["text/html"])
        XCTAssertEqual(runner.run("sweep nosuchdim=1,2").error?.name, "CommandError")     // an unknown key, like an unknown option
        XCTAssertEqual(runner.run("sweep").error?.name, "CommandError")
        // An interrupt raised before the sweep starts stops it with KeyboardInterrupt.
        let flag = CancellationFlag()
        flag.cancel()
        let context = ExecutionContext(executionCount: 1, cancellation: flag) { _ in }
        let outcome = runner.interpreter.execute(ExecuteRequest(code: "sweep batch=1..4096 seq=64,128"), context: context)
        XCTAssertEqual(outcome.error?.name, "KeyboardInterrupt")
    }

    func testHardwareListAndAddWithFieldErrors() throws {
        XCTAssertNil(runner.run("hardware").error)
        let rows = runner.displays.first?[OutputBundle.dataMIME]?["rows"]?.arrayValue ?? []
        XCTAssertGreaterThanOrEqual(rows.count, 30)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gs-hw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.json")
        try Data(#"{"targets": [{"id": "x1", "name": "X1", "class": "npu", "peak_dense": {"fp16": "fast"}, "memory_bandwidth_gbps": -3}]}"#.utf8).write(to: bad)
        let error = runner.run("hardware add \(bad.path)").error
        XCTAssertEqual(error?.name, "ValueError")
        XCTAssertTrue(error?.value.contains("bad.json") ?? false, error?.value ?? "")
    }
}

extension EstimationCommandTests {
    func testCompletionOfHardwareAndAxes() {
        let i = runner.interpreter
        XCTAssertEqual(i.complete(code: "estimate hw=nvidia-h1", cursorPosition: 21).matches,
                       ["nvidia-h100-sxm5-80gb", "nvidia-h100-pcie-80gb", "nvidia-h100-nvl-94gb"])
        let r = i.complete(code: "sweep batch=1,2 hardware=nvidia-a100-sxm4-80gb,amd-mi3", cursorPosition: 55)
        XCTAssertEqual(Set(r.matches), ["amd-mi300x", "amd-mi325x"])
        XCTAssertEqual(r.cursorStart, 47)
        XCTAssertEqual(i.complete(code: "llm llama-2-", cursorPosition: 12).matches, ["llama-2-7b", "llama-2-13b", "llama-2-70b"])
    }
}

extension EstimationCommandTests {
    /// A device with no published bandwidth has an infinite memory roof: the chart and JSON stay finite.
    func testRooflineOnDeviceWithoutBandwidth() {
        XCTAssertNil(runner.run("roofline hw=hailo-8 dtype=int8 batch=1 seq=16").error)
        let b = runner.displays.first
        XCTAssertEqual(b?[OutputBundle.dataMIME]?["bandwidth"], .null)
        let svg = b?["image/svg+xml"]?.stringValue ?? ""
        for bad in ["\"nan\"", "\"inf\"", "\"-inf\"", ",nan", ",inf", "Mnan", "Minf"] { XCTAssertFalse(svg.contains(bad), bad) }
        XCTAssertTrue(b?["text/plain"]?.stringValue?.contains("no published memory bandwidth") ?? false)
    }
}
