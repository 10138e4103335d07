/// `ShapeMemo`: what a kernel derives from its inputs' shapes (and from the small index
/// inputs some ops take, such as Slice's starts or Reshape's target), kept from one call to
/// the next. A repeated run hands each step the same shapes every time, so the output shape,
/// strides and window geometry a kernel computed on the first call serve every later one: the
/// steady state of a repeated run allocates nothing for them, where before each step built
/// several small arrays (300-1,300 allocations per run on the corpus models).
///
/// Each compiled node owns its memo (the kernel closure captures it), and a plan's steps run
/// one at a time, so a memo is never used by two threads at once.

import GraphIR

/// The last geometry a kernel computed and the inputs it was computed for.
final class ShapeMemo<Geometry> {
    /// What the cached geometry was computed from.
    private var key: [Int] = []
    /// The key being built for this call; swapped with `key` on a miss, so both keep their
    /// capacity and a call allocates only while they grow.
    private var scratch: [Int] = []
    private var cached: Geometry?

    init() {
        key.reserveCapacity(16)
        scratch.reserveCapacity(16)
    }

    /// The geometry of this call: `describe` writes everything the geometry depends on into
    /// the key (every input shape and index value `compute` reads); `compute` runs only when
    /// that differs from the last call's.
    @inline(__always)
    func geometry(_ describe: (inout MemoKey) throws -> Void, compute: () throws -> Geometry) rethrows -> Geometry {
        var k = MemoKey()
        swap(&k.words, &scratch)
        k.words.removeAll(keepingCapacity: true)
        defer { swap(&k.words, &scratch) }
        try describe(&k)
        if let cached, k.words == key { return cached }
        let g = try compute()
        swap(&k.words, &key)
        cached = g
        return g
    }
}

/// The inputs a geometry depends on, as a flat list of words.
struct MemoKey {
    var words: [Int] = []

    /// A shape (its rank, then its sizes: `[2]` and `[2, 1]` differ).
    @inline(__always)
    mutating func add(_ shape: [Int]) {
        words.append(shape.count)
        words.append(contentsOf: shape)
    }

    /// A tensor's element type and shape, or a marker for an omitted input.
    @inline(__always)
    mutating func add(_ t: RuntimeTensor?) {
        guard let t else { words.append(-1); return }
        words.append(Int(t.elementType.rawValue))
        add(t.shape)
    }

    /// A tensor's element type, shape and contents (index inputs: starts, axes, target
    /// shapes, sizes), or a marker for an omitted input. For small tensors only: it reads
    /// every element.
    mutating func addContents(_ t: RuntimeTensor?) {
        guard let t else { words.append(-1); return }
        add(t)
        guard !t.isNonNumeric else { return }
        let n = t.count
        switch t.elementType {
        case .int64: let p = t.raw.assumingMemoryBound(to: Int64.self); for i in 0..<n { words.append(Int(truncatingIfNeeded: p[i])) }
        case .int32: let p = t.raw.assumingMemoryBound(to: Int32.self); for i in 0..<n { words.append(Int(p[i])) }
        default: for i in 0..<n { words.append(Int(bitPattern: UInt(t.double(at: i).bitPattern))) }
        }
    }

    /// One number.
    @inline(__always)
    mutating func add(_ x: Int) { words.append(x) }
}

/// Working memory a kernel keeps from one call to the next (a row of maxima, a fused
/// program's intermediate blocks): allocated on first use, grown when a call needs more,
/// freed with the kernel. `withUnsafeTemporaryAllocation` would put these on the heap on
/// every call once they pass its stack limit.
final class KernelBuffer {
    private var base: UnsafeMutableRawPointer?
    private var bytes = 0

    /// Memory for `count` values of `T` (contents undefined), valid until the next call.
    func pointer<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let need = Swift.max(count, 1) * MemoryLayout<T>.stride
        let memory: UnsafeMutableRawPointer
        if let kept = base, need <= bytes {
            memory = kept
        } else {
            base?.deallocate()
            memory = UnsafeMutableRawPointer.allocate(byteCount: need, alignment: 64)
            base = memory
            bytes = need
        }
        // Raw memory bound to a trivial type the caller writes before reading.
        return memory.bindMemory(to: T.self, capacity: Swift.max(count, 1))
    }

    deinit { base?.deallocate() }
}

/// A tensor a kernel keeps for its own intermediate results (a variadic Sum's running total):
/// its storage is reused from one call to the next when large enough. Contents undefined.
final class TensorCache {
    private var storage: TensorStorage?

    func tensor(_ type: ElementType, _ shape: [Int]) throws -> RuntimeTensor {
        guard let size = RuntimeElement.size(type) else {
            throw KernelError("type \(type.name) is not supported by the interpreter")
        }
        let bytes = try KernelIO.checkedBytes(shape, size, what: "an intermediate result")
        if let kept = storage, kept.capacity >= bytes { return RuntimeTensor(elementType: type, shape: shape, storage: kept) }
        let fresh = TensorStorage(bytes: bytes)
        storage = fresh
        return RuntimeTensor(elementType: type, shape: shape, storage: fresh)
    }
}
