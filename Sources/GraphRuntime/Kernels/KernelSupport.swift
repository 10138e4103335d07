/// What every kernel shares: the I/O handed to a kernel (inputs, planned output buffers,
/// scratch), the kernel error, attribute readers with defaults, and shape helpers
/// (broadcasting, axis normalization).
import Foundation
import GraphIR

/// A kernel's complaint; the executor adds the node name and op type.
public struct KernelError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A compiled node: reads its inputs from `io` and writes its outputs there.
typealias Kernel = (inout KernelIO) throws -> Void

/// Buffers the executor keeps between runs: one block per plan slot, plus a scratch block
/// (im2col columns and the like), grown when a run needs more.
final class Arena {
    /// One block per slot of the memory plan.
    let slots: [TensorStorage]
    /// Kernel scratch memory.
    private var scratchBlock = TensorStorage(bytes: 0)
    /// Blocks allocated at run time for outputs the plan could not size (or that outgrew
    /// their planned slot).
    var unplannedAllocations = 0
    /// Those blocks, by step and output (`unplannedStorage`).
    private var unplanned: [Int: TensorStorage] = [:]
    /// Every value of a run by id, kept between runs so a run does not copy the plan's
    /// constants (a retain per weight) into a fresh array: a run takes it, fills the computed
    /// values, and gives it back with only the constants set.
    var values: [RuntimeTensor?] = []
    /// The last run's output list, refilled by the next run (`Interpreter.run`).
    var outputList: [(name: String, tensor: RuntimeTensor)] = []
    /// The run's `KernelIO` arrays, kept between runs with their capacity.
    var ioInputs: [RuntimeTensor?] = [], ioOutputs: [RuntimeTensor?] = []

    /// The planned slot of each step's outputs (`outputSlots[i][j]`, nil: allocate at run time)
    /// flattened (step i's output j at `slotStart[i] + j`, -1 for none), in
    /// memory the arena owns: `KernelIO.output` reads it every step without retaining arrays.
    private let flatSlots: UnsafeMutableBufferPointer<Int>
    private let slotStart: UnsafeMutableBufferPointer<Int>

    init(slotBytes: [Int], outputSlots: [[Int?]]) {
        slots = slotBytes.map { TensorStorage(bytes: $0) }
        ioInputs.reserveCapacity(8)
        ioOutputs.reserveCapacity(4)
        var flat: [Int] = [], start: [Int] = []
        for step in outputSlots { start.append(flat.count); flat += step.map { $0 ?? -1 } }
        start.append(flat.count)
        flatSlots = .allocate(capacity: max(flat.count, 1))
        _ = flatSlots.initialize(from: flat)
        slotStart = .allocate(capacity: start.count)
        _ = slotStart.initialize(from: start)
    }

    deinit {
        flatSlots.deallocate()
        slotStart.deallocate()
    }

    /// The planned block of output `j` of step `step` when it holds at least `bytes`.
    @inline(__always)
    func plannedStorage(step: Int, output j: Int, bytes: Int) -> TensorStorage? {
        guard step + 1 < slotStart.count else { return nil }
        let at = slotStart[step] + j
        guard at < slotStart[step + 1] else { return nil }
        let s = flatSlots[at]
        guard s >= 0 else { return nil }
        let storage = slots[s]
        return storage.capacity >= bytes ? storage : nil
    }

    /// The block kept for output `j` of step `step`, whose size the plan did not know: reused
    /// while it holds `bytes`, else replaced. A value dies by the end of its run (graph outputs
    /// and kept values leave as copies), so the next run may overwrite it.
    func unplannedStorage(step: Int, output j: Int, bytes: Int) -> TensorStorage {
        let key = step &* 4096 &+ j
        if let kept = unplanned[key], kept.capacity >= bytes { return kept }
        unplannedAllocations += 1
        let fresh = TensorStorage(bytes: bytes)
        unplanned[key] = fresh
        return fresh
    }

