/// Loop and Scan without allocation per iteration: each node keeps, from one call to the next,
/// the memory its iterations need (`IterationMemory`): the iteration number and condition it
/// feeds the body, two sets of buffers for the carried values, the growing stack of a Loop's
/// scan outputs and the shapes it derives. The body hands its results over in its own plan's
/// blocks (`Body.run(copying: false)`); they are copied once, into the set the body is not
/// reading, because the next iteration's run reuses those blocks. Scan writes each step's scan
/// outputs straight into its own outputs (the step count is known up front); Loop's trip count
/// is not, so its scan outputs grow in a kept buffer and are copied out once at the end.
import GraphIR

extension ControlFlowKernels {
    /// The memory one Loop or Scan node keeps between calls (a kernel runs one call at a time).
    final class IterationMemory {
        /// The body's arguments, refilled each iteration.
        var args: [RuntimeTensor] = []
        /// The carried values the next iteration reads, and those the current one writes.
        var current: [RuntimeTensor] = []
        var next: [RuntimeTensor] = []
        /// Scan's outputs as step 0 sized them.
        var outputs: [RuntimeTensor] = []
        /// Two buffers per carried value, used in turn: a body may return its inputs as they
        /// are or swapped, so results never go into the set it is reading.
        let buffers: [[TensorCache]]
        /// Loop's iteration number and condition, fed as the body's first two inputs.
        let iteration = RuntimeTensor(int64s: [0], shape: [])
        let condition = RuntimeTensor(zeros: .bool, shape: [])
        /// Loop's scan outputs while they grow: bytes, element type and shape of iteration 0.
        let stacks: [GrowingBytes]
        var stackTypes: [ElementType]
        var stackShapes: [[Int]]
        /// Non-numeric (string) scan elements, stacked by value at the end.
        var stackValues: [[RuntimeTensor]]
        /// The shape of each stacked output (`[count] + element shape`), kept while it holds.
        var stackedShapes: [[Int]]
        /// Scan: each scan input's slice shape (its shape without axis 0).
        var sliceShapes: [[Int]] = []

        init(carried: Int, scans: Int) {
            buffers = [(0..<carried).map { _ in TensorCache() }, (0..<carried).map { _ in TensorCache() }]
            stacks = (0..<scans).map { _ in GrowingBytes() }
            stackTypes = Array(repeating: .float, count: scans)
            stackShapes = Array(repeating: [], count: scans)
            stackValues = Array(repeating: [], count: scans)
            stackedShapes = Array(repeating: [], count: scans)
        }

        /// `t` in buffer `k` of `set` (strings and sequences are immutable values: kept as they are).
        func keep(_ t: RuntimeTensor, set: Int, _ k: Int) throws -> RuntimeTensor {
            if t.isNonNumeric { return t }
            let y = try buffers[set][k].tensor(t.elementType, t.shape)
            if y.raw != t.raw, t.byteCount > 0 { y.raw.copyMemory(from: t.raw, byteCount: t.byteCount) }
            return y
        }

        /// `[count] + shape`, reusing the array kept for output `k` while it is the same.
        func stackedShape(_ k: Int, count: Int, element shape: [Int]) -> [Int] {
            let kept = stackedShapes[k]
            var same = kept.count == shape.count + 1 && kept[0] == count
            if same { for i in shape.indices where kept[i + 1] != shape[i] { same = false; break } }
            if !same { stackedShapes[k] = [count] + shape }
            return stackedShapes[k]
        }

        /// The slice shape of scan input `k` (its shape without axis 0), kept while it holds.
        func sliceShape(_ k: Int, of shape: [Int]) -> [Int] {
            while sliceShapes.count <= k { sliceShapes.append([]) }
            let kept = sliceShapes[k]
            var same = kept.count == shape.count - 1
            if same { for i in kept.indices where kept[i] != shape[i + 1] { same = false; break } }
            if !same { sliceShapes[k] = Array(shape.dropFirst()) }
            return sliceShapes[k]
        }

        /// Appends iteration `i`'s scan output `k` to its stack; every iteration's must have
        /// iteration 0's type and shape.
        func append(scan k: Int, _ t: RuntimeTensor, iteration i: Int) throws {
            if i == 0 {
                stackTypes[k] = t.elementType
                if stackShapes[k] != t.shape { stackShapes[k] = t.shape }
                stackValues[k].removeAll(keepingCapacity: true)
            } else if t.elementType != stackTypes[k] || t.shape != stackShapes[k] {
                throw KernelError("scan output \(k) changes from \(stackTypes[k].name)\(stackShapes[k]) to \(t.elementType.name)\(t.shape) at iteration \(i)")
            }
            if t.isNonNumeric { stackValues[k].append(t); return }
            let n = t.byteCount
            let base = stacks[k].reserve(bytes: (i + 1) * n)
            if n > 0 { (base + i * n).copyMemory(from: t.raw, byteCount: n) }
        }

