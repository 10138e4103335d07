import XCTest
@testable import GraphEstimation

/// Roofline latency, energy, tile quantization, calibration: figures worked out by hand
/// on a synthetic device (100 TFLOP/s fp32, 1 TB/s, 100 W TDP, no launch overhead).
final class RooflineTests: XCTestCase {
    func testComputeAndMemoryBoundNodes() throws {
        let m = try RooflineModel(target: testDevice(), precision: .fp32)
        // 1e12 FLOPs at 0.75·1e14 → 13.33 ms, memory 1e6 B at 0.8 TB/s → 1.25 µs
        let c = m.time(WorkItem(flops: 1e12, bytes: 1e6, opClass: .matmul))
        XCTAssertEqual(c.latency.value, 1e12 / 0.75e14, accuracy: 1e-12)
        XCTAssertEqual(c.bottleneck, .compute)
        XCTAssertEqual(c.latency.confidence, .theoretical)
        XCTAssertLessThan(c.latency.low, c.latency.value); XCTAssertGreaterThan(c.latency.high, c.latency.value)
        // 1e9 B at 0.8·1e12 → 1.25 ms; 1e6 element-wise FLOPs at 0.5·1e14 → 20 ns
        let e = m.time(WorkItem(flops: 1e6, bytes: 1e9, opClass: .elementwise))
        XCTAssertEqual(e.latency.value, 1.25e-3, accuracy: 1e-12)
        XCTAssertEqual(e.bottleneck, .memory)
        // energy: static 30 W; e_op = 0.6·(100-30)/1e14 J = 0.42 pJ; HBM 31 pJ/B
        let expected = 1e12 * 0.42e-12 + 1e6 * 31e-12 + 30 * c.latency.value
        XCTAssertEqual(c.energy.value, expected, accuracy: 1e-9)
        XCTAssertFalse(c.powerCapped)
        // metadata costs nothing
        XCTAssertEqual(m.time(WorkItem(flops: 0, bytes: 0, opClass: .metadata)).latency.value, 0)
    }

    func testPowerIsCappedAtTDP() throws {
        let m = try RooflineModel(target: testDevice(pjPerFLOP: 10), precision: .fp32)
        let t = m.time(WorkItem(flops: 1e12, bytes: 0, opClass: .matmul))
        // dynamic 10 J over 13.3 ms would be 750 W; stretched so static + dynamic = 100 W
        XCTAssertTrue(t.powerCapped)
        XCTAssertEqual(t.latency.value, 10 / 70, accuracy: 1e-12)
        XCTAssertEqual(t.energy.value / t.latency.value, 100, accuracy: 1e-9)
        XCTAssertEqual(t.energy.confidence, .theoretical)
    }

    func testGemmTileAndWaveQuantizationOnGPUs() throws {
        let m = try RooflineModel(target: testDevice(deviceClass: "datacenter_gpu", units: 10), precision: .fp32)
        let g = GemmShape(batch: 1, m: 129, n: 128, k: 4096)
        // padding 129·128/(256·128); 2 tiles on 10 units → 0.2; K ramp 4096/4128
        let expected = (129.0 * 128 / (256 * 128)) * 0.2 * (4096.0 / 4128)
        XCTAssertEqual(m.gemmEfficiency(g), expected, accuracy: 1e-12)
        let cpu = try RooflineModel(target: testDevice(), precision: .fp32)
        XCTAssertEqual(cpu.gemmEfficiency(g), 1)
        let flops = 2.0 * 129 * 128 * 4096
        let t = m.time(WorkItem(flops: flops, bytes: 0, opClass: .matmul, gemm: g))
        XCTAssertEqual(t.computeTime, flops / (0.75 * expected * 100e12), accuracy: 1e-15)
    }

    func testUnsupportedPrecisionAndRoofs() throws {
        XCTAssertThrowsError(try RooflineModel(target: testDevice(), precision: .int8)) { e in
            XCTAssertTrue(String(describing: e).contains("int8"))
        }
        let roofs = try RooflineModel(target: testDevice(), precision: .fp16).roofs()
        XCTAssertEqual(roofs.matrixPeakFLOPS, 0.75 * 200e12)
        XCTAssertEqual(roofs.ridgeIntensity, 0.75 * 200e12 / (0.8e12), accuracy: 1e-9)
        XCTAssertEqual(roofs.attainable(intensity: 1), 0.8e12)
        XCTAssertEqual(roofs.polyline().count, 3)
    }

