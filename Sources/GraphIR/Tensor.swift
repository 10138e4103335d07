/// Tensors with lazily materialized data: weights stay a view into the mapped model (or
/// external data) file, and bytes are decoded only when a caller asks for them. Also the
/// element decoders for every element type (float16, bfloat16, float8, int4, ...).
import Foundation

/// Errors when reading a tensor's contents.
public struct TensorDataError: Error, CustomStringConvertible, Sendable {
    /// The tensor's name.
    public var tensor: String
    /// What is wrong.
    public var reason: String
    /// Creates an error.
    public init(tensor: String, reason: String) {
        self.tensor = tensor
        self.reason = reason
    }
    public var description: String { "tensor '\(tensor)': \(reason)" }
}

/// Produces a tensor's packed little-endian bytes on demand, for data a format stores in some
/// other encoding (e.g. ONNX's typed repeated fields). Formats implement it; a writer of the
/// same format may downcast to re-emit the original encoding.
public protocol LazyTensorBytes: Sendable {
    /// Decodes the data into packed little-endian element bytes (ONNX raw_data layout).
    func packedBytes(elementType: ElementType, elementCount: Int) throws -> [UInt8]
}

/// Where a tensor's data lives.
public enum TensorData: Sendable {
    /// Packed little-endian element bytes (ONNX raw_data layout), usually a view into a
    /// mapped file.
    case raw(ByteSlice)
    /// Data in another encoding, decoded when asked.
    case lazy(any LazyTensorBytes)
    /// String elements (for `ElementType.string`).
    case strings([[UInt8]])
    /// No data at all (e.g. an external file that was not found; reading it fails).
    case none
}

/// Where an external tensor's bytes sit on disk, kept so writers can preserve or rewrite the
/// layout (ONNX `external_data` entries).
public struct ExternalDataInfo: Hashable, Sendable {
    /// File name relative to the model's folder.
    public var location: String
    /// Byte offset in that file.
    public var offset: Int64
    /// Byte length (nil: to the end / implied by the shape).
    public var length: Int64?
    /// Any other entries (`checksum`, ...), in order.
    public var otherEntries: [MetadataEntry]
    /// Creates a record.
    public init(location: String, offset: Int64 = 0, length: Int64? = nil, otherEntries: [MetadataEntry] = []) {
        self.location = location
        self.offset = offset
        self.length = length
        self.otherEntries = otherEntries
    }
}

/// A named, typed, shaped constant (initializer, Constant value, tensor attribute).
public struct Tensor: Sendable {
    /// The tensor's name (may be empty for attribute tensors).
    public var name: String
    /// Element type.
    public var elementType: ElementType
    /// Shape (always static for stored tensors).
    public var dims: [Int64]
    /// The data, lazily materialized.
    public var data: TensorData
    /// Set when the data came from (or should go to) an external file.
    public var external: ExternalDataInfo?
    /// ONNX `TensorProto.segment` as (begin, end), kept for round-trips.
    public var segment: (begin: Int64, end: Int64)?
    /// Documentation string.
    public var docString: String
    /// Metadata entries.
    public var metadataProps: MetadataProps
    /// Fields the reader did not model.
    public var unknownFields: UnknownFields

    /// Number of elements (product of dims; 1 for a scalar), `nil` on negative dims or overflow.
    public var elementCount: Int? { Tensor.elementCount(dims: dims) }

    /// `elementCount` of a tensor with these dims (for callers that hold the dims alone: reading
    /// the property through a pointer to a tensor copies the tensor first).
    public static func elementCount(dims: [Int64]) -> Int? {
        var n = 1
        for d in dims {
            guard d >= 0, let di = Int(exactly: d) else { return nil }
            let (p, o) = n.multipliedReportingOverflow(by: di)
            if o { return nil }
            n = p
        }
        return n
    }

    /// Bytes the data occupies when packed, computed from type and shape without loading
    /// anything; for strings, the sum of string lengths.
    public var byteCount: Int? {
        if elementType == .string {
            if case .strings(let s) = data { return s.reduce(0) { $0 + $1.count } }
            return nil
        }
        guard let n = elementCount else { return nil }
        return elementType.byteCount(forElements: n)
    }

    /// The type of a value holding this tensor.
    public var valueType: ValueType { .tensor(elementType, TensorShape(static: dims)) }