    /// Float scratch of at least `n` elements, valid until the next call.
    func scratchFloats(_ n: Int) -> UnsafeMutablePointer<Float> {
        if scratchBlock.capacity < n * 4 { scratchBlock = TensorStorage(bytes: n * 4) }
        return scratchBlock.base.assumingMemoryBound(to: Float.self)
    }
}

/// One node's inputs and outputs during a run.
/// Work done inside one long kernel call (taps of a pooling window, say), with a look at the
/// run's cancellation flag every ~2^20 units: often enough to stop within the interrupt's
/// 100 ms, rarely enough to cost nothing.
struct CancellationMeter {
    private var work = 0

    /// Counts `units` of work; throws when a look at the flag finds the run cancelled.
    mutating func add(_ units: Int, _ io: KernelIO, _ where: @autoclosure () -> String) throws {
        work += units
        if work >= 1 << 20 {
            work = 0
            try io.checkCancelled(`where`())
        }
    }
}

struct KernelIO {
    /// Input tensors by position (nil: an omitted optional input).
    var inputs: [RuntimeTensor?]
    /// Outputs by position, filled by the kernel.
    var outputs: [RuntimeTensor?]
    /// The step's index in the plan (nil while folding constants).
    var step: Int?
    let arena: Arena
    /// The run's cancellation flag: control flow checks it between iterations and hands it
    /// to its bodies, so a long Loop stops when the run is interrupted.
    var cancellation: CancellationFlag? = nil
    /// Threads a kernel may run its work on (the interpreter's `threads`; 1 while folding
    /// constants and in control-flow bodies). Direct convs split their output positions;
    /// OpenBLAS has its own count (`BLAS.setThreads`).
    var threads = 1

    /// Throws when the run was cancelled. Control flow calls it per iteration; kernels whose
    /// one call can run long (pools over huge windows) call it between rows, so the interrupt
    /// button stops them within the 100 ms a user waits.
    func checkCancelled(_ where: @autoclosure () -> String) throws {
        if let flag = cancellation, flag.isCancelled { throw KernelError("run cancelled \(`where`())") }
    }

    /// Input `i`, which the op requires.
    func input(_ i: Int) throws -> RuntimeTensor {
        guard i < inputs.count, let t = inputs[i] else { throw KernelError("input \(i) is missing") }
        return t
    }

    /// Input `i` when given.
    func optionalInput(_ i: Int) -> RuntimeTensor? { i < inputs.count ? inputs[i] : nil }

    /// Input `i` as float32, refusing other types with a message.
    func floatInput(_ i: Int) throws -> RuntimeTensor {
        let t = try input(i)
        guard t.elementType == .float else {
            throw KernelError("input \(i) is \(t.elementType.name); this kernel computes float32 only")
        }
        return t
    }

    /// A buffer for output `j`: the planned slot when it is large enough, else fresh memory.
    /// The contents are undefined; kernels write every element.
    /// `minimumBytes` asks for more storage than the shape needs (a channel-blocked layout).
    mutating func output(_ j: Int, _ type: ElementType, _ shape: [Int], minimumBytes: Int = 0) throws -> RuntimeTensor {
        guard let size = RuntimeElement.size(type) else {
            throw KernelError("output type \(type.name) is not supported by the interpreter")
        }
        // The description is built only for an error (interpolating it every call cost a
        // string allocation per step).
        let bytes = max(try Self.checkedBytes(shape, size, what: "output \(j)"), minimumBytes)
        var t: RuntimeTensor
        if let step, let storage = arena.plannedStorage(step: step, output: j, bytes: bytes) {
            t = RuntimeTensor(elementType: type, shape: shape, storage: storage)
        } else if let step {
            // A value the plan could not size (its shape depends on data): a block of the
            // step's own, kept for the next run.
            t = RuntimeTensor(elementType: type, shape: shape, storage: arena.unplannedStorage(step: step, output: j, bytes: bytes))
        } else {
            t = minimumBytes > 0 ? RuntimeTensor(elementType: type, shape: shape, storage: TensorStorage(bytes: bytes))
                                 : RuntimeTensor(zeros: type, shape: shape)
        }
        while outputs.count <= j { outputs.append(nil) }
        outputs[j] = t
        return t
    }

