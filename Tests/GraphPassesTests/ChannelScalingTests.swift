import XCTest
import GraphIR
@testable import GraphPasses

/// The per-output-channel weight scaling behind fuse-conv-bn and fuse-conv-affine: each
/// channel's elements times its own factor, read from bytes at any offset (a mapped file puts
/// raw_data anywhere), and refused for anything but float32 with one factor per channel.
final class ChannelScalingTests: XCTestCase {
    func testScalesEachOutputChannelByItsFactor() throws {
        let w = Tensor(floats: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], dims: [3, 2, 2, 1])
        let scaled = try XCTUnwrap(ChannelScaling.scaled(w, by: [2, -1, 0.5]))
        XCTAssertEqual(scaled.dims, [3, 2, 2, 1])
        XCTAssertEqual(scaled.elementType, .float)
        XCTAssertEqual(try scaled.floatValues(), [2, 4, 6, 8, -5, -6, -7, -8, 4.5, 5, 5.5, 6])
    }

    func testReadsWeightsAtAnUnalignedOffset() throws {
        // Three bytes of padding, then 4 little-endian floats: the slice starts off alignment.
        let values: [Float] = [1.5, -2, 3.25, 8]
        var bytes: [UInt8] = [0xAA, 0xBB, 0xCC]
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        let slice = ByteSlice(storage: ByteStorage(copying: bytes), offset: 3, count: 16)
        let w = Tensor(name: "w", elementType: .float, dims: [2, 2, 1, 1], data: .raw(slice))
        let scaled = try XCTUnwrap(ChannelScaling.scaled(w, by: [2, 0.25]))
        XCTAssertEqual(try scaled.floatValues(), [3, -4, 0.8125, 2])
    }

    func testRefusesOtherTypesAndChannelCounts() {
        XCTAssertNil(ChannelScaling.scaled(Tensor(floats: [1, 2, 3, 4], dims: [2, 2, 1, 1]), by: [1, 2, 3]))
        XCTAssertNil(ChannelScaling.scaled(Tensor(int64s: [1, 2], dims: [2, 1, 1]), by: [1, 2]))
        // Fewer bytes than the shape needs.
        let short = Tensor(name: "w", elementType: .float, dims: [2, 2, 1, 1], data: .raw(ByteSlice(copying: [0, 0, 0, 0])))
        XCTAssertNil(ChannelScaling.scaled(short, by: [1, 1]))
    }

    func testTheCacheSharesAScalingOfTheSameBytesOnly() throws {
        var cache = ChannelScaling.Cache()
        let w = Tensor(floats: [1, 2, 3, 4], dims: [2, 2, 1, 1])
        let same = w  // the same buffer under another name
        let copy = Tensor(floats: [1, 2, 3, 4], dims: [2, 2, 1, 1])  // equal bytes, another buffer
        let a = try XCTUnwrap(ChannelScaling.scaled(w, by: [2, 3], cache: &cache))
        let b = try XCTUnwrap(ChannelScaling.scaled(same, by: [2, 3], cache: &cache))
        let c = try XCTUnwrap(ChannelScaling.scaled(w, by: [2, 4], cache: &cache))
        let d = try XCTUnwrap(ChannelScaling.scaled(copy, by: [2, 3], cache: &cache))
        func address(_ t: Tensor) throws -> Int { try t.withUnsafeBytes { Int(bitPattern: $0.baseAddress) } }
        XCTAssertEqual(try address(a), try address(b))
        XCTAssertNotEqual(try address(a), try address(c))
        XCTAssertNotEqual(try address(a), try address(d))
        XCTAssertEqual(try b.floatValues(), [2, 4, 9, 12])
        XCTAssertEqual(try c.floatValues(), [2, 4, 12, 16])
        XCTAssertEqual(try d.floatValues(), [2, 4, 9, 12])
    }
}
