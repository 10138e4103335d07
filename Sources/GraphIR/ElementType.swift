/// Element types of tensors, numbered exactly as ONNX `TensorProto.DataType` so formats can
/// map them without a table, with the bit width and a stable display name each consumer
/// (rendering, estimation, summaries) needs.

/// The scalar type of a tensor's elements.
///
/// Raw values are the ONNX `TensorProto.DataType` numbers; a file carrying a number this enum
/// does not know keeps it via `ValueType.tensor(.undefined, ...)` at the reader's discretion.
/// Cases are named after the ONNX enum (`float8e4m3fn` = `FLOAT8E4M3FN`); see `name`,
/// `bitWidth` and `shortName` for their properties.
public enum ElementType: Int32, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    /// No type set (an error in a tensor, "unknown" in a type).
    case undefined = 0
    case float = 1
    case uint8 = 2
    case int8 = 3
    case uint16 = 4
    case int16 = 5
    case int32 = 6
    case int64 = 7
    case string = 8
    case bool = 9
    case float16 = 10
    case double = 11
    case uint32 = 12
    case uint64 = 13
    case complex64 = 14
    case complex128 = 15
    case bfloat16 = 16
    case float8e4m3fn = 17
    case float8e4m3fnuz = 18
    case float8e5m2 = 19
    case float8e5m2fnuz = 20
    case uint4 = 21
    case int4 = 22
    case float4e2m1 = 23
    case float8e8m0 = 24
    case uint2 = 25
    case int2 = 26

    /// Bits one element occupies in packed storage (ONNX raw_data layout); `nil` for `string`
    /// and `undefined`, whose size is not a function of the element count.
    public var bitWidth: Int? {
        switch self {
        case .undefined, .string: return nil
        case .bool, .uint8, .int8, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float8e8m0:
            return 8
        case .uint16, .int16, .float16, .bfloat16: return 16
        case .float, .int32, .uint32: return 32
        case .double, .int64, .uint64, .complex64: return 64
        case .complex128: return 128
        case .uint4, .int4, .float4e2m1: return 4
        case .uint2, .int2: return 2
        }
    }

    /// The ONNX spelling used in type strings such as `tensor(float16)`.
    public var name: String {
        switch self {
        case .undefined: return "undefined"
        case .float: return "float"
        case .uint8: return "uint8"
        case .int8: return "int8"
        case .uint16: return "uint16"
        case .int16: return "int16"
        case .int32: return "int32"
        case .int64: return "int64"
        case .string: return "string"
        case .bool: return "bool"
        case .float16: return "float16"
        case .double: return "double"
        case .uint32: return "uint32"
        case .uint64: return "uint64"
        case .complex64: return "complex64"
        case .complex128: return "complex128"
        case .bfloat16: return "bfloat16"
        case .float8e4m3fn: return "float8e4m3fn"
        case .float8e4m3fnuz: return "float8e4m3fnuz"
        case .float8e5m2: return "float8e5m2"
        case .float8e5m2fnuz: return "float8e5m2fnuz"
        case .uint4: return "uint4"
        case .int4: return "int4"
        case .float4e2m1: return "float4e2m1"
        case .float8e8m0: return "float8e8m0"
        case .uint2: return "uint2"
        case .int2: return "int2"
        }
    }

    /// A short name for compact labels (`f32`, `bf16`, `i64`, `f8e4m3fn`, ...).
    public var shortName: String {
        switch self {
        case .float: return "f32"
        case .double: return "f64"
        case .float16: return "f16"
        case .bfloat16: return "bf16"
        case .int8: return "i8"
        case .int16: return "i16"
        case .int32: return "i32"
        case .int64: return "i64"
        case .uint8: return "u8"
        case .uint16: return "u16"
        case .uint32: return "u32"
        case .uint64: return "u64"
        case .int4: return "i4"
        case .uint4: return "u4"
        case .int2: return "i2"
        case .uint2: return "u2"
        case .complex64: return "c64"
        case .complex128: return "c128"
        case .float8e4m3fn: return "f8e4m3fn"
        case .float8e4m3fnuz: return "f8e4m3fnuz"
        case .float8e5m2: return "f8e5m2"
        case .float8e5m2fnuz: return "f8e5m2fnuz"
        case .float8e8m0: return "f8e8m0"
        case .float4e2m1: return "f4e2m1"
        default: return name
        }
    }

    /// Looks a type up by `name` or `shortName` (e.g. for a user-chosen precision).
    public init?(name: String) {
        let lower = name.lowercased()
        guard let match = ElementType.allCases.first(where: { $0.name == lower || $0.shortName == lower })
        else { return nil }
        self = match
    }

    /// True for every floating-point kind (including float8/float4 and complex), i.e. the
    /// types whose initializers count as model parameters.
    public var isFloatingPoint: Bool {
        switch self {
        case .float, .double, .float16, .bfloat16, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2,
             .float8e5m2fnuz, .float8e8m0, .float4e2m1, .complex64, .complex128:
            return true
        default: return false
        }
    }

    /// True for signed and unsigned integers of any width (not bool).
    public var isInteger: Bool {
        switch self {
        case .uint8, .int8, .uint16, .int16, .int32, .int64, .uint32, .uint64, .uint4, .int4, .uint2, .int2:
            return true
        default: return false
        }
    }

    /// Bytes needed to store `elementCount` packed elements (sub-byte types round up);
    /// `nil` when the size is not fixed (strings).
    public func byteCount(forElements elementCount: Int) -> Int? {
        guard let bits = bitWidth else { return nil }
        let (product, overflow) = elementCount.multipliedReportingOverflow(by: bits)
        if overflow { return nil }
        return (product + 7) / 8
    }

    public var description: String { name }
}