    /// True when the bytes are a view into a file (not yet copied).
    public var isFileBacked: Bool {
        if case .raw(let s) = data { return s.storage.origin != "<memory>" }
        return false
    }

    /// The packed little-endian bytes, copied out (decoding lazy encodings).
    public func packedBytes() throws -> [UInt8] {
        switch data {
        case .raw(let s):
            try checkRawSize(s.count)
            return s.bytes
        case .lazy(let l):
            guard let n = elementCount else { throw TensorDataError(tensor: name, reason: "invalid dims \(dims)") }
            return try l.packedBytes(elementType: elementType, elementCount: n)
        case .strings:
            throw TensorDataError(tensor: name, reason: "string tensors have no packed bytes")
        case .none:
            throw TensorDataError(tensor: name, reason: "no data available")
        }
    }

    private func checkRawSize(_ n: Int) throws {
        if let expected = byteCount, expected != n {
            throw TensorDataError(tensor: name, reason: "has \(n) data bytes but \(elementType.name)\(dims) needs \(expected)")
        }
    }

    /// Calls `body` with the packed bytes: in place for file-backed data (no copy), after
    /// decoding otherwise.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        if case .raw(let s) = data {
            try checkRawSize(s.count)
            return try s.withUnsafeBytes(body)
        }
        let bytes = try packedBytes()
        return try bytes.withUnsafeBytes(body)
    }

    /// The string elements of a string tensor.
    public func stringValues() throws -> [[UInt8]] {
        if case .strings(let s) = data { return s }
        throw TensorDataError(tensor: name, reason: "is \(elementType.name), not string")
    }

    /// Elements converted to `Double` (exact for every type but 64-bit integers beyond 2^53).
    /// Complex types yield interleaved real/imaginary parts.
    public func doubleValues() throws -> [Double] {
        let n = elementCount ?? 0
        let type = elementType
        let tname = name
        return try withUnsafeBytes { raw -> [Double] in
            try ElementDecoding.decode(raw, type: type, count: n, tensor: tname)
        }
    }

    /// Elements converted to `Float` (see `doubleValues`).
    public func floatValues() throws -> [Float] {
        // float32 data are copied as they are (weight folding reads whole conv kernels).
        #if _endian(little)
        if elementType == .float {
            let n = elementCount ?? 0
            let tname = name
            return try withUnsafeBytes { raw in
                guard raw.count >= n * 4 else { throw TensorDataError(tensor: tname, reason: "has \(raw.count) bytes, needs \(n * 4)") }
                return [Float](unsafeUninitializedCapacity: n) { buf, count in
                    UnsafeMutableRawBufferPointer(buf).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<(n * 4)]))
                    count = n
                }
            }
        }
        #endif
        return try doubleValues().map { Float($0) }
    }

    /// Elements converted to `Int64` (floats truncated toward zero; non-finite values fail).
    public func int64Values() throws -> [Int64] {
        if elementType == .int64 {
            let n = elementCount ?? 0
            let tname = name
            return try withUnsafeBytes { raw in
                guard raw.count >= n * 8 else {
                    throw TensorDataError(tensor: tname, reason: "has \(raw.count) bytes, needs \(n * 8)")
                }
                return (0..<n).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
            }
        }
        return try doubleValues().map { d in
            guard d.isFinite, let v = Int64(exactly: d.rounded(.towardZero)) else {
                throw TensorDataError(tensor: name, reason: "value \(d) is not an integer")
            }
            return v
        }
    }
}

extension Tensor: Equatable {
    /// Equal when metadata match and the data are byte-identical (decoding lazy encodings).
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        guard lhs.name == rhs.name, lhs.elementType == rhs.elementType, lhs.dims == rhs.dims,
              lhs.docString == rhs.docString, lhs.metadataProps == rhs.metadataProps,
              lhs.segment?.begin == rhs.segment?.begin, lhs.segment?.end == rhs.segment?.end
        else { return false }
        switch (lhs.data, rhs.data) {
        case (.raw(let a), .raw(let b)): return a == b
        case (.strings(let a), .strings(let b)): return a == b
        case (.none, .none): return true
        case (.strings, _), (_, .strings), (.none, _), (_, .none): return false
        default:
            guard let a = try? lhs.packedBytes(), let b = try? rhs.packedBytes() else { return false }
            return a == b
        }
    }
}

