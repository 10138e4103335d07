/// Rules for ops that compute or rearrange shapes: Shape, Size, Reshape, Flatten, Squeeze,
/// Unsqueeze, Transpose, Concat, Split, Slice, Gather, Expand, Tile, Pad, ConstantOfShape, Range,
/// Constant. Each also moves known contents along (Shape → Gather → Concat → Reshape), so the
/// shape arithmetic exporters emit folds to symbolic sizes.
import GraphIR

enum ShapeOpRules {
    static func register(_ t: inout [String: InferenceRule]) {
        t["Shape"] = shape
        t["Size"] = size
        t["Reshape"] = reshape
        t["Flatten"] = flatten
        t["Squeeze"] = squeeze
        t["Unsqueeze"] = unsqueeze
        t["Transpose"] = transpose
        t["Concat"] = concat
        t["Split"] = split
        t["Slice"] = slice
        t["Gather"] = gather
        t["Expand"] = expand
        t["Tile"] = tile
        t["Pad"] = pad
        t["ConstantOfShape"] = constantOfShape
        t["Range"] = range
        t["Constant"] = constant
    }

    static func staticDims(_ d: [SymDim?]) -> [Int]? {
        var out: [Int] = []
        for x in d { guard let v = x?.intValue, v >= 0, v <= Int64(maxKnownElements) else { return nil }; out.append(Int(v)) }
        return out
    }

    static func take<T>(_ v: [T], dims: [Int], axis: Int, indices: [Int]) -> [T] {
        let outer = dims[..<axis].reduce(1, *), n = dims[axis], inner = dims[(axis + 1)...].reduce(1, *)
        var out: [T] = []
        out.reserveCapacity(outer * indices.count * inner)
        for o in 0..<outer { for i in indices { out.append(contentsOf: v[((o * n + i) * inner)..<((o * n + i + 1) * inner)]) } }
        return out
    }

    static func take(_ v: KnownValue, dims: [Int], axis: Int, indices: [Int]) -> KnownValue? {
        guard dims.reduce(1, *) == v.count else { return nil }
        // The result is tracked only while small (a gather can repeat rows many times).
        let size = dims[axis] == 0 ? 0 : v.count / dims[axis] * indices.count
        guard size <= maxKnownElements else { return nil }
        switch v {
        case .ints(let xs): return .ints(take(xs, dims: dims, axis: axis, indices: indices))
        case .floats(let xs): return .floats(take(xs, dims: dims, axis: axis, indices: indices))
        case .partialInts(let xs): return KnownValue.ints(partial: take(xs, dims: dims, axis: axis, indices: indices))
        }
    }

    // MARK: Rules

    static func shape(_ c: RuleContext) throws -> [ValueFacts?] {
        // Rank (or type) unknown: still a 1-D int64 tensor, of unknown length.
        guard c.has(0) else { throw InferenceFailure("input 0 is missing") }
        guard case .tensor(_, let dims)? = c.inputs[0]?.type, let d = dims else { return [.tensor(.int64, [nil])] }
        let r = Int64(d.count)
        func clamp(_ v: Int64) -> Int { Int(max(0, min(r, v < 0 ? v + r : v))) }
        let start = clamp(c.attrInt("start") ?? 0)
        let end = clamp(c.attrInt("end") ?? r)
        let part = start < end ? Array(d[start..<end]) : []
        // Unknown sizes leave their entries unknown (partly known contents).
        return [.tensor(.int64, [SymDim(Int64(part.count))], value: KnownValue.ints(partial: part))]
    }

    static func size(_ c: RuleContext) throws -> [ValueFacts?] {
        guard c.has(0) else { throw InferenceFailure("input 0 is missing") }
        guard case .tensor(_, let dims)? = c.inputs[0]?.type, let d = dims else { return [.tensor(.int64, [])] }
        return [.tensor(.int64, [], value: Shapes.product(d[...]).map { .ints([$0]) })]
    }

