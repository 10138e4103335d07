/// The interpreter's tensor: an element type, a concrete shape and a view into a block of
/// memory that is either owned (activations, folded constants) or borrowed from the mapped
/// model file (weights, no copy). Also the conversions from and to GraphIR tensors.
import Foundation
import GraphIR

/// A block of memory a tensor views. Owned blocks are freed with the last reference; borrowed
/// ones keep their owner (the model's `ByteStorage`) alive instead.
public final class TensorStorage: @unchecked Sendable {
    /// Start of the block.
    public let base: UnsafeMutableRawPointer
    /// Usable bytes.
    public let capacity: Int
    private let owner: AnyObject?
    /// A string tensor's strings or a sequence / empty optional, for the storage of such a
    /// value (no bytes): kept here so a tensor's copy retains only its shape and storage.
    let extras: TensorExtras?
    private let owned: Bool

    /// A fresh zeroed block of `bytes` bytes (64-byte aligned, as BLAS likes). Large blocks
    /// are fresh anonymous mappings marked for huge pages: zero already (no memset), and
    /// written by their kernel in 2 MB faults instead of 4 KB ones.
    public convenience init(bytes: Int) {
        self.init(bytes: bytes, zeroed: true)
    }

    /// A fresh block of `bytes` bytes; unless `zeroed`, its contents are whatever the caller
    /// writes in full (a run's outputs, copied out of the plan's buffers).
    init(bytes: Int, zeroed: Bool) {
        let n = max(bytes, 1)
        capacity = bytes
        owner = nil
        owned = true
        extras = nil
        if let p = AnonymousPages.map(n) {
            base = p
            mapped = true
            return
        }
        base = UnsafeMutableRawPointer.allocate(byteCount: n, alignment: 64)
        if zeroed { base.initializeMemory(as: UInt8.self, repeating: 0, count: n) }
        mapped = false
    }

    /// Whether the block is an `AnonymousPages` mapping (freed by unmapping).
    private let mapped: Bool

    /// A view of memory owned by `owner`, which must stay unchanged while viewed (mapped
    /// model bytes are immutable). Kernels never write to their inputs.
    init(borrowing pointer: UnsafeRawPointer, bytes: Int, owner: AnyObject) {
        base = UnsafeMutableRawPointer(mutating: pointer)
        capacity = bytes
        self.owner = owner
        owned = false
        extras = nil
        mapped = false
    }

    /// The storage of a string tensor, a sequence or an empty optional: no bytes, `extras`.
    init(extras: TensorExtras) {
        capacity = 0
        owner = nil
        owned = true
        self.extras = extras
        base = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 64)
        base.storeBytes(of: 0, as: UInt8.self)
        mapped = false
    }

    /// True when the block is a view into someone else's memory (a mapped weight).
    public var isBorrowed: Bool { !owned }

    deinit {
        guard owned else { return }
        if mapped { AnonymousPages.unmap(base, count: max(capacity, 1)) } else { base.deallocate() }
    }
}

/// What a value that is not a numeric tensor holds: a string tensor's strings, or a sequence's
/// elements / an empty optional. Rare, immutable, and kept by the value's storage.
final class TensorExtras: @unchecked Sendable {
    let strings: [[UInt8]]?
    let container: RuntimeTensor.Container?
    init(strings: [[UInt8]]?, container: RuntimeTensor.Container?) { self.strings = strings; self.container = container }
}

/// Element types the interpreter stores and computes. float16/bfloat16 values are widened to
/// float32 when read (the ONNX spec allows computing them in float32), as are the float8
/// variants and float4e2m1 (every value of theirs is exact in float32); int4/int2 are held
/// as int8 and uint4/uint2 as uint8. Casts into these types round to their values.
public enum RuntimeElement {
    /// The type a value declared as `t` is held as (`t` itself for the types stored as is).
    public static func stored(_ t: ElementType) -> ElementType {
        switch t {
        case .float16, .bfloat16, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float8e8m0,
             .float4e2m1:
            return .float
        case .int4, .int2: return .int8
        case .uint4, .uint2: return .uint8
        default: return t
        }
    }

    /// Bytes per element of `t` in the interpreter's storage, nil for types it cannot hold.
    public static func size(_ t: ElementType) -> Int? {
        switch t {
        case .float, .int32, .uint32: return 4
        case .double, .int64, .uint64: return 8
        case .int8, .uint8, .bool: return 1
        case .int16, .uint16: return 2
        default: return nil
        }
    }
}

