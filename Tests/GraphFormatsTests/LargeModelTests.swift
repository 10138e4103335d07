import Foundation
import XCTest
@testable import GraphFormats
import GraphIR

/// Models over 2 GB: external data past the 2 GB / 4 GB marks is mapped, not read, and an
/// inline save that would exceed the protobuf limit is refused with a clear error. Uses a
/// sparse file, so the test costs no disk space or time.
final class LargeModelTests: XCTestCase {
    func testExternalDataBeyondTwoGigabytes() throws {
        let dir = try TestPaths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataPath = dir.appendingPathComponent("weights.bin").path
        let fd = open(dataPath, O_RDWR | O_CREAT | O_TRUNC, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let big: Int64 = 5 << 30  // 5 GiB, sparse
        XCTAssertEqual(ftruncate(fd, off_t(big)), 0)
        var marker: [UInt8] = [0, 0, 0x80, 0x3F]  // 1.0f
        XCTAssertEqual(pwrite(fd, &marker, 4, off_t(big - 4096)), 4)
        close(fd)

        func tensor(_ name: String, elements: Int64, offset: Int64) -> ProtoBuffer {
            var t = ProtoBuffer()
            t.int64Field(1, elements)
            t.varintField(2, 1)
            t.stringField(8, name)
            for (k, v) in [("location", "weights.bin"), ("offset", String(offset)), ("length", String(elements * 4))] {
                var e = ProtoBuffer()
                e.stringField(1, k)
                e.stringField(2, v)
                t.messageField(13, e)
            }
            t.varintField(14, 1)
            return t
        }
        var graph = ProtoBuffer()
        graph.messageField(5, tensor("huge", elements: 700_000_000, offset: 0))           // 2.8 GB tensor
        graph.messageField(5, tensor("far", elements: 1024, offset: big - 4096))          // past 4 GB
        var model = ProtoBuffer()
        model.int64Field(1, 9)
        model.messageField(7, graph)
        let url = dir.appendingPathComponent("big.onnx")
        try Data(model.bytes).write(to: url)

        let m = try ONNXReader.load(url)
        let huge = try XCTUnwrap(m.graph.initializer(named: "huge"))
        XCTAssertEqual(huge.byteCount, 2_800_000_000)
        XCTAssertTrue(huge.isFileBacked)
        let far = try XCTUnwrap(m.graph.initializer(named: "far"))
        XCTAssertEqual(try far.floatValues().first, 1.0)
        XCTAssertEqual(m.graph.summary().parameterBytes, 2_800_000_000 + 4096)
        // Inline serialization would exceed 2 GB: refused, nothing crashes.
        XCTAssertThrowsError(try ONNXWriter.serialize(m)) { XCTAssertTrue("\($0)".contains("2 GB"), "\($0)") }
    }
}