    /// Throws unless every value lies in `lower..<2^31`: window sizes, strides, dilations,
    /// pads and block sizes from attributes, bounded so the geometry computed from them with
    /// plain arithmetic cannot overflow (no real model comes near the bound).
    static func requireBounded(_ values: [Int], _ what: @autoclosure () -> String, lower: Int = 1) throws {
        for v in values where v < lower || v >= 1 << 31 {
            throw KernelError("\(what()) \(values) must lie in \(lower)..<2^31")
        }
    }

    /// The element count of `shape`, nil when an entry is negative or the product overflows
    /// (sizes computed from hostile attributes or data must not trap).
    static func checkedCount(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            if o { return nil }
            n = p
        }
        return n
    }

    /// A cap on any one tensor's bytes from `GRAPHSMITH_MAX_TENSOR_BYTES`, read once (nil: no
    /// cap beyond free memory). A notebook server shared by several users, or a fuzzer, sets
    /// it so that a model asking for gigabytes gets an error at once instead of a long fill.
    static let tensorByteCap: UInt64? = ProcessInfo.processInfo.environment["GRAPHSMITH_MAX_TENSOR_BYTES"].flatMap { UInt64($0) }

    /// The machine's memory, read once (a system call on Linux).
    static let physicalMemory = ProcessInfo.processInfo.physicalMemory

    /// Bytes of a `shape` tensor of `size`-byte elements, refusing negative sizes, overflow
    /// and more than the machine's memory before anything is allocated.
    static func checkedBytes(_ shape: [Int], _ size: Int, what: @autoclosure () -> String) throws -> Int {
        var n = size
        for d in shape {
            guard d >= 0 else { throw KernelError("\(what()) would have negative shape \(shape)") }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            guard !o else { throw KernelError("\(what()) of shape \(shape) is too large to address") }
            n = p
        }
        if let cap = tensorByteCap, UInt64(n) > cap {
            throw KernelError("\(what()) of shape \(shape) needs \(n) bytes, more than GRAPHSMITH_MAX_TENSOR_BYTES (\(cap))")
        }
        if UInt64(n) > physicalMemory {
            throw KernelError("\(what()) of shape \(shape) needs \(n) bytes, more than this machine's memory")
        }
        // Also what is free now (past 1 GiB: a block that large would otherwise be zero-filled
        // into swap or end in the OOM killer).
        if let free = Interpreter.freeMemory(ifShortOf: n) {
            throw KernelError("\(what()) of shape \(shape) needs \(n) bytes, more than the \(free) bytes this machine has free")
        }
        return n
    }

    /// Sets output `j` to a tensor the kernel built itself (string tensors, which have no
    /// planned buffer).
    mutating func setOutput(_ j: Int, _ t: RuntimeTensor) {
        while outputs.count <= j { outputs.append(nil) }
        outputs[j] = t
    }

    /// Float scratch of at least `n` elements.
    func scratch(_ n: Int) -> UnsafeMutablePointer<Float> {
        arena.scratchFloats(n)
    }
}

/// Runs `body` on `parts` ranges that split 0..<count, at once on `parts` threads; every range
/// but the last starts and ends on a multiple of `multiple` (a register tile's worth), so each
/// element is computed exactly as one thread computes it. One part runs inline.
func forEachPart(of count: Int, parts: Int, multiple: Int, _ body: (_ lower: Int, _ upper: Int) -> Void) {
    forEachPart(of: count, parts: parts, multiple: multiple) { _, lower, upper in body(lower, upper) }
}

