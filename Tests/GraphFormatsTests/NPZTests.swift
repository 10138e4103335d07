import Foundation
import GraphIR
import XCTest
@testable import GraphFormats

/// .npz archives written here read back; compressed members are refused with a message;
/// onnxruntime profiles parse into per-node means.
final class NPZTests: XCTestCase {
    func testArchiveRoundTrip() throws {
        let floats: [Float] = [1, 2, 3, 4, 5, 6]
        let a = try NPYWriter.bytes(type: .float, shape: [2, 3], data: floats.withUnsafeBytes { Array($0) })
        let b = try NPYWriter.bytes(type: .int64, shape: [], data: withUnsafeBytes(of: Int64(7)) { Array($0) })
        let zip = try NPZ.archive([NPZ.Member(name: "x", npy: a), NPZ.Member(name: "dir/y", npy: b)])
        let members = try NPZ.members(zip)
        XCTAssertEqual(members.map(\.name), ["x", "dir/y"])
        let x = try NPYReader.parse(members[0].npy, name: "x")
        XCTAssertEqual(x.dims, [2, 3])
        XCTAssertEqual(try x.floatValues(), floats)
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
    }

    func testCompressedMemberIsRefused() throws {
        var zip = try NPZ.archive([NPZ.Member(name: "x", npy: try NPYWriter.bytes(type: .uint8, shape: [1], data: [1]))])
        // Method field of the central directory entry: deflate (8).
        guard let cd = (0..<(zip.count - 4)).first(where: { zip[$0] == 0x50 && zip[$0 + 1] == 0x4B && zip[$0 + 2] == 1 && zip[$0 + 3] == 2 }) else {
            return XCTFail("no central directory")
        }
        zip[cd + 10] = 8
        XCTAssertThrowsError(try NPZ.members(zip)) { XCTAssertTrue("\($0)".contains("savez_compressed"), "\($0)") }
        XCTAssertThrowsError(try NPZ.members([1, 2, 3]))
    }

    func testORTProfileMeans() throws {
        let json = """
        [{"cat":"Session","name":"model_run","dur":9},
         {"cat":"Node","name":"conv1_kernel_time","dur":10,"args":{"op_name":"Conv","node_index":"0"}},
         {"cat":"Node","name":"conv1_kernel_time","dur":30,"args":{"op_name":"Conv","node_index":"0"}},
         {"cat":"Node","name":"conv1_fence_before","dur":1,"args":{}}]
        """
        let times = try ORTProfile.parse(Data(json.utf8))
        XCTAssertEqual(times, [ORTNodeTime(name: "conv1", opType: "Conv", nodeIndex: 0, meanMicroseconds: 20, runs: 2)])
        XCTAssertThrowsError(try ORTProfile.parse(Data("{}".utf8)))
        let g = Graph(nodes: [Node(opType: "Conv", name: "conv1", inputs: ["x", "w"], outputs: ["y"])],
                      inputs: [ValueInfo(name: "x"), ValueInfo(name: "w")], outputs: [ValueInfo(name: "y")])
        let m = ORTProfile.match(times, to: g)
        XCTAssertEqual(m.byName, 1)
        XCTAssertEqual(m.values[g.nodes[0].id], 20)
    }
}