/// A sparse tensor (COO): `values` at `indices` within a dense shape `dims`.
public struct SparseTensor: Sendable, Equatable {
    /// The non-default values (1-D), whose name is the sparse tensor's name.
    public var values: Tensor
    /// Indices: [NNZ] linearized or [NNZ, rank].
    public var indices: Tensor
    /// Dense shape.
    public var dims: [Int64]
    /// Fields the reader did not model.
    public var unknownFields: UnknownFields
    /// Creates a sparse tensor.
    public init(values: Tensor, indices: Tensor, dims: [Int64], unknownFields: UnknownFields = UnknownFields()) {
        self.values = values
        self.indices = indices
        self.dims = dims
        self.unknownFields = unknownFields
    }
    /// The name (that of `values`).
    public var name: String { values.name }
}

/// Converters from packed element bytes to Double for every element type. Public so the
/// interpreter decodes single float8/float4 codes with the same rules (its casts round to them).
public enum ElementDecoding {
    static func decode(_ raw: UnsafeRawBufferPointer, type: ElementType, count n: Int, tensor: String) throws -> [Double] {
        func need(_ bytes: Int) throws {
            if raw.count < bytes {
                throw TensorDataError(tensor: tensor, reason: "has \(raw.count) bytes, needs \(bytes)")
            }
        }
        func load<T: FixedWidthInteger>(_ t: T.Type, _ i: Int) -> T {
            T(littleEndian: raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
        }
        switch type {
        case .float:
            try need(n * 4)
            return (0..<n).map { Double(Float(bitPattern: load(UInt32.self, $0))) }
        case .double:
            try need(n * 8)
            return (0..<n).map { Double(bitPattern: load(UInt64.self, $0)) }
        case .complex64:
            try need(n * 8)
            return (0..<(2 * n)).map { Double(Float(bitPattern: load(UInt32.self, $0))) }
        case .complex128:
            try need(n * 16)
            return (0..<(2 * n)).map { Double(bitPattern: load(UInt64.self, $0)) }
        case .float16:
            try need(n * 2)
            return (0..<n).map { Double(halfToFloat(load(UInt16.self, $0))) }
        case .bfloat16:
            try need(n * 2)
            return (0..<n).map { Double(Float(bitPattern: UInt32(load(UInt16.self, $0)) << 16)) }
        case .int8: try need(n); return (0..<n).map { Double(load(Int8.self, $0)) }
        case .uint8: try need(n); return (0..<n).map { Double(load(UInt8.self, $0)) }
        case .bool: try need(n); return (0..<n).map { load(UInt8.self, $0) != 0 ? 1 : 0 }
        case .int16: try need(n * 2); return (0..<n).map { Double(load(Int16.self, $0)) }
        case .uint16: try need(n * 2); return (0..<n).map { Double(load(UInt16.self, $0)) }
        case .int32: try need(n * 4); return (0..<n).map { Double(load(Int32.self, $0)) }
        case .uint32: try need(n * 4); return (0..<n).map { Double(load(UInt32.self, $0)) }
        case .int64: try need(n * 8); return (0..<n).map { Double(load(Int64.self, $0)) }
        case .uint64: try need(n * 8); return (0..<n).map { Double(load(UInt64.self, $0)) }
        case .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float8e8m0:
            try need(n)
            return (0..<n).map { float8ToDouble(load(UInt8.self, $0), type: type) }
        case .int4, .uint4, .float4e2m1:
            try need((n + 1) / 2)
            return (0..<n).map { i in
                let byte = load(UInt8.self, i / 2)
                let nib = (i % 2 == 0) ? byte & 0x0F : byte >> 4
                switch type {
                case .uint4: return Double(nib)
                case .int4: return Double(nib >= 8 ? Int(nib) - 16 : Int(nib))
                default: return float4e2m1ToDouble(nib)
                }
            }
        case .int2, .uint2:
            try need((n + 3) / 4)
            return (0..<n).map { i in
                let v = (load(UInt8.self, i / 4) >> UInt8((i % 4) * 2)) & 0x3
                return type == .uint2 ? Double(v) : Double(v >= 2 ? Int(v) - 4 : Int(v))
            }
        case .string, .undefined:
            throw TensorDataError(tensor: tensor, reason: "\(type.name) elements are not numeric")
        }
    }

    /// IEEE half to float, including subnormals, infinities and NaN.
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exp = Int((h >> 10) & 0x1F)
        let mant = UInt32(h & 0x3FF)
        if exp == 0 {
            let v = Float(mant) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -v : v
        }
        if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
        return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (mant << 13))
    }

    /// The float8 variants per the ONNX spec (fn: no infinities; fnuz: no negative zero,
    /// 0x80 is NaN; e8m0: a pure power of two, 0xFF is NaN).
    public static func float8ToDouble(_ b: UInt8, type: ElementType) -> Double {
        if type == .float8e8m0 {
            return b == 0xFF ? .nan : Double(sign: .plus, exponent: Int(b) - 127, significand: 1)
        }
        let (eBits, mBits, bias): (Int, Int, Int)
        switch type {
        case .float8e4m3fn: (eBits, mBits, bias) = (4, 3, 7)
        case .float8e4m3fnuz: (eBits, mBits, bias) = (4, 3, 8)
        case .float8e5m2: (eBits, mBits, bias) = (5, 2, 15)
        default: (eBits, mBits, bias) = (5, 2, 16)
        }
        let fnuz = type == .float8e4m3fnuz || type == .float8e5m2fnuz
        if fnuz && b == 0x80 { return .nan }
        let negative = (b & 0x80) != 0
        let e = Int(b >> UInt8(mBits)) & ((1 << eBits) - 1)
        let m = Int(b) & ((1 << mBits) - 1)
        let eMax = (1 << eBits) - 1
        if type == .float8e4m3fn && e == eMax && m == (1 << mBits) - 1 { return .nan }
        if type == .float8e5m2 && e == eMax { return m == 0 ? (negative ? -.infinity : .infinity) : .nan }
        let value: Double
        if e == 0 {
            value = Double(m) * Double(sign: .plus, exponent: 1 - bias - mBits, significand: 1)
        } else {
            value = (1 + Double(m) / Double(1 << mBits)) * Double(sign: .plus, exponent: e - bias, significand: 1)
        }
        return negative ? -value : value
    }

    /// float4 e2m1: sign, 2 exponent bits (bias 1), 1 mantissa bit; no inf/NaN.
    public static func float4e2m1ToDouble(_ nib: UInt8) -> Double {
        let table: [Double] = [0, 0.5, 1, 1.5, 2, 3, 4, 6]
        let v = table[Int(nib & 0x7)]
        return (nib & 0x8) != 0 ? -v : v
    }
}

