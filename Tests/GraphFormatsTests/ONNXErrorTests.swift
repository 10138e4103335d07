import Foundation
import XCTest
@testable import GraphFormats
import GraphIR

/// Bad input must produce an `ONNXError` naming the file, the field path and the byte offset.
final class ONNXErrorTests: XCTestCase {
    func load(_ bytes: [UInt8]) -> ONNXError? {
        do {
            _ = try ONNXReader.load(bytes: bytes, name: "bad.onnx")
            return nil
        } catch let e as ONNXError {
            return e
        } catch {
            XCTFail("unexpected error type \(error)")
            return nil
        }
    }

    func good() throws -> [UInt8] { [UInt8](try Data(contentsOf: try TestPaths.fixture("control_flow.onnx"))) }

    func testTruncatedFileEveryLength() throws {
        let bytes = try good()
        var failures = 0
        for n in 0..<bytes.count {
            if let e = load(Array(bytes.prefix(n))) {
                failures += 1
                XCTAssertEqual(e.file, "bad.onnx")
                XCTAssertNotNil(e.offset)
                XCTAssertLessThanOrEqual(e.offset ?? 0, n)
            }
        }
        XCTAssertGreaterThan(failures, bytes.count * 9 / 10)
    }

    func testLengthPastEndNamesFieldPath() throws {
        // Model with a graph whose first node claims a length beyond the buffer.
        var node = ProtoBuffer()
        node.stringField(4, "Relu")
        var graph = ProtoBuffer()
        graph.tag(1, 2)
        graph.varint(1000)  // node length lies
        graph.append(node.bytes)
        var model = ProtoBuffer()
        model.int64Field(1, 8)
        model.messageField(7, graph)
        let e = try XCTUnwrap(load(model.bytes))
        XCTAssertTrue(e.message.contains("past the end"), e.description)
        XCTAssertEqual(e.fieldPath, "ModelProto.graph.node[0]")
        XCTAssertEqual(e.offset, 5)  // the node's length prefix: 2 bytes ir_version, 2 bytes graph header, 1 tag
    }

    func testWrongWireTypeNamesNodeAndAttribute() throws {
        var attr = ProtoBuffer()
        attr.stringField(1, "axis")
        attr.fixed32Field(3, 7)  // `i` must be a varint
        var node = ProtoBuffer()
        node.stringField(4, "Softmax")
        node.messageField(5, attr)
        var graph = ProtoBuffer()
        graph.messageField(1, ProtoBuffer())
        graph.messageField(1, node)
        var model = ProtoBuffer()
        model.int64Field(1, 8)
        model.messageField(7, graph)
        let e = try XCTUnwrap(load(model.bytes))
        XCTAssertEqual(e.fieldPath, "ModelProto.graph.node[1].attribute[0]")
        XCTAssertTrue(e.message.contains("'i'"), e.description)
        XCTAssertTrue(e.description.hasPrefix("bad.onnx: ModelProto.graph.node[1].attribute[0] at byte "), e.description)
    }

    func testRawDataSizeMismatchNamesTensor() throws {
        var t = ProtoBuffer()
        t.int64Field(1, 4)
        t.varintField(2, 1)
        t.stringField(8, "w")
        t.bytesField(9, [1, 2, 3])
        var graph = ProtoBuffer()
        graph.messageField(5, t)
        var model = ProtoBuffer()
        model.int64Field(1, 8)
        model.messageField(7, graph)
        let e = try XCTUnwrap(load(model.bytes))
        XCTAssertEqual(e.fieldPath, "ModelProto.graph.initializer[0].raw_data")
        XCTAssertTrue(e.message.contains("needs 16"), e.description)
    }

    func testUnsupportedIRVersion() throws {
        var model = ProtoBuffer()
        model.int64Field(1, 99)
        let e = try XCTUnwrap(load(model.bytes))
        XCTAssertEqual(e.fieldPath, "ModelProto.ir_version")
        XCTAssertEqual(e.offset, 0)
        XCTAssertTrue(e.message.contains("unsupported IR version 99"))
        XCTAssertNotNil(load([]))
    }

    func testMissingExternalDataFile() throws {
        let dir = try TestPaths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = try TestPaths.fixture("external_data.onnx")
        let dst = dir.appendingPathComponent("m.onnx")
        try FileManager.default.copyItem(at: src, to: dst)
        do {
            _ = try ONNXReader.load(dst)
            XCTFail("should fail")
        } catch let e as ONNXError {
            XCTAssertEqual(e.file, dst.path)
            XCTAssertTrue(e.fieldPath.hasPrefix("ModelProto.graph.initializer[0].external_data"), e.fieldPath)
            XCTAssertTrue(e.message.contains("external_data.onnx.data"), e.message)
            XCTAssertNotNil(e.offset)
        }
        // A truncated side file is also an error, not a crash.
        let data = try Data(contentsOf: try TestPaths.fixture("external_data.onnx.data"))
        try data.prefix(100).write(to: dir.appendingPathComponent("external_data.onnx.data"))
        XCTAssertThrowsError(try ONNXReader.load(dst)) { XCTAssertTrue("\($0)".contains("past the end"), "\($0)") }
    }

    func testNonexistentFile() {
        XCTAssertThrowsError(try ONNXReader.load(path: "/nonexistent/model.onnx")) { e in
            XCTAssertTrue("\(e)".contains("/nonexistent/model.onnx"))
        }
    }
}
