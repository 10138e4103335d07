import Foundation
import GraphIR
import XCTest
@testable import GraphFormats

/// .npz archives written here read back; np.savez_compressed archives read; damaged or
/// other-method members are refused with a message naming them;
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

    /// `np.savez_compressed(f, x=np.arange(12, dtype=np.float32).reshape(3, 4), ids=np.array([7, 8, 9]))`
    /// as numpy 2 writes it (deflated members, zip64 local headers).
    static let compressed: [UInt8] = {
        let hex = [
        "504b03042d0000000800000021002d6f2226ffffffffffffffff05001400782e6e707901001000b00000000000000066",
        "000000000000009bec17ea1b10c9c850c650ad9e925a9c5ca46ea5a06e9366a2aea3a09e965f54529498179f5f94920a",
        "12774bcc294e058a17672416a402f91ac63a0a269a3a0ab50a64032e063068b007120e4004c40d40bc00880f00f10320",
        "66706460100062052036700400504b03042d00000008000000210008651b5bffffffffffffffff070014006964732e6e",
        "70790100100098000000000000004d000000000000009bec17ea1b10c9c850c650ad9e925a9c5ca46ea5a06e9369a1ae",
        "a3a09e965f54529498179f5f94920a12774bcc294e058a17672416a402f91ac63a9a3a0ab50a14002e760608e080d29c",
        "501a00504b01022d032d0000000800000021002d6f222666000000b00000000500000000000000000000008001000000",
        "00782e6e7079504b01022d032d00000008000000210008651b5b4d000000980000000700000000000000000000008001",
        "9d0000006964732e6e7079504b0506000000000200020068000000230100000000",
        ].joined()
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            out.append(UInt8(hex[i..<j], radix: 16) ?? 0)
            i = j
        }
        return out
    }()

    func testCompressedArchiveReads() throws {
        let members = try NPZ.members(Self.compressed)
        XCTAssertEqual(members.map(\.name), ["x", "ids"])
        let x = try NPYReader.parse(members[0].npy, name: "x")
        XCTAssertEqual(x.dims, [3, 4])
        XCTAssertEqual(try x.floatValues(), (0..<12).map(Float.init))
        let ids = try NPYReader.parse(members[1].npy, name: "ids")
        XCTAssertEqual(try ids.int64Values(), [7, 8, 9])
    }

    func testDamagedCompressedMemberIsNamed() throws {
        var zip = Self.compressed
        zip[80] ^= 0x5A  // inside x's deflate data
        XCTAssertThrowsError(try NPZ.members(zip, file: "in.npz")) {
            XCTAssertTrue("\($0)".contains("in.npz") && "\($0)".contains("x.npy"), "\($0)")
        }
        var other = try NPZ.archive([NPZ.Member(name: "x", npy: try NPYWriter.bytes(type: .uint8, shape: [1], data: [1]))])
        // Method field of the central directory entry: bzip2 (12), which is not read.
        guard let cd = (0..<(other.count - 4)).first(where: { other[$0] == 0x50 && other[$0 + 1] == 0x4B && other[$0 + 2] == 1 && other[$0 + 3] == 2 }) else {
            return XCTFail("no central directory")
        }
        other[cd + 10] = 12
        XCTAssertThrowsError(try NPZ.members(other)) { XCTAssertTrue("\($0)".contains("method 12"), "\($0)") }
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