/// A dense row-major tensor with a concrete shape.
public struct RuntimeTensor: @unchecked Sendable {
    /// Element type (always a `RuntimeElement.stored` type: float16 and the other narrow
    /// types are widened on load).
    public var elementType: ElementType
    /// Concrete sizes.
    public var shape: [Int]
    /// The memory viewed.
    public let storage: TensorStorage
    /// Byte offset of element 0 in `storage`.
    public let byteOffset: Int
    /// The elements of a string tensor, UTF-8 bytes each in row-major order (nil for every
    /// other type, whose elements live in `storage`).
    public var strings: [[UInt8]]? { extras?.strings }
    /// Set for the values that are not tensors but travel in the same slots: an ONNX
    /// sequence (its elements, each in memory of its own) or an empty optional. nil for a
    /// tensor (a present optional is its value itself). `elementType` is then the elements'.
    public var container: Container? { extras?.container }
    /// True for a string tensor, a sequence or an empty optional: values numeric kernels refuse.
    public var isNonNumeric: Bool { extras != nil }

    /// Strings or a container, held by the storage (see `TensorExtras`).
    private var extras: TensorExtras? { storage.extras }

    /// The non-tensor kinds of value.
    public enum Container: Sendable {
        /// An ONNX sequence of tensors.
        case sequence([RuntimeTensor])
        /// An optional without a value.
        case none
    }

    /// A view of `storage` (which must hold at least the tensor's bytes).
    public init(elementType: ElementType, shape: [Int], storage: TensorStorage, byteOffset: Int = 0) {
        self.elementType = elementType
        self.shape = shape
        self.storage = storage
        self.byteOffset = byteOffset
    }

    /// A fresh zeroed tensor (empty strings for a string tensor).
    public init(zeros elementType: ElementType, shape: [Int]) {
        if elementType == .string {
            self.init(strings: Array(repeating: [], count: shape.reduce(1, *)), shape: shape)
            return
        }
        let size = RuntimeElement.size(elementType) ?? 1
        self.init(elementType: elementType, shape: shape,
                  storage: TensorStorage(bytes: shape.reduce(1, *) * size))
    }

    /// A sequence value holding `elements` (which must own their memory, not view a plan
    /// buffer: copy them first).
    public init(sequence elements: [RuntimeTensor], elementType: ElementType) {
        self.init(elementType: elementType, shape: [], storage: TensorStorage(extras: TensorExtras(strings: nil, container: .sequence(elements))))
    }

    /// An optional without a value, of element type `elementType`.
    public static func none(_ elementType: ElementType) -> RuntimeTensor {
        RuntimeTensor(elementType: elementType, shape: [],
                      storage: TensorStorage(extras: TensorExtras(strings: nil, container: RuntimeTensor.Container.none)))
    }

    /// The elements when this value is a sequence.
    public var sequence: [RuntimeTensor]? {
        if case .sequence(let e)? = container { return e }
        return nil
    }

    /// True for an optional without a value.
    public var isNone: Bool {
        if case .none? = container { return true }
        return false
    }

    /// A string tensor holding `values` (UTF-8 bytes, row-major).
    public init(strings values: [[UInt8]], shape: [Int]) {
        self.init(elementType: .string, shape: shape, storage: TensorStorage(extras: TensorExtras(strings: values, container: nil)))
    }

    /// A float32 tensor holding `values`.
    public init(floats values: [Float], shape: [Int]) {
        self.init(zeros: .float, shape: shape)
        let p = mutableFloats
        for i in values.indices { p[i] = values[i] }
    }

    /// An int64 tensor holding `values`.
    public init(int64s values: [Int64], shape: [Int]) {
        self.init(zeros: .int64, shape: shape)
        let p = raw.assumingMemoryBound(to: Int64.self)
        for i in values.indices { p[i] = values[i] }
    }

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// Bytes per element.
    public var elementSize: Int { RuntimeElement.size(elementType) ?? 1 }
    /// Bytes of the elements.
    public var byteCount: Int { extras == nil ? count * elementSize : 0 }
    /// The start of the elements.
    public var raw: UnsafeMutableRawPointer { storage.base + byteOffset }
    /// Float32 elements (the caller checked `elementType == .float`).
    public var floats: UnsafePointer<Float> { UnsafePointer(raw.assumingMemoryBound(to: Float.self)) }
    /// Writable float32 elements, for a tensor the kernel itself allocated.
    public var mutableFloats: UnsafeMutablePointer<Float> { raw.assumingMemoryBound(to: Float.self) }

