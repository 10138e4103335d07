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

/// Saving large external tensors (streamed from the mapped file by path) stays correct when
/// the source file is replaced by a later save of the same path.
final class ONNXExternalSaveTests: XCTestCase {
    func testOldVersionStillSavesCorrectlyAfterItsFileWasReplaced() throws {
        let dir = try TestPaths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let n = 600_000  // 2.4 MB: above the 1 MB streaming threshold
        let weights = (0..<n).map { Float($0 % 977) * 0.5 }
        var g = Graph(name: "g", inputs: [ValueInfo(name: "x", type: .tensor(.float, TensorShape(static: [1, Int64(n)])))],
                      outputs: [ValueInfo(name: "y")], initializers: [Tensor(name: "w", floats: weights, dims: [1, Int64(n)])])
        try g.addNode(Node(opType: "Add", inputs: ["x", "w"], outputs: ["y"]))
        let url = dir.appendingPathComponent("m.onnx")
        try ONNXWriter.save(Model(graph: g, opsetImports: [OpsetImport(version: 17)]), to: url, externalData: true)
        let v1 = try ONNXReader.load(url)                          // maps m.onnx.data (inode A)
        var v2 = v1
        // New layout: "pad" first, then "w" at a different offset.
        let w = try XCTUnwrap(v1.graph.initializer(named: "w"))
        try v2.graph.removeInitializer(named: "w", allowDangling: true)
        try v2.graph.setInitializer(Tensor(name: "pad", floats: [Float](repeating: 1, count: 300_000), dims: [300_000]))
        try v2.graph.setInitializer(w)
        try ONNXWriter.save(v2, to: url, externalData: true)       // m.onnx.data is now inode B, new layout
        let out = dir.appendingPathComponent("v1-again.onnx")
        try ONNXWriter.save(v1, to: out, externalData: true)       // must read inode A's bytes
        XCTAssertTrue(try ONNXReader.load(out).graph.initializer(named: "w")?.floatValues() == weights, "old version saved wrong bytes")
        let inline = dir.appendingPathComponent("v1-inline.onnx")
        try ONNXWriter.save(v1, to: inline)
        XCTAssertTrue(try ONNXReader.load(inline).graph.initializer(named: "w")?.floatValues() == weights, "inline save")
        XCTAssertTrue(try ONNXReader.load(url).graph.initializer(named: "w")?.floatValues() == weights, "new layout")
    }
}
