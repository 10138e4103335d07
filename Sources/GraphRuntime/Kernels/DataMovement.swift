/// Kernels that move or generate data without arithmetic, for any element type: Reshape,
/// Flatten, Squeeze, Unsqueeze, Identity, Dropout, Transpose, Concat, Split, Slice, Gather,
/// Shape, Size, Constant, ConstantOfShape, Expand, Tile, Range, Pad, Resize (nearest/linear).
import GraphIR

enum DataKernels {
    /// Copies input 0 into output 0 with `shape`.
    static func copy(_ io: inout KernelIO, _ x: RuntimeTensor, _ shape: [Int]) throws {
        if x.container != nil { io.setOutput(0, x); return }
        guard shape.reduce(1, *) == x.count else { throw KernelError("cannot view \(x.shape) as \(shape)") }
        if x.strings != nil { io.setOutput(0, x.reshaped(shape)); return }
        let y = try io.output(0, x.elementType, shape)
        y.raw.copyMemory(from: x.raw, byteCount: x.byteCount)
    }

    /// Identity: a copy (the plan's buffers are reused, so outputs never alias inputs).
    static let identity: Kernel = { io in
        let x = try io.input(0)
        try copy(&io, x, x.shape)
    }

    /// Dropout in inference: identity; its optional mask output is all true.
    static func dropout(_ node: Node) -> Kernel {
        let wantsMask = node.outputs.count > 1 && !node.outputs[1].isEmpty
        return { io in
            let x = try io.input(0)
            try copy(&io, x, x.shape)
            if wantsMask {
                let m = try io.output(1, .bool, x.shape)
                m.raw.initializeMemory(as: UInt8.self, repeating: 1, count: x.count)
            }
        }
    }

    static func reshape(_ node: Node) -> Kernel {
        let allowZero = node.int("allowzero", 0) != 0
        let memo = ShapeMemo<[Int]>()
        return { io in
            let x = try io.input(0)
            let target = io.optionalInput(1)
            let shape = try memo.geometry({ $0.add(x.shape); $0.addContents(target) }) {
                try reshaped(x, target: target, node: node, allowZero: allowZero)
            }
            try copy(&io, x, shape)
        }
    }

    /// Reshape's output shape for `x` and its target (input 1, else the `shape` attribute).
    private static func reshaped(_ x: RuntimeTensor, target: RuntimeTensor?, node: Node, allowZero: Bool) throws -> [Int] {
        let spec: [Int]
        if let s = target { spec = s.int64Values().map { Int($0) } }
        else if let s = node.ints("shape") { spec = s }
        else { throw KernelError("Reshape needs a shape") }
        var shape = spec
        var unknown: Int? = nil
        for (i, d) in spec.enumerated() {
            if d == 0 && !allowZero {
                guard i < x.shape.count else { throw KernelError("shape \(spec) copies dim \(i) of \(x.shape)") }
                shape[i] = x.shape[i]
            } else if d == -1 {
                guard unknown == nil else { throw KernelError("shape \(spec) has two -1 entries") }
                unknown = i
            } else if d < 0 {
                throw KernelError("shape \(spec) has the negative entry \(d)")
            }
        }
        if let u = unknown {
            var rest = shape
            rest[u] = 1
            guard let known = KernelIO.checkedCount(rest), known > 0, x.count % known == 0 else {
                throw KernelError("cannot reshape \(x.shape) to \(spec)")
            }
            shape[u] = x.count / known
        }
        guard KernelIO.checkedCount(shape) == x.count else { throw KernelError("cannot reshape \(x.shape) (\(x.count) elements) to \(spec)") }
        return shape
    }

    static func flatten(_ node: Node) -> Kernel {
        let axisAttr = node.int("axis", 1)
        let memo = ShapeMemo<[Int]>()
        return { io in
            let x = try io.input(0)
            let shape = try memo.geometry({ $0.add(x.shape) }) {
                let axis = axisAttr < 0 ? axisAttr + x.shape.count : axisAttr
                guard axis >= 0, axis <= x.shape.count else { throw KernelError("axis \(axisAttr) out of range") }
                return [x.shape[..<axis].reduce(1, *), x.shape[axis...].reduce(1, *)]
            }
            try copy(&io, x, shape)
        }
    }