// In an extension so the synthesized memberwise initializer stays available: delegating to it
// builds the tensor directly in the result instead of copying it out field by field.
extension Tensor {
    /// Creates a tensor.
    public init(name: String = "", elementType: ElementType, dims: [Int64], data: TensorData,
                external: ExternalDataInfo? = nil, docString: String = "",
                metadataProps: MetadataProps = MetadataProps(), unknownFields: UnknownFields = UnknownFields()) {
        self.init(name: name, elementType: elementType, dims: dims, data: data, external: external, segment: nil,
                  docString: docString, metadataProps: metadataProps, unknownFields: unknownFields)
    }

    /// Creates an in-memory float32 tensor (convenient in tests and edits).
    public init(name: String = "", floats: [Float], dims: [Int64]) {
        #if _endian(little)
        let slice = floats.withUnsafeBytes { ByteSlice(copyingRaw: $0) }
        self.init(name: name, elementType: .float, dims: dims, data: .raw(slice))
        #else
        var bytes = [UInt8]()
        bytes.reserveCapacity(floats.count * 4)
        for f in floats { Swift.withUnsafeBytes(of: f.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        self.init(name: name, elementType: .float, dims: dims, data: .raw(ByteSlice(copying: bytes)))
        #endif
    }

    /// Creates an in-memory int64 tensor.
    public init(name: String = "", int64s: [Int64], dims: [Int64]) {
        #if _endian(little)
        let slice = int64s.withUnsafeBytes { ByteSlice(copyingRaw: $0) }
        self.init(name: name, elementType: .int64, dims: dims, data: .raw(slice))
        #else
        var bytes = [UInt8]()
        bytes.reserveCapacity(int64s.count * 8)
        for v in int64s { Swift.withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
        self.init(name: name, elementType: .int64, dims: dims, data: .raw(ByteSlice(copying: bytes)))
        #endif
    }
}