    func testCalibrationFitAndConfidence() throws {
        let cal = Calibration.fit(hardwareID: "test-device", samples: [
            .init(opClass: .matmul, predicted: 1, measured: 2), .init(opClass: .matmul, predicted: 2, measured: 4),
        ])
        XCTAssertEqual(cal.factors[.matmul] ?? 0, 2, accuracy: 1e-12)
        let m = try RooflineModel(target: testDevice(), precision: .fp32, calibration: cal)
        let base = try RooflineModel(target: testDevice(), precision: .fp32)
        let w = WorkItem(flops: 1e12, bytes: 0, opClass: .matmul)
        XCTAssertEqual(m.time(w).latency.value, 2 * base.time(w).latency.value, accuracy: 1e-12)
        XCTAssertEqual(m.time(w).latency.confidence, .calibrated)
        XCTAssertEqual(m.time(WorkItem(flops: 1e9, bytes: 1e9, opClass: .elementwise)).latency.confidence, .interpolated)
    }

    func testGraphEstimateOnHardware() throws {
        var b = GraphBuilder()
        b.input("a", [2048, 1024]); b.weight("w", [1024, 1024])
        b.node("MatMul", ["a", "w"], ["y"], path: ["mlp"])
        b.node("Relu", ["y"], ["r"], path: ["mlp"])
        var o = EstimateOptions(hardware: testDevice()); o.precision = .fp32
        let est = try GraphEstimator.estimate(b.g, options: o)
        let mm = 2.0 * 2048 * 1024 * 1024   // intensity ≈ 205 FLOP/B > ridge 93.75: compute-bound
        XCTAssertEqual(est.nodes[0].latency?.value ?? 0, mm / 0.75e14, accuracy: 1e-12)
        XCTAssertEqual(est.nodes[0].bottleneck, .compute)
        // Relu: 8 MiB in + 8 MiB out at fp32 over 0.8 TB/s (the device has no on-chip memory listed)
        XCTAssertEqual(est.nodes[1].latency?.value ?? 0, 2 * 2048 * 1024 * 4 / 0.8e12, accuracy: 1e-12)
        XCTAssertEqual(est.totals.latencySeconds?.value ?? 0, est.nodes.reduce(0) { $0 + ($1.latency?.value ?? 0) }, accuracy: 1e-15)
        XCTAssertEqual(est.totals.dependencyCriticalPathSeconds ?? 0, est.totals.latencySeconds?.value ?? 0, accuracy: 1e-15)
        XCTAssertEqual(est.topK.first?.opType, "MatMul")
        XCTAssertEqual(est.rooflinePoints.count, 2)
        XCTAssertEqual(est.rooflinePoints[1].bottleneck, .memory)
        XCTAssertEqual(est.confidence, .theoretical)
        XCTAssertEqual(est.namespaces.first?.latencySeconds ?? 0, est.totals.latencySeconds?.value ?? 0, accuracy: 1e-15)
    }
}

final class FusionTests: XCTestCase {
    func testEpilogueFusionRemovesIntermediateTraffic() throws {
        var b = GraphBuilder()
        b.input("a", [64, 128]); b.weight("w", [128, 256]); b.weight("bias", [256])
        b.node("MatMul", ["a", "w"], ["h"])
        b.node("Add", ["h", "bias"], ["hb"])
        b.node("Relu", ["hb"], ["y"])
        b.node("Relu", ["h"], ["z"])          // h has two consumers: it must be written
        b.output("y"); b.output("z")
        let plain = try CostAnalysis(graph: b.g).costs
        let fused = try CostAnalysis(graph: b.g, options: CostOptions(fuseElementwise: true)).costs
        let hb = 64.0 * 256 * 4
        // h is read twice → stays; hb (Add → Relu, single use) never reaches memory
        XCTAssertEqual(fused[0].bytes, plain[0].bytes)
        XCTAssertEqual(fused[1].bytesWritten, plain[1].bytesWritten - hb)
        XCTAssertEqual(fused[2].bytesReadActivations, plain[2].bytesReadActivations - hb)
        XCTAssertEqual(fused[2].bytesWritten, plain[2].bytesWritten)                 // graph output
        XCTAssertEqual(fused[3].bytes, plain[3].bytes)
        XCTAssertEqual(fused[2].bytes(at: .fp16), plain[2].bytes(at: .fp16) - hb / 2)
    }
}