    /// The same bytes with another shape (element count must match).
    public func reshaped(_ newShape: [Int]) -> RuntimeTensor {
        RuntimeTensor(elementType: elementType, shape: newShape, storage: storage, byteOffset: byteOffset)
    }

    /// Element `i` as a Double (any stored type).
    public func double(at i: Int) -> Double {
        // Strings, sequences and empty optionals have no numeric elements in `storage`.
        if extras != nil { return .nan }
        let p = raw
        switch elementType {
        case .float: return Double(p.load(fromByteOffset: i * 4, as: Float.self))
        case .double: return p.load(fromByteOffset: i * 8, as: Double.self)
        case .int64: return Double(p.load(fromByteOffset: i * 8, as: Int64.self))
        case .uint64: return Double(p.load(fromByteOffset: i * 8, as: UInt64.self))
        case .int32: return Double(p.load(fromByteOffset: i * 4, as: Int32.self))
        case .uint32: return Double(p.load(fromByteOffset: i * 4, as: UInt32.self))
        case .int16: return Double(p.load(fromByteOffset: i * 2, as: Int16.self))
        case .uint16: return Double(p.load(fromByteOffset: i * 2, as: UInt16.self))
        case .int8: return Double(p.load(fromByteOffset: i, as: Int8.self))
        case .uint8: return Double(p.load(fromByteOffset: i, as: UInt8.self))
        case .bool: return p.load(fromByteOffset: i, as: UInt8.self) != 0 ? 1 : 0
        default: return .nan
        }
    }

    /// Stores `v` at element `i`, converting as an ONNX Cast does (floats to integers truncate).
    public func setDouble(_ v: Double, at i: Int) {
        if extras != nil { return }
        let p = raw
        func int<T: FixedWidthInteger>(_ t: T.Type) -> T {
            guard v.isFinite else { return 0 }
            let r = v.rounded(.towardZero)
            if r >= Double(T.max) { return T.max }
            if r <= Double(T.min) { return T.min }
            return T(r)
        }
        switch elementType {
        case .float: p.storeBytes(of: Float(v), toByteOffset: i * 4, as: Float.self)
        case .double: p.storeBytes(of: v, toByteOffset: i * 8, as: Double.self)
        case .int64: p.storeBytes(of: int(Int64.self), toByteOffset: i * 8, as: Int64.self)
        case .uint64: p.storeBytes(of: int(UInt64.self), toByteOffset: i * 8, as: UInt64.self)
        case .int32: p.storeBytes(of: int(Int32.self), toByteOffset: i * 4, as: Int32.self)
        case .uint32: p.storeBytes(of: int(UInt32.self), toByteOffset: i * 4, as: UInt32.self)
        case .int16: p.storeBytes(of: int(Int16.self), toByteOffset: i * 2, as: Int16.self)
        case .uint16: p.storeBytes(of: int(UInt16.self), toByteOffset: i * 2, as: UInt16.self)
        case .int8: p.storeBytes(of: int(Int8.self), toByteOffset: i, as: Int8.self)
        case .uint8: p.storeBytes(of: int(UInt8.self), toByteOffset: i, as: UInt8.self)
        case .bool: p.storeBytes(of: v != 0 ? 1 : 0, toByteOffset: i, as: UInt8.self)
        default: break
        }
    }

    /// Elements as Int64 (shape-like inputs: Reshape shapes, Slice starts, Gather indices);
    /// other types convert as `saturatingInt(at:)` does, so no value traps.
    public func int64Values() -> [Int64] {
        if extras != nil { return [] }
        switch elementType {
        case .int64: return Array(UnsafeBufferPointer(start: raw.assumingMemoryBound(to: Int64.self), count: count))
        default: return (0..<count).map { Int64(saturatingInt(at: $0)) }
        }
    }

    /// Element `i` as an Int for a count, position or index read from data: int64 exactly,
    /// other types through `clampedInt(_:)` (a NaN, infinite or huge value must give an
    /// error downstream, never a trapping conversion that would take the kernel down).
    public func saturatingInt(at i: Int) -> Int {
        if elementType == .int64, extras == nil { return Int(raw.load(fromByteOffset: i * 8, as: Int64.self)) }
        return clampedInt(double(at: i))
    }