    /// Squeeze / Unsqueeze with axes from the attribute (opset < 13) or input 1.
    static func squeeze(_ node: Node, unsqueeze: Bool) -> Kernel {
        let attrAxes = node.ints("axes")
        let memo = ShapeMemo<[Int]>()
        return { io in
            let x = try io.input(0)
            let axesInput = io.optionalInput(1)
            let shape = try memo.geometry({ $0.add(x.shape); $0.addContents(axesInput) }) {
                try squeezed(x, axes: axesInput.map { $0.int64Values().map { Int($0) } } ?? attrAxes, unsqueeze: unsqueeze)
            }
            try copy(&io, x, shape)
        }
    }

    /// Squeeze's or Unsqueeze's output shape.
    private static func squeezed(_ x: RuntimeTensor, axes: [Int]?, unsqueeze: Bool) throws -> [Int] {
        if unsqueeze {
            guard let axes else { throw KernelError("Unsqueeze needs axes") }
            let rank = x.shape.count + axes.count
            let set = Set(try axes.map { try Shapes.axis($0, rank: rank) })
            var shape: [Int] = [], it = x.shape.makeIterator()
            for d in 0..<rank { shape.append(set.contains(d) ? 1 : (it.next() ?? 1)) }
            return shape
        } else {
            let rank = x.shape.count
            let set = Set(try (axes ?? x.shape.indices.filter { x.shape[$0] == 1 }).map { try Shapes.axis($0, rank: rank) })
            for a in set where x.shape[a] != 1 { throw KernelError("cannot squeeze axis \(a) of size \(x.shape[a])") }
            return x.shape.indices.filter { !set.contains($0) }.map { x.shape[$0] }
        }
    }

    static func transpose(_ node: Node) -> Kernel {
        let permAttr = node.ints("perm")
        let memo = ShapeMemo<(shape: [Int], strides: [Int])>()
        return { io in
            let x = try io.input(0)
            let (outShape, st) = try memo.geometry({ $0.add(x.shape) }) {
                let rank = x.shape.count
                let perm = permAttr ?? Array((0..<rank).reversed())
                guard Self.isPermutation(perm, rank: rank) else { throw KernelError("perm \(perm) is not a permutation of rank \(rank)") }
                let inStrides = Shapes.strides(x.shape)
                return (perm.map { x.shape[$0] }, perm.map { inStrides[$0] })
            }
            let y = try io.output(0, x.elementType, outShape)
            let size = x.elementSize
            if x.count == 0 { return }
            if !stridedCopy(y.count, outShape, st, size: size, from: x.raw, to: y.raw) {
                walk(y.count, outShape, st, UInt8.self, x.raw, y.raw)
            }
        }
    }

    /// Whether `perm` holds each of 0..<rank once (no Set: a transpose runs this every time).
    static func isPermutation(_ perm: [Int], rank: Int) -> Bool {
        guard perm.count == rank, rank <= 64 else { return perm.count == rank && Set(perm) == Set(0..<rank) }
        var seen: UInt64 = 0
        for p in perm {
            guard p >= 0, p < rank, seen & (1 << UInt64(p)) == 0 else { return false }
            seen |= 1 << UInt64(p)
        }
        return true
    }

    /// Writes `n` elements of `size` bytes in order over `shape`, reading `src` through the
    /// element strides `st` (0 repeats an element, a negative one walks backwards); false when
    /// `size` is not 1, 2, 4 or 8 bytes. Transpose, Slice and Expand are all this copy.
    static func stridedCopy(_ n: Int, _ shape: [Int], _ st: [Int], size: Int, from src: UnsafeMutableRawPointer,
                            to dst: UnsafeMutableRawPointer) -> Bool {
        switch size {
        case 4: walk(n, shape, st, UInt32.self, src, dst)
        case 8: walk(n, shape, st, UInt64.self, src, dst)
        case 2: walk(n, shape, st, UInt16.self, src, dst)
        case 1: walk(n, shape, st, UInt8.self, src, dst)
        default: return false
        }
        return true
    }

