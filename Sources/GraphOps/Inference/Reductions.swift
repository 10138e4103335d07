/// Rules for the Reduce* ops: axes from the attribute or input 1, `keepdims`, and
/// `noop_with_empty_axes` (empty axes reduce nothing when set, everything otherwise), with
/// folding of known integer contents along exactly those axes (`ReduceProd` of a shape slice
/// is an element count).
import GraphIR

enum ReductionRules {
    static func register(_ t: inout [String: InferenceRule]) {
        for op in ["ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
                   "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"] {
            t[op] = reduce
        }
    }

    static func reduce(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        var axes: [Int64]? = c.ints("axes")
        if axes == nil, c.has(1) {
            guard let v = c.value(1)?.constantInts else {
                let keep = try c.int("keepdims") != 0
                return [.tensor(e, keep ? d.map { Array(repeating: nil, count: $0.count) } : nil)]
            }
            axes = v
        }
        let keep = try c.int("keepdims") != 0
        let noop = (c.attrInt("noop_with_empty_axes") ?? 0) != 0
        guard let d else { return [.tensor(e, nil)] }
        if (axes ?? []).isEmpty && noop { return [.tensor(e, d, value: c.value(0))] }
        // Reduced positions as flags (a set is built only for folding known contents).
        var reduced = [Bool](repeating: axes?.isEmpty ?? true, count: d.count)
        if let axes, !axes.isEmpty {
            for a in axes { reduced[try c.axis(a, rank: d.count)] = true }
        }
        var out: [SymDim?] = []
        out.reserveCapacity(d.count)
        for (i, x) in d.enumerated() {
            if reduced[i] { if keep { out.append(SymDim(1)) } } else { out.append(x) }
        }
        var value: KnownValue?
        if case .ints(let xs)? = c.value(0), let sd = ShapeOpRules.staticDims(d), sd.reduce(1, *) == xs.count {
            value = fold(c.node.opType, xs, sd, Set(d.indices.filter { reduced[$0] }))
        }
        return [.tensor(e, out, value: value)]
    }

    /// Reduces row-major `xs` of shape `dims` over `axes` (Sum, Prod, Max, Min only).
    static func fold(_ op: String, _ xs: [SymDim], _ dims: [Int], _ axes: Set<Int>) -> KnownValue? {
        let combine: (SymDim, SymDim) -> SymDim
        switch op {
        case "ReduceSum": combine = { $0 + $1 }
        case "ReduceProd": combine = { $0 * $1 }
        case "ReduceMax": combine = { SymDim.maximum($0, $1) }
        case "ReduceMin": combine = { SymDim.minimum($0, $1) }
        default: return nil
        }
        let outDims = dims.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let n = outDims.reduce(1, *)
        var acc = [SymDim?](repeating: nil, count: n)
        for flat in xs.indices {
            var rem = flat, outIndex = 0, step = 1
            for k in Swift.stride(from: dims.count - 1, through: 0, by: -1) {
                let coord = rem % max(dims[k], 1)
                rem /= max(dims[k], 1)
                if !axes.contains(k) { outIndex += coord * step }
                step *= outDims[k]
            }
            acc[outIndex] = acc[outIndex].map { combine($0, xs[flat]) } ?? xs[flat]
        }
        // An empty reduction has no identity for Max/Min; Sum and Prod have one.
        var out: [SymDim] = []
        for a in acc {
            if let a { out.append(a) } else if op == "ReduceSum" { out.append(SymDim(0)) } else if op == "ReduceProd" {
                out.append(SymDim(1))
            } else { return nil }
        }
        return .ints(out)
    }
}