        /// Writes stack `k` (`count` iterations) as output `j`.
        func writeStack(_ k: Int, count: Int, to j: Int, _ io: inout KernelIO) throws {
            let shape = stackedShape(k, count: count, element: stackShapes[k])
            if stackTypes[k] == .string {
                io.setOutput(j, RuntimeTensor(strings: stackValues[k].flatMap { $0.strings ?? [] }, shape: shape))
                return
            }
            guard stackValues[k].isEmpty else { throw KernelError("scan output \(k) holds sequences or optionals, which cannot be stacked") }
            let y = try io.output(j, stackTypes[k], shape)
            if y.byteCount > 0 { y.raw.copyMemory(from: stacks[k].base, byteCount: y.byteCount) }
        }
    }

    /// Bytes that keep their contents as they grow (doubling), kept from call to call.
    final class GrowingBytes {
        private(set) var base = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        private var capacity = 64

        /// The memory, grown to at least `bytes` with its contents kept.
        func reserve(bytes: Int) -> UnsafeMutableRawPointer {
            if bytes > capacity {
                var size = capacity
                while size < bytes { size *= 2 }
                let grown = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
                grown.copyMemory(from: base, byteCount: capacity)
                base.deallocate()
                base = grown
                capacity = size
            }
            return base
        }

        deinit { base.deallocate() }
    }

    /// A trip count or condition read from a one-element tensor, refusing empty ones.
    static func scalar(_ t: RuntimeTensor, _ what: String) throws -> Double {
        guard t.count >= 1, !t.isNonNumeric else { throw KernelError("Loop \(what) must hold one number, has \(t.count) values") }
        return t.double(at: 0)
    }

    /// Loop's trip count (`M`): int64 read exactly (Int64.max, "no limit", must not go through
    /// a trapping Double conversion), none below 0; a float one that is NaN or infinite is refused.
    static func tripCount(_ t: RuntimeTensor) throws -> Int {
        let d = try scalar(t, "trip count")
        guard d.isFinite else { throw KernelError("Loop trip count is \(d)") }
        return max(0, t.saturatingInt(at: 0))
    }

    /// A Loop node: `carried` loop-carried values, the rest of its outputs scan outputs.
    static func loopKernel(_ node: Node, body: Body, explicit: Int, outerValues: @escaping (KernelIO) -> [String: RuntimeTensor]) -> Kernel {
        let carried = max(0, explicit - 2)
        let scanCount = max(0, node.outputs.count - carried)
        let memory = IterationMemory(carried: carried, scans: scanCount)
        return { io in
            let maxTrips = try io.optionalInput(0).map { try tripCount($0) } ?? Int.max
            var cond = try io.optionalInput(1).map { try scalar($0, "condition") != 0 } ?? true
            memory.current.removeAll(keepingCapacity: true)
            for k in 0..<carried { memory.current.append(try io.input(2 + k)) }
            // Same count as `current`, in its own buffer; every entry is replaced before it is read.
            memory.next.removeAll(keepingCapacity: true)
            memory.next.append(contentsOf: memory.current)
            let ov = outerValues(io)
            var i = 0, set = 0
            while i < maxTrips && cond {
                try io.checkCancelled("in iteration \(i)")
                memory.iteration.raw.storeBytes(of: Int64(i), as: Int64.self)
                memory.condition.setDouble(1, at: 0)
                memory.args.removeAll(keepingCapacity: true)
                memory.args.append(memory.iteration)
                memory.args.append(memory.condition)
                memory.args.append(contentsOf: memory.current)
                var j = 0
                try body.run(memory.args, outer: ov, copying: false, cancellation: io.cancellation) { t in
                    defer { j += 1 }
                    if j == 0 {
                        cond = try scalar(t, "body's condition output") != 0
                    } else if j <= carried {
                        memory.next[j - 1] = try memory.keep(t, set: set, j - 1)
                    } else if j - 1 - carried < scanCount {
                        try memory.append(scan: j - 1 - carried, t, iteration: i)
                    }
                }
                guard j >= 1 + carried + scanCount else { throw KernelError("Loop body returned \(j) values, needs \(1 + carried + scanCount)") }
                swap(&memory.current, &memory.next)
                set ^= 1
                i += 1
            }
            io.outputs.removeAll(keepingCapacity: true)
            for k in 0..<carried {
                let t = memory.current[k]
                if t.isNonNumeric { io.setOutput(k, t); continue }
                let y = try io.output(k, t.elementType, t.shape)
                if t.byteCount > 0 { y.raw.copyMemory(from: t.raw, byteCount: t.byteCount) }
            }
            for k in 0..<scanCount {
                guard i > 0 else { throw KernelError("Loop ran no iterations, so scan output \(k) has no element shape") }
                try memory.writeStack(k, count: i, to: carried + k, &io)
            }
            // The step's inputs and the body's blocks are not held past the call.
            memory.current.removeAll(keepingCapacity: true)
            memory.next.removeAll(keepingCapacity: true)
        }
    }