/// `forEachPart`, telling `body` which part it runs (0..<parts), for parts that each need their
/// own scratch.
func forEachPart(of count: Int, parts: Int, multiple: Int,
                 _ body: (_ part: Int, _ lower: Int, _ upper: Int) -> Void) {
    guard parts > 1 else { body(0, 0, count); return }
    DispatchQueue.concurrentPerform(iterations: parts) { part in
        let lower = count * part / parts / multiple * multiple
        let upper = part == parts - 1 ? count : count * (part + 1) / parts / multiple * multiple
        body(part, lower, upper)
    }
}

/// Attribute readers with ONNX defaults.
extension Node {
    func int(_ name: String, _ def: Int) -> Int { attribute(name)?.intValue.map { Int($0) } ?? def }
    func float(_ name: String, _ def: Float) -> Float { attribute(name)?.floatValue ?? def }
    func ints(_ name: String) -> [Int]? { attribute(name)?.intsValue.map { $0.map { Int($0) } } }
    func string(_ name: String, _ def: String) -> String { attribute(name)?.stringValue ?? def }
}

/// Shape arithmetic shared by kernels.
enum Shapes {
    /// Numpy-style broadcast of two shapes.
    static func broadcast(_ a: [Int], _ b: [Int]) throws -> [Int] {
        if a == b { return a }
        let n = max(a.count, b.count)
        var out = [Int](repeating: 1, count: n)
        for i in 0..<n {
            let da = i < n - a.count ? 1 : a[i - (n - a.count)]
            let db = i < n - b.count ? 1 : b[i - (n - b.count)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else {
                throw KernelError("shapes \(a) and \(b) do not broadcast")
            }
        }
        return out
    }

    /// Calls `body(i, ia, ib)` for every element `i` of `shape` (row-major) with the element
    /// indexes of `a` and `b` broadcast to it: the slow path of binary ops over any types.
    static func forEachBroadcast(_ a: [Int], _ b: [Int], to shape: [Int], _ body: (Int, Int, Int) throws -> Void) rethrows {
        // The three stride lists in stack memory (no arrays per call).
        let rank = shape.count
        try withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 * max(rank, 1)) { buf in
            guard let sa = buf.baseAddress else { return }
            let sb = sa + rank, st = sa + 2 * rank
            broadcastStrides(a, to: shape, into: sa)
            broadcastStrides(b, to: shape, into: sb)
            strides(shape, into: st)
            var count = 1
            for d in shape { count *= d }
            for i in 0..<count {
                var ia = 0, ib = 0, rem = i
                for d in 0..<rank { let c = rem / st[d]; rem -= c * st[d]; ia += c * sa[d]; ib += c * sb[d] }
                try body(i, ia, ib)
            }
        }
    }

    /// Row-major strides of `shape` aligned to `target` (0 on broadcast dims).
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        var strides = [Int](repeating: 0, count: target.count)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            let ti = i + target.count - shape.count
            strides[ti] = shape[i] == 1 ? 0 : s
            s *= shape[i]
        }
        return strides
    }

    /// `broadcastStrides(shape, to: target)` written into `strides` (`target.count` entries).
    @inline(__always)
    static func broadcastStrides(_ shape: [Int], to target: [Int], into strides: UnsafeMutablePointer<Int>) {
        let lead = target.count - shape.count
        for i in 0..<lead { strides[i] = 0 }
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i + lead] = shape[i] == 1 ? 0 : s
            s *= shape[i]
        }
    }

    /// Row-major strides of `shape` written into `out` (`shape.count` entries).
    @inline(__always)
    static func strides(_ shape: [Int], into out: UnsafeMutablePointer<Int>) {
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { out[i] = s; s *= shape[i] }
    }

    /// Row-major strides.
    static func strides(_ shape: [Int]) -> [Int] {
        var out = [Int](repeating: 1, count: shape.count)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { out[i] = s; s *= shape[i] }
        return out
    }

    /// A possibly negative axis made positive, checked against `rank`.
    static func axis(_ a: Int, rank: Int) throws -> Int {
        let x = a < 0 ? a + rank : a
        guard x >= 0, x < max(rank, 1) else { throw KernelError("axis \(a) is out of range for rank \(rank)") }
        return x
    }
}