    /// Writes the output in order, reading the input through permuted strides.
    /// Dims of size 1 are dropped and neighbours the input reads contiguously merged first, so
    /// the inner loop runs as long as the layout allows (a [1, s, h, d] -> [1, h, s, d]
    /// transpose walks h * s rows of d).
    private static func walk<T>(_ n: Int, _ shape: [Int], _ st: [Int], _ t: T.Type, _ src: UnsafeMutableRawPointer, _ dst: UnsafeMutableRawPointer) {
        let s = src.assumingMemoryBound(to: T.self), d = dst.assumingMemoryBound(to: T.self)
        if n == 0 { return }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 * max(shape.count, 1)) { buf in
            guard let dims = buf.baseAddress else { return }
            let strides = dims + shape.count, counter = strides + shape.count
            var r = 0
            for (k, e) in shape.enumerated() where e != 1 {
                if r > 0 && strides[r - 1] == st[k] * e {
                    dims[r - 1] *= e; strides[r - 1] = st[k]
                } else {
                    dims[r] = e; strides[r] = st[k]; counter[r] = 0; r += 1
                }
            }
            if r == 0 { d[0] = s[0]; return }
            let last = dims[r - 1], ls = strides[r - 1]
            var o = 0, i = 0
            while o < n {
                // A contiguous run is one memcpy (ShuffleNet's channel shuffle moves 3,136-float
                // planes; the element loop ran them at a third of the copy's speed).
                if ls == 1 { if last >= 16 { (d + o).update(from: s + i, count: last) } else { for k in 0..<last { d[o + k] = s[i + k] } } }
                else { for k in 0..<last { d[o + k] = s[i + k * ls] } }
                o += last
                var dim = r - 2
                while dim >= 0 {
                    counter[dim] += 1; i += strides[dim]
                    if counter[dim] < dims[dim] { break }
                    i -= strides[dim] * dims[dim]; counter[dim] = 0; dim -= 1
                }
            }
        }
    }

    static func concat(_ node: Node) -> Kernel {
        let axisAttr = node.int("axis", 0)
        let memo = ShapeMemo<(shape: [Int], axis: Int)>()
        return { io in
            guard !io.inputs.isEmpty else { throw KernelError("Concat needs inputs") }
            let first = try io.input(0)
            let (shape, axis) = try memo.geometry({ k in for t in io.inputs { k.add(t) } }) {
                let rank = first.shape.count
                let axis = try Shapes.axis(axisAttr, rank: rank)
                var shape = first.shape
                shape[axis] = 0
                for i in io.inputs.indices {
                    let p = try io.input(i)
                    guard p.shape.count == rank, p.elementType == first.elementType else { throw KernelError("Concat inputs differ in rank or type") }
                    for d in 0..<rank where d != axis && p.shape[d] != first.shape[d] {
                        throw KernelError("Concat inputs \(first.shape) and \(p.shape) differ off axis \(axis)")
                    }
                    shape[axis] += p.shape[axis]
                }
                return (shape, axis)
            }
            let y = try io.output(0, first.elementType, shape)
            var outer = 1, outRow = first.elementSize
            for d in 0..<axis { outer *= shape[d] }
            for d in axis..<shape.count { outRow *= shape[d] }
            let size = first.elementSize
            var offset = 0
            for i in io.inputs.indices {
                guard let p = io.inputs[i] else { throw KernelError("input \(i) is missing") }
                var row = size
                for d in axis..<p.shape.count { row *= p.shape[d] }
                for o in 0..<outer { (y.raw + o * outRow + offset).copyMemory(from: p.raw + o * row, byteCount: row) }
                offset += row
            }
        }
    }

    static func split(_ node: Node) -> Kernel {
        let axisAttr = node.int("axis", 0), attrSplit = node.ints("split"), outputs = node.outputs.count
        let numOutputs = node.int("num_outputs", 0)
        let memo = ShapeMemo<(axis: Int, sizes: [Int], shapes: [[Int]])>()
        return { io in
            let x = try io.input(0)
            let given = io.optionalInput(1)
            let (axis, sizes, shapes) = try memo.geometry({ $0.add(x.shape); $0.addContents(given) }) {
                let axis = try Shapes.axis(axisAttr, rank: x.shape.count)
                let dim = x.shape[axis]
                var sizes = attrSplit
                if let s = given { sizes = s.int64Values().map { Int($0) } }
                if sizes == nil {
                    let parts = numOutputs > 0 ? numOutputs : outputs
                    guard parts > 0, parts == outputs else { throw KernelError("Split has \(outputs) outputs, num_outputs says \(parts)") }
                    let chunk = (dim + parts - 1) / parts
                    sizes = (0..<parts).map { min(chunk, max(0, dim - $0 * chunk)) }
                }
                guard let sizes, sizes.count == outputs, sizes.allSatisfy({ $0 >= 0 && $0 <= dim }), sizes.reduce(0, +) == dim else {
                    throw KernelError("split sizes \(sizes ?? []) do not divide dim \(dim) into \(outputs) outputs")
                }
                return (axis, sizes, sizes.map { s in var shape = x.shape; shape[axis] = s; return shape })
            }
            let dim = x.shape[axis]
            var outer = 1, inner = x.elementSize
            for d in 0..<axis { outer *= x.shape[d] }
            for d in (axis + 1)..<x.shape.count { inner *= x.shape[d] }
            var start = 0
            for (j, s) in sizes.enumerated() {
                let y = try io.output(j, x.elementType, shapes[j])
                for o in 0..<outer {
                    (y.raw + o * s * inner).copyMemory(from: x.raw + (o * dim + start) * inner, byteCount: s * inner)
                }
                start += s
            }
        }
    }

    static func slice(_ node: Node, opset: Int) -> Kernel {
        let memo = ShapeMemo<SliceGeometry>()
        return { io in
            let x = try io.input(0)
            let geo = try memo.geometry({ k in
                k.add(x.shape)
                if opset >= 10 { for i in 1..<max(io.inputs.count, 1) { k.addContents(io.inputs[i]) } }
            }) {
                try SliceGeometry(x: x, io: io, node: node, opset: opset)
            }
            let outShape = geo.shape, rank = x.shape.count
            let y = try io.output(0, x.elementType, outShape)
            if y.count == 0 { return }
            let size = x.elementSize
            if x.strings == nil, x.container == nil,
               stridedCopy(y.count, outShape, geo.strides, size: size, from: x.raw + geo.first * size, to: y.raw) { return }
            let begin = geo.begin, step = geo.step, inSt = geo.inputStrides
            var counter = [Int](repeating: 0, count: rank)
            for o in 0..<y.count {
                var idx = 0
                for d in 0..<rank { idx += (begin[d] + counter[d] * step[d]) * inSt[d] }
                (y.raw + o * size).copyMemory(from: x.raw + idx * size, byteCount: size)
                var d = rank - 1
                while d >= 0 { counter[d] += 1; if counter[d] < outShape[d] { break }; counter[d] = 0; d -= 1 }
            }
        }
    }

    static func gather(_ node: Node) -> Kernel {
        let axisAttr = node.int("axis", 0)
        let memo = ShapeMemo<(shape: [Int], axis: Int)>()
        return { io in
            let x = try io.input(0), ind = try io.input(1)
            let (outShape, axis) = try memo.geometry({ $0.add(x.shape); $0.add(ind.shape) }) {
                let axis = try Shapes.axis(axisAttr, rank: x.shape.count)
                return (Array(x.shape[..<axis]) + ind.shape + Array(x.shape[(axis + 1)...]), axis)
            }
            let dim = x.shape[axis]
            let y = try io.output(0, x.elementType, outShape)
            var outer = 1, inner = x.elementSize
            for d in 0..<axis { outer *= x.shape[d] }
            for d in (axis + 1)..<x.shape.count { inner *= x.shape[d] }
            // int64 indices read in place; other index types through a converted copy.
            let converted: [Int64]? = ind.elementType == .int64 ? nil : ind.int64Values()
            let count = ind.count
            let p = ind.raw.assumingMemoryBound(to: Int64.self)
            for o in 0..<outer {
                for k in 0..<count {
                    let raw = converted?[k] ?? p[k]
                    var i = Int(raw)
                    if i < 0 { i += dim }
                    guard i >= 0, i < dim else { throw KernelError("index \(raw) is out of range for axis size \(dim)") }
                    (y.raw + (o * count + k) * inner).copyMemory(from: x.raw + (o * dim + i) * inner, byteCount: inner)
                }
            }
        }
    }

    static func shape(_ node: Node) -> Kernel {
        let startAttr = node.int("start", 0), endAttr = node.attribute("end")?.intValue.map { Int($0) }
        let memo = ShapeMemo<(range: Range<Int>, shape: [Int])>()
        return { io in
            let x = try io.input(0)
            let (range, outShape) = memo.geometry({ $0.add(x.shape.count) }) {
                let r = x.shape.count
                var s = startAttr < 0 ? startAttr + r : startAttr, e = endAttr.map { $0 < 0 ? $0 + r : $0 } ?? r
                s = min(max(s, 0), r); e = min(max(e, s), r)
                return (s..<e, [e - s])
            }
            let y = try io.output(0, .int64, outShape)
            let p = y.raw.assumingMemoryBound(to: Int64.self)
            for (i, d) in range.enumerated() { p[i] = Int64(x.shape[d]) }
        }
    }

    static let size: Kernel = { io in
        let x = try io.input(0)
        let y = try io.output(0, .int64, [])
        y.setDouble(Double(x.count), at: 0)
    }

    static func constantOfShape(_ node: Node) throws -> Kernel {
        var fill = RuntimeTensor(zeros: .float, shape: [1])
        if case .tensor(let t)? = node.attribute("value") { fill = try RuntimeTensor.from(t).tensor }
        let value = fill
        let memo = ShapeMemo<[Int]>()
        return { io in
            let given = try io.input(0)
            let shape = memo.geometry({ $0.addContents(given) }) { given.int64Values().map { Int($0) } }
            let y = try io.output(0, value.elementType, shape)
            let size = value.elementSize, total = y.count * size
            guard total > 0 else { return }
            // One element, then the filled prefix doubled: log2(n) block copies instead of n.
            (y.raw).copyMemory(from: value.raw, byteCount: size)
            var filled = size
            while filled < total {
                let n = Swift.min(filled, total - filled)
                (y.raw + filled).copyMemory(from: UnsafeRawPointer(y.raw), byteCount: n)
                filled += n
            }
        }
    }

    /// Expand and Tile: broadcasting / repeating copies.
    static func expand(tile: Bool) -> Kernel {
        let memo = ShapeMemo<ExpandGeometry>()
        return { io in
            let x = try io.input(0), given = try io.input(1)
            let geo = try memo.geometry({ $0.add(x.shape); $0.addContents(given) }) {
                try ExpandGeometry(x.shape, spec: given.int64Values().map { Int($0) }, tile: tile)
            }
            let outShape = geo.shape
            let y = try io.output(0, x.elementType, outShape)
            let size = x.elementSize, r = outShape.count, st = geo.outputStrides
            let xs = geo.inputShape, inSt = geo.inputStrides
            // Expand is a strided copy whose broadcast axes have stride 0.
            if !tile, y.count > 0, x.strings == nil, x.container == nil,
               stridedCopy(y.count, outShape, geo.copyStrides, size: size, from: x.raw, to: y.raw) {
                return
            }
            for o in 0..<y.count {
                var rem = o, idx = 0
                for d in 0..<r { let c = rem / st[d]; rem -= c * st[d]; idx += (c % xs[d]) * inSt[d] }
                (y.raw + o * size).copyMemory(from: x.raw + idx * size, byteCount: size)
            }
        }
    }

    static let range: Kernel = { io in
        let s = try io.input(0), l = try io.input(1), d = try io.input(2)
        let start = s.double(at: 0), limit = l.double(at: 0), delta = d.double(at: 0)
        guard delta != 0 else { throw KernelError("Range delta is 0") }
        let steps = ((limit - start) / delta).rounded(.up)
        guard !steps.isNaN, steps < 9e15 else { throw KernelError("Range(\(start), \(limit), \(delta)) has no finite length") }
        let n = steps > 0 ? Int(steps) : 0  // an empty range for any count below 1, however far below
        let y = try io.output(0, s.elementType, [n])
        for i in 0..<n { y.setDouble(start + Double(i) * delta, at: i) }
    }
}