    /// Elements as Float (any numeric type).
    public func floatValues() -> [Float] {
        if extras != nil { return [] }
        if elementType == .float { return Array(UnsafeBufferPointer(start: floats, count: count)) }
        return (0..<count).map { Float(double(at: $0)) }
    }

    /// A copy in fresh owned memory (graph outputs leave the plan's reused buffers this way).
    public func copied() -> RuntimeTensor {
        // String elements and sequences (whose elements own their memory) are immutable values.
        if extras != nil { return self }
        let out = RuntimeTensor(elementType: elementType, shape: shape, storage: TensorStorage(bytes: byteCount, zeroed: false))
        out.raw.copyMemory(from: raw, byteCount: byteCount)
        return out
    }
}

/// Why a GraphIR tensor could not become a runtime tensor.
public struct TensorConversionError: Error, CustomStringConvertible, Sendable {
    public var reason: String
    public var description: String { reason }
}

extension RuntimeTensor {
    /// The runtime form of a stored tensor: a view into the mapped bytes when the type is
    /// stored as is and the bytes are suitably aligned (no copy); otherwise a converted copy
    /// (narrow types widened as `RuntimeElement.stored` says, typed ONNX fields decoded,
    /// unaligned bytes).
    public static func from(_ t: Tensor) throws -> (tensor: RuntimeTensor, borrowed: Bool) {
        guard let count = t.elementCount else {
            throw TensorConversionError(reason: "tensor '\(t.name)' has invalid dims \(t.dims)")
        }
        let shape = t.dims.map { Int($0) }
        if let size = RuntimeElement.size(t.elementType), case .raw(let slice) = t.data,
           slice.count == count * size, let base = slice.storage.baseAddress {
            let p = base + slice.offset
            if Int(bitPattern: p) % size == 0 {
                let storage = TensorStorage(borrowing: p, bytes: slice.count, owner: slice.storage)
                return (RuntimeTensor(elementType: t.elementType, shape: shape, storage: storage), true)
            }
        }
        switch t.elementType {
        case .string:
            let values = try t.stringValues()
            guard values.count == count else {
                throw TensorConversionError(reason: "tensor '\(t.name)' has \(values.count) strings, needs \(count)")
            }
            return (RuntimeTensor(strings: values, shape: shape), false)
        case .float16, .bfloat16, .float, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz,
             .float8e8m0, .float4e2m1:
            let values = try t.floatValues()
            guard values.count == count else {
                throw TensorConversionError(reason: "tensor '\(t.name)' has \(values.count) elements, needs \(count)")
            }
            return (RuntimeTensor(floats: values, shape: shape), false)
        case .int4, .int2, .uint4, .uint2:
            let values = try t.int64Values()
            guard values.count == count else {
                throw TensorConversionError(reason: "tensor '\(t.name)' has \(values.count) elements, needs \(count)")
            }
            let out = RuntimeTensor(zeros: RuntimeElement.stored(t.elementType), shape: shape)
            for i in values.indices { out.setDouble(Double(values[i]), at: i) }
            return (out, false)
        default:
            guard RuntimeElement.size(t.elementType) != nil else {
                throw TensorConversionError(reason: "tensor '\(t.name)': element type \(t.elementType.name) is not supported by the interpreter")
            }
            let bytes = try t.packedBytes()
            let out = RuntimeTensor(zeros: t.elementType, shape: shape)
            guard bytes.count == out.byteCount else {
                throw TensorConversionError(reason: "tensor '\(t.name)' has \(bytes.count) bytes, needs \(out.byteCount)")
            }
            bytes.withUnsafeBytes { if let b = $0.baseAddress { out.raw.copyMemory(from: b, byteCount: bytes.count) } }
            return (out, false)
        }
    }

    /// Packed little-endian bytes (for writing .npy files and GraphIR tensors).
    public var bytes: [UInt8] { Array(UnsafeRawBufferPointer(start: raw, count: byteCount)) }
}

/// `d` truncated toward zero and clamped to +-2^53 (NaN gives 0): far outside any real size
/// or index, so range checks refuse it, yet small enough that adding strides or offsets to
/// it cannot overflow.
func clampedInt(_ d: Double) -> Int {
    if d.isNaN { return 0 }
    let limit = 9_007_199_254_740_992.0
    return Int(min(max(d, -limit), limit).rounded(.towardZero))
}