    static func reshape(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, inDims) = try c.tensor(0)
        let allowZero = c.attrInt("allowzero") ?? 0
        guard let target = c.value(1)?.partialDims else {
            if let sd = try? c.dims(1), sd.count == 1, let n = sd[0]?.intValue, n >= 0, n < 64 {
                return [.tensor(e, Array(repeating: nil, count: Int(n)))]
            }
            throw InferenceFailure("target shape (input 1) is not known", kind: .unknownInput)
        }
        var out: [SymDim?] = []
        out.reserveCapacity(target.count)
        var inferAt: Int?
        for (i, entry) in target.enumerated() {
            // An unknown entry (partly known target) gives an unknown size; it may be the
            // -1, so no other size is inferred from the element count.
            guard let t = entry else { out.append(nil); continue }
            if t.intValue == 0 && allowZero == 0 {
                guard let inDims else { out.append(nil); continue }
                guard i < inDims.count else { throw InferenceFailure("shape entry \(i) is 0 but the input has rank \(inDims.count)") }
                out.append(inDims[i])
            } else if t.intValue == -1 {
                guard inferAt == nil else { throw InferenceFailure("shape has more than one -1") }
                inferAt = i
                out.append(nil)
            } else {
                if let v = t.intValue, v < 0 { throw InferenceFailure("shape entry \(i) is \(v)") }
                out.append(t)
            }
        }
        if let k = inferAt, !target.contains(nil), let inDims, let total = Shapes.product(inDims[...]) {
            var rest = out
            rest.remove(at: k)
            if let known = Shapes.product(rest[...]) {
                if let a = total.intValue, let b = known.intValue {
                    guard b != 0, a % b == 0 else { throw InferenceFailure("cannot reshape \(a) elements into \(target)") }
                    out[k] = SymDim(a / b)
                } else {
                    out[k] = total.exactDiv(known)
                }
            }
        }
        // Without a -1 the counts must still agree (`[256,4,1,1]` cannot become `[1,4]`).
        if inferAt == nil, let inDims, let a = Shapes.productValue(inDims[...]),
           let b = Shapes.productValue(out[...]), a != b {
            func text(_ d: [SymDim?]) -> String { "[" + d.map { $0?.description ?? "?" }.joined(separator: ", ") + "]" }
            throw InferenceFailure("cannot reshape \(text(inDims)) to \(text(out)): \(a) elements against \(b)")
        }
        return [.tensor(e, out, value: c.value(0))]
    }

    static func flatten(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        guard let d else { return [.tensor(e, [nil, nil])] }
        let a = try c.int("axis")
        let axis = a < 0 ? Int(a) + d.count : Int(a)
        guard axis >= 0 && axis <= d.count else { throw InferenceFailure("axis \(a) is out of range for rank \(d.count)") }
        return [.tensor(e, [Shapes.product(d[..<axis]), Shapes.product(d[axis...])], value: c.value(0))]
    }

    /// Axes from the attribute (older opsets) or input 1.
    static func axesArgument(_ c: RuleContext, input: Int = 1) throws -> [Int64]? {
        if let a = c.ints("axes") { return a }
        if c.has(input) { return try c.constInts(input) }
        return nil
    }

    static func squeeze(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        guard let d else { return [.tensor(e, nil)] }  // element type known, rank not
        var remove = Set<Int>()
        if let axes = try axesArgument(c) {
            for a in axes {
                let i = try c.axis(a, rank: d.count)
                if let v = d[i]?.intValue, v != 1 { throw InferenceFailure("cannot squeeze axis \(a) of size \(v)") }
                remove.insert(i)
            }
        } else {
            for (i, x) in d.enumerated() {
                guard let x else { throw InferenceFailure("no axes given and dim \(i) is unknown", kind: .unknownInput) }
                if x.intValue == 1 { remove.insert(i) } else if x.intValue == nil {
                    throw InferenceFailure("no axes given and dim \(i) (\(x)) may be 1", kind: .unknownInput)
                }
            }
        }
        let out = d.enumerated().filter { !remove.contains($0.offset) }.map(\.element)
        return [.tensor(e, out, value: c.value(0))]
    }

    static func unsqueeze(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        guard let d else { return [.tensor(e, nil)] }  // element type known, rank not
        if c.ints("axes") == nil, c.has(1), c.value(1) == nil, let ad = try? c.dims(1), ad.count == 1, let k = ad[0]?.intValue, k >= 0, k < 64 {
            return [.tensor(e, Array(repeating: nil, count: d.count + Int(k)))]  // axes given at run time
        }
        guard let axes = try axesArgument(c) else { throw InferenceFailure("axes are not known", kind: .unknownInput) }
        let r = d.count + axes.count
        var at = [Bool](repeating: false, count: r)
        for a in axes {
            let i = try c.axis(a, rank: r)
            guard !at[i] else { throw InferenceFailure("axis \(a) repeats") }
            at[i] = true
        }
        var out: [SymDim?] = []
        out.reserveCapacity(r)
        var k = 0
        for i in 0..<r {
            if at[i] { out.append(SymDim(1)) } else { out.append(d[k]); k += 1 }
        }
        return [.tensor(e, out, value: c.value(0))]
    }

    static func transpose(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        guard let d else { return [.tensor(e, nil)] }
        let perm = c.ints("perm") ?? (0..<Int64(d.count)).reversed()
        guard isPermutation(perm, rank: d.count) else {
            throw InferenceFailure("perm \(perm) is not a permutation of rank \(d.count)")
        }
        let out = perm.map { d[Int($0)] }
        var value: KnownValue?
        if let v = c.value(0), let sd = staticDims(d), d.count <= 2 {
            value = d.count == 2 && perm == [1, 0] ? transpose2D(v, sd) : v
        }
        return [.tensor(e, out, value: value)]
    }

    /// Whether `perm` holds each of `0..<rank` exactly once.
    static func isPermutation(_ perm: [Int64], rank: Int) -> Bool {
        guard perm.count == rank else { return false }
        var seen = [Bool](repeating: false, count: rank)
        for p in perm {
            guard p >= 0 && p < Int64(rank), !seen[Int(p)] else { return false }
            seen[Int(p)] = true
        }
        return true
    }

    static func transpose2D(_ v: KnownValue, _ d: [Int]) -> KnownValue? {
        guard d[0] * d[1] == v.count else { return nil }
        let idx = (0..<d[1]).flatMap { j in (0..<d[0]).map { i in i * d[1] + j } }
        switch v {
        case .ints(let xs): return .ints(idx.map { xs[$0] })
        case .floats(let xs): return .floats(idx.map { xs[$0] })
        case .partialInts(let xs): return .partialInts(idx.map { xs[$0] })
        }
    }

    static func concat(_ c: RuleContext) throws -> [ValueFacts?] {
        guard c.inputCount > 0 else { throw InferenceFailure("needs at least one input") }
        let e = try c.elementType(0)
        var rank: Int?
        for i in 0..<c.inputCount where c.has(i) { if let d = try c.tensor(i).1 { rank = d.count; break } }
        guard let rank else { return [.tensor(e, nil)] }
        let a = try c.int("axis")
        let axis = try c.axis(a, rank: rank)
        var out = [SymDim?](repeating: nil, count: rank)
        var sum: SymDim? = SymDim(0)
        var parts: [(KnownValue, [Int])] = []
        var allKnown = true
        for i in 0..<c.inputCount where c.has(i) {
            let (ei, di) = try c.tensor(i)
            guard ei == e else { throw InferenceFailure("input \(i) is \(ei.name), input 0 is \(e.name)") }
            guard let di else { sum = nil; allKnown = false; continue }
            guard di.count == rank else { throw InferenceFailure("input \(i) has rank \(di.count), expected \(rank)") }
            for k in 0..<rank where k != axis {
                if out[k] == nil { out[k] = di[k] } else if let x = out[k]?.intValue, let y = di[k]?.intValue, x != y {
                    throw InferenceFailure("input \(i) dim \(k) is \(y), expected \(x)")
                }
            }
            if let s = sum, let x = di[axis] { sum = s + x } else { sum = nil }
            if let v = c.value(i), let sd = staticDims(di) { parts.append((v, sd)) } else if rank == 1, Shapes.isIntegral(e), let n = di[0]?.intValue,
                      n >= 0, n <= Int64(maxKnownElements) {
                // An unknown 1-D piece of known length: its entries are unknown.
                parts.append((.partialInts(Array(repeating: nil, count: Int(n))), [Int(n)]))
            } else { allKnown = false }
        }
        out[axis] = sum
        var value: KnownValue?
        if allKnown, !parts.isEmpty, parts.reduce(0, { $0 + $1.0.count }) <= maxKnownElements {
            let inner = { (d: [Int]) in d[(axis)...].reduce(1, *) }
            let outer = parts[0].1[..<axis].reduce(1, *)
            var ints: [SymDim?] = [], floats: [Double] = [], isInt = true, ok = true
            for o in 0..<outer {
                for (v, d) in parts {
                    let chunk = inner(d)
                    guard v.count == outer * chunk else { ok = false; break }
                    switch v {
                    case .ints(let xs): ints.append(contentsOf: xs[(o * chunk)..<((o + 1) * chunk)].map { Optional($0) })
                    case .partialInts(let xs): ints.append(contentsOf: xs[(o * chunk)..<((o + 1) * chunk)])
                    case .floats(let xs): isInt = false; floats.append(contentsOf: xs[(o * chunk)..<((o + 1) * chunk)])
                    }
                }
            }
            if ok { value = isInt ? KnownValue.ints(partial: ints) : (ints.isEmpty ? .floats(floats) : nil) }
        }
        return [.tensor(e, out, value: value)]
    }

    static func split(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        let n = c.node.outputs.count
        guard let d else { return Array(repeating: .tensor(e, nil), count: n) }
        let axis = try c.axis(try c.int("axis"), rank: d.count)
        var sizes: [SymDim?]
        if c.has(1) {
            // Sizes given at run time: each output keeps the rank, its split size is unknown.
            sizes = c.value(1)?.partialDims ?? Array(repeating: nil, count: n)
        } else if let s = c.attr("split")?.intsValue {
            sizes = s.map { SymDim($0) }
        } else if let parts = c.attrInt("num_outputs"), parts > 0 {
            guard parts == Int64(n) else { throw InferenceFailure("num_outputs is \(parts), the node has \(n) outputs") }
            // The last chunk may be smaller: ceil-sized chunks.
            guard let dim = d[axis] else { return Array(repeating: .tensor(e, nil), count: n) }
            guard let chunk = dim.ceilDiv(SymDim(parts)) else { throw InferenceFailure("num_outputs is 0") }
            sizes = (0..<Int(parts)).map { i in i + 1 < Int(parts) ? chunk : dim - chunk * SymDim(parts - 1) }
        } else {
            guard let dim = d[axis] else { return Array(repeating: .tensor(e, d.enumerated().map { $0.offset == axis ? nil : $0.element }), count: n) }
            guard let q = dim.exactDiv(SymDim(Int64(n))) ?? dim.intValue.flatMap({ $0 % Int64(n) == 0 ? SymDim($0 / Int64(n)) : nil }) else {
                throw InferenceFailure("dim \(dim) does not split evenly into \(n) outputs")
            }
            sizes = Array(repeating: q, count: n)
        }
        guard sizes.count == n else { throw InferenceFailure("\(sizes.count) split sizes for \(n) outputs") }
        var outs: [ValueFacts?] = []
        var offset = 0
        let sd = staticDims(d)
        for s in sizes {
            var od = d
            od[axis] = s
            var value: KnownValue?
            if let v = c.value(0), let sd, let k = s?.intValue, k >= 0, offset + Int(k) <= sd[axis] {
                value = take(v, dims: sd, axis: axis, indices: Array(offset..<(offset + Int(k))))
                offset += Int(k)
            }
            outs.append(.tensor(e, od, value: value))
        }
        return outs
    }

    /// Bound of Slice beyond any real size (INT64_MAX / INT_MAX "to the end").
    static let huge: Int64 = 1 << 31

    /// Slice length along one axis of size `dim`, exact with `min`/`max` where `dim` is symbolic.
    static func sliceLength(_ dim: SymDim, start: SymDim, end: SymDim, step: Int64) -> SymDim? {
        func clampPos(_ v: SymDim, low: SymDim, high: SymDim) -> SymDim? {
            if let k = v.intValue {
                if k >= huge { return high }
                if k <= -huge { return low }
                if k < 0 { return SymDim.maximum(SymDim(k) + dim, low) }
                return SymDim.minimum(SymDim(k), high)
            }
            guard v.isNonNegative else { return nil }
            return SymDim.minimum(v, high)
        }
        if step > 0 {
            guard let s = clampPos(start, low: SymDim(0), high: dim), let e = clampPos(end, low: SymDim(0), high: dim),
                  let n = (e - s).ceilDiv(SymDim(step)) else { return nil }
            return SymDim.maximum(n, SymDim(0))
        }
        guard let s = clampPos(start, low: SymDim(-1), high: dim - SymDim(1)),
              let e = clampPos(end, low: SymDim(-1), high: dim - SymDim(1)),
              let n = (s - e).ceilDiv(SymDim(0 &- step)) else { return nil }
        return SymDim.maximum(n, SymDim(0))
    }

    /// Indices a constant slice selects from `size` elements.
    static func sliceIndices(size: Int, start: Int64, end: Int64, step: Int64) -> [Int] {
        let n = Int64(size)
        var out: [Int] = []
        if step > 0 {
            var s = start < 0 ? max(start + n, 0) : min(start, n)
            let e = end < 0 ? max(end + n, 0) : min(end, n)
            while s < e { out.append(Int(s)); s += step }
        } else {
            var s = start < 0 ? max(start + n, -1) : min(start, n - 1)
            let e = end < 0 ? max(end + n, -1) : min(end, n - 1)
            while s > e { out.append(Int(s)); s += step }
        }
        return out
    }

    static func slice(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        guard let d else { return [.tensor(e, nil)] }
        // Bounds known in part leave the sizes of the axes with an unknown bound unknown.
        let starts: [SymDim?], ends: [SymDim?]
        var axes: [Int64]?, steps: [Int64]?
        if let s = c.ints("starts"), let en = c.ints("ends") {
            starts = s.map { SymDim($0) }; ends = en.map { SymDim($0) }; axes = c.ints("axes")
        } else {
            // Bounds given at run time: the rank stays, the sliced sizes are unknown.
            guard let st = c.value(1)?.partialDims, let en = c.value(2)?.partialDims else {
                return [.tensor(e, Array(repeating: nil, count: d.count))]
            }
            starts = st; ends = en
            if c.has(3) { axes = try c.constInts(3) }
            if c.has(4) { steps = try c.constInts(4) }
        }
        let ax = axes ?? (0..<Int64(starts.count)).map { $0 }
        let st = steps ?? Array(repeating: 1, count: starts.count)
        guard starts.count == ends.count, ax.count == starts.count, st.count == starts.count else {
            throw InferenceFailure("starts, ends, axes and steps differ in length")
        }
        var out = d
        var sd = staticDims(d)
        var value = c.value(0)
        var seen = Set<Int>()
        for k in starts.indices {
            let a = try c.axis(ax[k], rank: d.count)
            guard seen.insert(a).inserted else { throw InferenceFailure("axis \(ax[k]) repeats") }
            guard st[k] != 0 else { throw InferenceFailure("step is 0") }
            guard let start = starts[k], let end = ends[k] else { out[a] = nil; value = nil; continue }
            out[a] = d[a].flatMap { sliceLength($0, start: start, end: end, step: st[k]) }
            if let v = value, let dims = sd, let s = start.intValue, let en = end.intValue {
                let idx = sliceIndices(size: dims[a], start: s, end: en, step: st[k])
                value = take(v, dims: dims, axis: a, indices: idx)
                sd?[a] = idx.count
            } else { value = nil }
        }
        return [.tensor(e, out, value: value)]
    }

    static func gather(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        let (ie, idims) = try c.tensor(1)
        guard ie == .int64 || ie == .int32 else { throw InferenceFailure("indices are \(ie.name), not int32/int64") }
        guard let d, let idims else { return [.tensor(e, nil)] }
        let axis = try c.axis(try c.int("axis"), rank: d.count)
        let out = Array(d[..<axis]) + idims + Array(d[(axis + 1)...])
        var value: KnownValue?
        if let idx = c.value(1)?.constantInts, let size = d[axis]?.intValue {
            var norm: [Int] = []
            for i in idx {
                guard i >= -size && i < size else {
                    throw InferenceFailure("index \(i) is out of range for axis \(axis) of size \(size)")
                }
                norm.append(Int(i < 0 ? i + size : i))
            }
            if let v = c.value(0), let sd = staticDims(d) { value = take(v, dims: sd, axis: axis, indices: norm) }
        }
        return [.tensor(e, out, value: value)]
    }

    static func expand(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        guard let target = c.value(1)?.partialDims else {
            if let sd = try? c.dims(1), sd.count == 1, let n = sd[0]?.intValue, let d, n >= 0, n < 64 {
                return [.tensor(e, Array(repeating: nil, count: max(Int(n), d.count)))]
            }
            throw InferenceFailure("target shape (input 1) is not known", kind: .unknownInput)
        }
        guard let d else { return [.tensor(e, nil)] }
        // An unknown target entry is 1 or the input's size; a known input size other than
        // 1 decides it (`Shapes.broadcastDim`).
        let out = try Shapes.broadcast(d, target)
        var value: KnownValue?
        if let v = c.value(0) { value = ElementwiseRules.foldBroadcastN([v], [d], out) { $0[0] } }
        return [.tensor(e, out, value: value)]
    }

    static func tile(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        guard let d else { return [.tensor(e, nil)] }
        guard let reps = c.value(1)?.partialDims else { return [.tensor(e, Array(repeating: nil, count: d.count))] }
        guard reps.count == d.count else { throw InferenceFailure("\(reps.count) repeats for rank \(d.count)") }
        return [.tensor(e, zip(d, reps).map { x, r in r.flatMap { r in x.map { $0 * r } } })]
    }

    static func pad(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        guard let d else { return [.tensor(e, nil)] }
        let pads: [SymDim?]  // known in part: an axis with an unknown pad has an unknown size
        if let p = c.ints("pads") { pads = p.map { SymDim($0) } } else if let p = c.value(1)?.partialDims { pads = p } else {
            return [.tensor(e, Array(repeating: nil, count: d.count))]  // pads given at run time
        }
        let axes: [Int]
        if c.has(3) {
            var a: [Int] = []
            for x in try c.constInts(3) { a.append(try c.axis(x, rank: d.count)) }
            axes = a
        } else { axes = Array(0..<d.count) }
        guard pads.count == 2 * axes.count else { throw InferenceFailure("\(pads.count) pads for \(axes.count) axes") }
        var out = d
        for (k, a) in axes.enumerated() {
            guard let begin = pads[k], let end = pads[k + axes.count] else { out[a] = nil; continue }
            out[a] = d[a].map { $0 + begin + end }
        }
        return [.tensor(e, out)]
    }

    static func constantOfShape(_ c: RuleContext) throws -> [ValueFacts?] {
        // The fill's element type read in place; the tensor itself is copied only when its
        // contents are needed.
        let e = c.attr("value") { v -> ElementType? in
            if case .tensor(let t) = v { return t.elementType }
            return nil
        } ?? .float
        guard let out = c.value(0)?.partialDims else {
            if let sd = try? c.dims(0), sd.count == 1, let n = sd[0]?.intValue, n >= 0, n < 64 {
                return [.tensor(e, Array(repeating: nil, count: Int(n)))]
            }
            // Shape of unknown length: the fill value still fixes the element type.
            _ = try c.tensor(0)
            return [.tensor(e, nil)]
        }
        var value: KnownValue?
        // The fill is decoded only when the contents are small enough to keep (weights made by
        // ConstantOfShape are not).
        if let n = Shapes.count(out), n <= maxKnownElements, Shapes.isIntegral(e) || n <= maxKnownFloats {
            let given = c.attr("value") { v -> Tensor? in
                if case .tensor(let t) = v { return t }
                return nil
            }
            let fill = given.flatMap { InferenceEngine.facts(of: $0).value } ?? .floats([0])
            switch fill {
            case .ints(let x) where x.count == 1: value = .ints(Array(repeating: x[0], count: n))
            case .floats(let x) where x.count == 1 && n <= maxKnownFloats: value = .floats(Array(repeating: x[0], count: n))
            default: break
            }
        }
        return [.tensor(e, out, value: value)]
    }

    static func range(_ c: RuleContext) throws -> [ValueFacts?] {
        let e = try c.elementType(0)
        guard let s = c.value(0), let l = c.value(1), let dl = c.value(2), s.count == 1, l.count == 1, dl.count == 1 else {
            return [.tensor(e, [nil])]
        }
        if let a = s.doubles?[0], let b = l.doubles?[0], let st = dl.doubles?[0] {
            guard st != 0 else { throw InferenceFailure("delta is 0") }
            let q = ((b - a) / st).rounded(.up)
            guard q.isFinite, q < 9e18 else { throw InferenceFailure("range of \(q) elements") }
            let n = max(Int64(q), 0)
            var value: KnownValue?
            if n <= Int64(maxKnownElements) {
                if Shapes.isIntegral(e) {
                    value = .ints((0..<n).map { SymDim(Int64(a) + $0 * Int64(st)) })
                } else {
                    value = .floats((0..<n).map { a + Double($0) * st })
                }
            }
            return [.tensor(e, [SymDim(n)], value: value)]
        }
        // Symbolic bounds with a constant positive step: ceil((limit - start)/delta), at least 0.
        if let a = s.dims?[0], let b = l.dims?[0], let st = dl.constantInts?[0], st > 0,
           let n = (b - a).ceilDiv(SymDim(st)) {
            return [.tensor(e, [SymDim.maximum(n, SymDim(0))])]
        }
        return [.tensor(e, [nil])]
    }

    static func constant(_ c: RuleContext) throws -> [ValueFacts?] {
        // The common form first, read in place: no copy of the attribute or its tensor, and
        // none of the general tuple match's string comparisons.
        if let f = c.node.attributes.withUnsafeBufferPointer({ buf -> ValueFacts? in
            guard let a = buf.baseAddress, !buf.isEmpty, sameName(a.pointee.name, "value"),
                  case .tensor(let t) = a.pointee.value else { return nil }
            return InferenceEngine.facts(of: t)
        }) { return [f] }
        guard let a = c.node.attributes.first else { throw InferenceFailure("no value attribute") }
        switch (a.name, a.value) {
        case ("value", .tensor(let t)): return [InferenceEngine.facts(of: t)]
        case ("sparse_value", .sparseTensor(let t)): return [.tensor(t.values.elementType, Shapes.dims(t.dims))]
        case ("value_int", .int(let v)): return [.tensor(.int64, [], value: .ints([SymDim(v)]))]
        case ("value_ints", .ints(let v)):
            return [.tensor(.int64, [SymDim(Int64(v.count))], value: v.count <= maxKnownElements ? .ints(v.map { SymDim($0) }) : nil)]
        case ("value_float", .float(let v)): return [.tensor(.float, [], value: .floats([Double(v)]))]
        case ("value_floats", .floats(let v)):
            return [.tensor(.float, [SymDim(Int64(v.count))], value: v.count <= maxKnownFloats ? .floats(v.map { Double($0) }) : nil)]
        case ("value_string", _): return [.tensor(.string, [])]
        case ("value_strings", .strings(let v)): return [.tensor(.string, [SymDim(Int64(v.count))])]
        default: throw InferenceFailure("unsupported value attribute '\(a.name)'")
        }
    }
}