/// Slice's shapes as its kernel keeps them between calls (`ShapeMemo`): the output shape, the
/// first element taken and the input strides each output axis steps by, and the per-axis
/// begin and step for tensors a strided copy cannot move.
struct SliceGeometry {
    var shape: [Int], strides: [Int], first: Int
    var begin: [Int], step: [Int], inputStrides: [Int]

    init(x: RuntimeTensor, io: KernelIO, node: Node, opset: Int) throws {
        let rank = x.shape.count
        var starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?
        if opset < 10 {
            guard let s = node.ints("starts"), let e = node.ints("ends") else { throw KernelError("Slice needs starts and ends") }
            starts = s; ends = e; axes = node.ints("axes"); steps = nil
        } else {
            starts = try io.input(1).int64Values().map { Int(clamping: $0) }
            ends = try io.input(2).int64Values().map { Int(clamping: $0) }
            axes = io.optionalInput(3).map { $0.int64Values().map { Int($0) } }
            steps = io.optionalInput(4).map { $0.int64Values().map { Int($0) } }
        }
        let ax = try (axes ?? Array(0..<starts.count)).map { try Shapes.axis($0, rank: rank) }
        guard ends.count == starts.count, ax.count == starts.count, (steps?.count ?? starts.count) == starts.count else {
            throw KernelError("Slice starts/ends/axes/steps lengths differ")
        }
        begin = [Int](repeating: 0, count: rank)
        step = [Int](repeating: 1, count: rank)
        shape = x.shape
        for (k, a) in ax.enumerated() {
            // A step longer than the axis takes what one of the axis' length + 1 takes (the
            // first element only), and keeps the arithmetic below from overflowing.
            let d = x.shape[a], st = Swift.min(Swift.max(steps?[k] ?? 1, -(d + 1)), d + 1)
            guard st != 0 else { throw KernelError("Slice step 0 on axis \(a)") }
            var s = starts[k], e = ends[k]
            if s < 0 { s += d }
            if e < 0 { e += d }
            if st > 0 { s = min(max(s, 0), d); e = min(max(e, 0), d) }
            else { s = min(max(s, -1), d - 1); e = min(max(e, -1), d - 1) }
            begin[a] = s; step[a] = st
            shape[a] = st > 0 ? max(0, (e - s + st - 1) / st) : max(0, (s - e - st - 1) / -st)
        }
        inputStrides = Shapes.strides(x.shape)
        var from = 0
        for d in 0..<rank { from += begin[d] * inputStrides[d] }
        first = from
        strides = (0..<rank).map { [step, inputStrides] in step[$0] * inputStrides[$0] }
    }
}

