import XCTest
@testable import GraphIR

final class ElementTypeTests: XCTestCase {
    func testEveryONNXDataTypeHasWidthAndName() {
        XCTAssertEqual(ElementType.allCases.count, 27)
        XCTAssertEqual(ElementType(rawValue: 16), .bfloat16)
        XCTAssertEqual(ElementType(rawValue: 26), .int2)
        XCTAssertEqual(ElementType.float8e8m0.bitWidth, 8)
        XCTAssertEqual(ElementType.int4.bitWidth, 4)
        XCTAssertEqual(ElementType.uint2.bitWidth, 2)
        XCTAssertEqual(ElementType.complex128.bitWidth, 128)
        XCTAssertNil(ElementType.string.bitWidth)
        XCTAssertEqual(ElementType.float4e2m1.name, "float4e2m1")
        XCTAssertEqual(ElementType(name: "bf16"), .bfloat16)
        XCTAssertEqual(ElementType(name: "FLOAT16"), .float16)
        XCTAssertNil(ElementType(name: "nonsense"))
        XCTAssertEqual(Set(ElementType.allCases.map(\.name)).count, 27)
    }

    func testSubByteSizesRoundUp() {
        XCTAssertEqual(ElementType.int4.byteCount(forElements: 3), 2)
        XCTAssertEqual(ElementType.int2.byteCount(forElements: 5), 2)
        XCTAssertEqual(ElementType.float.byteCount(forElements: 10), 40)
        XCTAssertNil(ElementType.float.byteCount(forElements: Int.max))
    }

    func testDecodeHalfBfloatAndFloat8() throws {
        // float16: 1.0 = 0x3C00, -2.0 = 0xC000, smallest subnormal 0x0001, inf 0x7C00
        let h = Tensor(elementType: .float16, dims: [4], data: .raw(ByteSlice(copying: [0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00, 0x00, 0x7C])))
        let hv = try h.doubleValues()
        XCTAssertEqual(hv[0], 1); XCTAssertEqual(hv[1], -2)
        XCTAssertEqual(hv[2], 5.960464477539063e-08)
        XCTAssertEqual(hv[3], .infinity)
        // bfloat16 1.5 = 0x3FC0
        let b = Tensor(elementType: .bfloat16, dims: [1], data: .raw(ByteSlice(copying: [0xC0, 0x3F])))
        XCTAssertEqual(try b.floatValues(), [1.5])
        // e4m3fn: 0x38 = 1.0, 0x7E = 448, 0x7F = NaN; e5m2: 0x3C = 1.0, 0x7C = inf
        let e4 = Tensor(elementType: .float8e4m3fn, dims: [3], data: .raw(ByteSlice(copying: [0x38, 0x7E, 0x7F])))
        let e4v = try e4.doubleValues()
        XCTAssertEqual(e4v[0], 1); XCTAssertEqual(e4v[1], 448); XCTAssertTrue(e4v[2].isNaN)
        let e5 = Tensor(elementType: .float8e5m2, dims: [2], data: .raw(ByteSlice(copying: [0x3C, 0x7C])))
        XCTAssertEqual(try e5.doubleValues(), [1, .infinity])
        // fnuz: 0x80 is NaN, bias 8 => 0x40 = 1.0
        let uz = Tensor(elementType: .float8e4m3fnuz, dims: [2], data: .raw(ByteSlice(copying: [0x40, 0x80])))
        let uzv = try uz.doubleValues()
        XCTAssertEqual(uzv[0], 1); XCTAssertTrue(uzv[1].isNaN)
        let e8 = Tensor(elementType: .float8e8m0, dims: [2], data: .raw(ByteSlice(copying: [127, 130])))
        XCTAssertEqual(try e8.doubleValues(), [1, 8])
    }

    func testDecodePackedIntsAndFloat4() throws {
        // int4 [1, -1, 7] packed low nibble first: 0xF1, 0x07
        let i4 = Tensor(elementType: .int4, dims: [3], data: .raw(ByteSlice(copying: [0xF1, 0x07])))
        XCTAssertEqual(try i4.int64Values(), [1, -1, 7])
        let u2 = Tensor(elementType: .uint2, dims: [4], data: .raw(ByteSlice(copying: [0b11_10_01_00])))
        XCTAssertEqual(try u2.int64Values(), [0, 1, 2, 3])
        let i2 = Tensor(elementType: .int2, dims: [2], data: .raw(ByteSlice(copying: [0b0000_11_10])))
        XCTAssertEqual(try i2.int64Values(), [-2, -1])
        let f4 = Tensor(elementType: .float4e2m1, dims: [2], data: .raw(ByteSlice(copying: [0xF7])))
        XCTAssertEqual(try f4.doubleValues(), [6, -6])
    }

    func testWrongSizedDataIsAnErrorNotACrash() {
        let t = Tensor(name: "w", elementType: .float, dims: [4], data: .raw(ByteSlice(copying: [1, 2, 3])))
        XCTAssertThrowsError(try t.floatValues()) { e in
            XCTAssertTrue("\(e)".contains("'w'"))
        }
        XCTAssertEqual(t.byteCount, 16)
        let none = Tensor(name: "gone", elementType: .float, dims: [1], data: .none)
        XCTAssertThrowsError(try none.packedBytes())
    }
}