    /// A Scan node (opset 9+, scan axes 0): `explicit - num_scan_inputs` state values.
    static func scanKernel(_ node: Node, body: Body, explicit: Int, outerValues: @escaping (KernelIO) -> [String: RuntimeTensor]) throws -> Kernel {
        let nScan = node.int("num_scan_inputs", 0)
        guard nScan >= 0, nScan <= explicit else { throw KernelError("Scan has num_scan_inputs \(nScan) but \(explicit) inputs") }
        let inDirs = node.ints("scan_input_directions") ?? [], outDirs = node.ints("scan_output_directions") ?? []
        if let axes = node.ints("scan_input_axes"), axes.contains(where: { $0 != 0 }) { throw KernelError("Scan with scan_input_axes other than 0 is not supported") }
        if let axes = node.ints("scan_output_axes"), axes.contains(where: { $0 != 0 }) { throw KernelError("Scan with scan_output_axes other than 0 is not supported") }
        let nState = explicit - nScan
        let nOut = max(0, node.outputs.count - nState)
        let memory = IterationMemory(carried: nState, scans: nOut)
        return { io in
            memory.current.removeAll(keepingCapacity: true)
            for k in 0..<nState { memory.current.append(try io.input(k)) }
            memory.next.removeAll(keepingCapacity: true)
            memory.next.append(contentsOf: memory.current)
            var steps = 0
            for k in 0..<nScan {
                let x = try io.input(nState + k)
                guard let first = x.shape.first, !x.isNonNumeric else { throw KernelError("scan input \(k) must be a tensor of rank 1 or more") }
                if k == 0 { steps = first } else if first != steps { throw KernelError("scan inputs must share their first dimension (\(steps) and \(first))") }
                _ = memory.sliceShape(k, of: x.shape)
            }
            io.outputs.removeAll(keepingCapacity: true)
            memory.outputs.removeAll(keepingCapacity: true)
            let ov = outerValues(io)
            var set = 0
            for t in 0..<steps {
                try io.checkCancelled("at step \(t)")
                memory.args.removeAll(keepingCapacity: true)
                memory.args.append(contentsOf: memory.current)
                for k in 0..<nScan {
                    let x = try io.input(nState + k)
                    let i = (k < inDirs.count && inDirs[k] == 1) ? steps - 1 - t : t
                    let per = memory.sliceShapes[k]
                    let bytes = per.reduce(1, *) * x.elementSize
                    memory.args.append(RuntimeTensor(elementType: x.elementType, shape: per, storage: x.storage, byteOffset: x.byteOffset + i * bytes))
                }
                var j = 0
                try body.run(memory.args, outer: ov, copying: false, cancellation: io.cancellation) { r in
                    defer { j += 1 }
                    if j < nState {
                        memory.next[j] = try memory.keep(r, set: set, j)
                        return
                    }
                    let k = j - nState
                    guard k < nOut else { return }
                    if t == 0 {
                        // Step 0 fixes each scan output's type and shape; numbers then go
                        // straight into the output, strings stack by value.
                        memory.stackTypes[k] = r.elementType
                        if memory.stackShapes[k] != r.shape { memory.stackShapes[k] = r.shape }
                        memory.stackValues[k].removeAll(keepingCapacity: true)
                        memory.outputs.append(r.isNonNumeric ? r : try io.output(nState + k, r.elementType, memory.stackedShape(k, count: steps, element: r.shape)))
                    } else if r.elementType != memory.stackTypes[k] || r.shape != memory.stackShapes[k] {
                        throw KernelError("scan output \(k) changes from \(memory.stackTypes[k].name)\(memory.stackShapes[k]) to \(r.elementType.name)\(r.shape) at step \(t)")
                    }
                    if r.isNonNumeric { memory.stackValues[k].append(r); return }
                    let slot = (k < outDirs.count && outDirs[k] == 1) ? steps - 1 - t : t
                    if r.byteCount > 0 { (memory.outputs[k].raw + slot * r.byteCount).copyMemory(from: r.raw, byteCount: r.byteCount) }
                }
                guard j >= nState + nOut else { throw KernelError("Scan body returned \(j) values, needs \(nState + nOut)") }
                swap(&memory.current, &memory.next)
                set ^= 1
            }
            for k in 0..<nState {
                let s = memory.current[k]
                if s.isNonNumeric { io.setOutput(k, s); continue }
                let y = try io.output(k, s.elementType, s.shape)
                if s.byteCount > 0 { y.raw.copyMemory(from: s.raw, byteCount: s.byteCount) }
            }
            for k in 0..<nOut where steps == 0 || memory.outputs[k].isNonNumeric {
                guard steps > 0 else { throw KernelError("Scan ran no steps, so scan output \(k) has no element shape") }
                if k < outDirs.count && outDirs[k] == 1 { memory.stackValues[k].reverse() }
                try memory.writeStack(k, count: steps, to: nState + k, &io)
            }
            memory.current.removeAll(keepingCapacity: true)
            memory.next.removeAll(keepingCapacity: true)
            memory.outputs.removeAll(keepingCapacity: true)
        }
    }
}