/// Expand's and Tile's shapes as their kernel keeps them between calls (`ShapeMemo`).
struct ExpandGeometry {
    var shape: [Int], outputStrides: [Int]
    /// The input's shape with leading 1s to the output's rank, and its strides.
    var inputShape: [Int], inputStrides: [Int]
    /// Input strides per output axis, 0 on broadcast axes (Expand's strided copy).
    var copyStrides: [Int]

    init(_ x: [Int], spec: [Int], tile: Bool) throws {
        if tile {
            guard spec.count == x.count else { throw KernelError("repeats \(spec) do not match rank \(x.count)") }
            shape = try zip(x, spec).map { d, k in
                let (p, o) = d.multipliedReportingOverflow(by: k)
                guard k >= 0, !o else { throw KernelError("repeats \(spec) of \(x) give no valid shape") }
                return p
            }
        } else {
            shape = try Shapes.broadcast(x, spec)
        }
        guard KernelIO.checkedCount(shape) != nil else { throw KernelError("shape \(spec) for \(x) gives no valid size") }
        let r = shape.count
        outputStrides = Shapes.strides(shape)
        inputShape = Array(repeating: 1, count: r - x.count) + x
        inputStrides = Shapes.strides(inputShape)
        copyStrides = (0..<r).map { [inputShape, inputStrides] in inputShape[$0] == 1 ? 0 : inputStrides[$0] }
    }
}
