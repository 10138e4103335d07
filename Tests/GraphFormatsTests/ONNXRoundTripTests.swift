import Foundation
import XCTest
@testable import GraphFormats
import GraphIR

final class ONNXRoundTripTests: XCTestCase {
    /// load -> serialize -> load gives an equal model; for files written by onnx itself the
    /// bytes are identical (field order, presence and unknown fields all preserved).
    func assertRoundTrip(_ url: URL, requireIdenticalBytes: Bool, file: StaticString = #filePath, line: UInt = #line) throws {
        let m1 = try ONNXReader.load(url)
        let bytes = try ONNXWriter.serialize(m1)
        let m2 = try ONNXReader.load(bytes: bytes, name: url.lastPathComponent + " (re-read)",
                                     baseDirectory: url.deletingLastPathComponent().path)
        XCTAssertEqual(m1, m2, "model changed in round trip: \(url.lastPathComponent)", file: file, line: line)
        if requireIdenticalBytes {
            let original = try Data(contentsOf: url)
            XCTAssertEqual(original, Data(bytes), "bytes differ: \(url.lastPathComponent)", file: file, line: line)
        }
    }

    func testFixturesRoundTripByteIdentical() throws {
        for name in ["transformer_like.onnx", "control_flow.onnx", "every_dtype.onnx", "sparse_functions.onnx", "unknown_fields.onnx"] {
            try assertRoundTrip(try TestPaths.fixture(name), requireIdenticalBytes: true)
        }
        // External data is inlined by serialize(): equal graph, different bytes.
        try assertRoundTrip(try TestPaths.fixture("external_data.onnx"), requireIdenticalBytes: false)
    }

    func testCorpusModelsRoundTrip() throws {
        let models = TestPaths.corpusModels()
        if models.isEmpty { throw XCTSkip("shared corpus not present") }
        for url in models { try assertRoundTrip(url, requireIdenticalBytes: true) }
    }

    func testONNXBackendNodeTestModelsRoundTrip() throws {
        let models = TestPaths.nodeTestModels()
        if models.isEmpty { throw XCTSkip("onnx backend node tests not found (set ONNX_NODE_TEST_DIR)") }
        var identical = 0
        for url in models {
            let m1 = try ONNXReader.load(url)
            let bytes = try ONNXWriter.serialize(m1)
            let m2 = try ONNXReader.load(bytes: bytes, name: url.path)
            XCTAssertEqual(m1, m2, url.path)
            if (try? Data(contentsOf: url)) == Data(bytes) { identical += 1 }
        }
        // All but a handful are byte-identical; the rest are protobuf-equal (checked in e2e).
        XCTAssertGreaterThan(identical, models.count * 99 / 100, "\(identical) of \(models.count) byte-identical")
    }

    func testSaveWithExternalDataWritesSideFileAndReloads() throws {
        let dir = try TestPaths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let m = try ONNXReader.load(try TestPaths.fixture("transformer_like.onnx"))
        let out = dir.appendingPathComponent("model.onnx")
        try ONNXWriter.save(m, to: out, externalData: true)
        let side = dir.appendingPathComponent("model.onnx.data")
        XCTAssertTrue(FileManager.default.fileExists(atPath: side.path))
        let inlineSize = try ONNXWriter.serialize(m).count
        let mainSize = try Data(contentsOf: out).count
        XCTAssertLessThan(mainSize, inlineSize / 2, "big weights moved out")
        let back = try ONNXReader.load(out)
        XCTAssertEqual(back.graph.nodes, m.graph.nodes)
        for t in m.graph.initializers {
            let u = try XCTUnwrap(back.graph.initializer(named: t.name))
            XCTAssertEqual(try u.packedBytes(), try t.packedBytes(), t.name)
            if (t.byteCount ?? 0) >= 1024 { XCTAssertEqual(u.external?.location, "model.onnx.data") }
        }
        // Saving over the file we loaded from (still mapped) must be safe.
        try ONNXWriter.save(back, to: out, externalData: true)
        let again = try ONNXReader.load(out)
        XCTAssertEqual(again.graph.initializers.map { try? $0.packedBytes() }, m.graph.initializers.map { try? $0.packedBytes() })
    }
}
