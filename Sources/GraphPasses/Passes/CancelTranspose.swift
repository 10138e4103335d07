/// Transposes and reshapes that follow each other merged: Transpose∘Transpose becomes one
/// Transpose of the composed permutation, or nothing when it is the identity; a Reshape to a
/// constant shape (no 0 entry copying an input dim) after a Reshape, Flatten, Squeeze or
/// Unsqueeze reads the first one's input instead, since a reshape depends on the element count
/// only; Unsqueeze∘Unsqueeze becomes one Unsqueeze, and two Slices of constant bounds on
/// different axes one Slice. The first node goes when nothing else reads it; when it has other readers only the
/// second is changed. `fuse=false` on either node keeps both as they are.
import GraphEditing
import GraphIR

public struct CancelTranspose: Pass {
    public init() {}
    public let name = "cancel-transpose"
    public let doc = "Cancel or merge Transpose, Unsqueeze and Slice (different axes) pairs; merge Reshape/Flatten/Squeeze/Unsqueeze followed by a Reshape to a constant shape"

    static let reshapeLike: Set<String> = ["Reshape", "Flatten", "Squeeze", "Unsqueeze"]

    public func run(_ ctx: inout PassContext) throws -> Bool {
        var changed = false
        for id in ctx.graph.nodes.map(\.id) {
            guard let n = ctx.graph.node(id), n.domain.isEmpty || n.domain == "ai.onnx", let x = n.inputs.first, !x.isEmpty,
                  let first = ctx.graph.producerNode(of: x), first.domain.isEmpty || first.domain == "ai.onnx",
                  let src = first.inputs.first, !src.isEmpty else { continue }
            if n.opType == "Transpose" && first.opType == "Transpose" {
                guard let p = perm(first, ctx), let q = perm(n, ctx), p.count == q.count, q.allSatisfy({ $0 >= 0 && Int($0) < p.count }) else {
                    ctx.nearMiss(pattern: "transpose∘transpose", root: id, condition: "a permutation is not known", at: id, matched: [first.id, id])
                    continue
                }
                let composed = q.map { p[Int($0)] }
                if try merge(first, n, &ctx, identity: composed.enumerated().allSatisfy { Int64($0.offset) == $0.element },
                             replacement: [Attribute("perm", .ints(composed))]) { changed = true }
            } else if n.opType == "Reshape" && Self.reshapeLike.contains(first.opType) {
                guard n.inputs.count > 1, let shape = ctx.constantInts(n.inputs[1]) else {
                    ctx.nearMiss(pattern: "reshape∘reshape", root: id, condition: "the second shape is not constant", at: id, matched: [first.id, id])
                    continue
                }
                let allowZero = n.attribute("allowzero")?.intValue == 1
                // A 0 entry copies the intermediate's dim: still right when the first input has
                // the same dim there, or it becomes that dim's size when known.
                var resolved = shape
                let mid = ctx.dims(x), inDims = ctx.dims(src)
                for (i, v) in resolved.enumerated() where v == 0 && !allowZero {
                    guard let mid, i < mid.count, let d = mid[i] else { resolved = []; break }
                    if let inDims, i < inDims.count, inDims[i] == d { continue }
                    guard let k = d.intValue else { resolved = []; break }
                    resolved[i] = k
                }
                guard !resolved.isEmpty else {
                    ctx.nearMiss(pattern: "reshape∘reshape", root: id, condition: "the second shape copies a dim (0 entry) the first input lacks", at: id, matched: [first.id, id])
                    continue
                }
                var rest = Array(n.inputs.array.dropFirst())
                if resolved != shape {
                    rest[0] = ctx.tx.freshValueName(n.inputs[1])
                    try setInitializer(Tensor(name: rest[0], int64s: resolved, dims: [Int64(resolved.count)]), &ctx)
                }
                if try merge(first, n, &ctx, identity: false, replacement: n.attributes, rest: rest) { changed = true }
            } else if n.opType == "Slice" && first.opType == "Slice" && ctx.onnxOpset >= 10 {
                guard let a = sliceParams(first, ctx), let b = sliceParams(n, ctx), Set(a.axes).isDisjoint(with: b.axes) else {
                    ctx.nearMiss(pattern: "slice∘slice", root: id, condition: "the slices are not constant or share an axis", at: id, matched: [first.id, id])
                    continue
                }
                var rest: [String] = []
                for (k, values) in [a.starts + b.starts, a.ends + b.ends, a.axes + b.axes, a.steps + b.steps].enumerated() {
                    let name = ctx.tx.freshValueName(["starts", "ends", "axes", "steps"][k])
                    try setInitializer(Tensor(name: name, int64s: values, dims: [Int64(values.count)]), &ctx)
                    rest.append(name)
                }
                if try merge(first, n, &ctx, identity: false, replacement: n.attributes, rest: rest) { changed = true }
            } else if n.opType == "Unsqueeze" && first.opType == "Unsqueeze" {
                let opset13 = ctx.onnxOpset >= 13
                let c = ctx
                let axesOf: (Node) -> [Int64]? = { u in
                    opset13 ? (u.inputs.count > 1 ? c.constantInts(u.inputs[1]) : nil) : u.attribute("axes")?.intsValue
                }
                guard let a = axesOf(first), let b = axesOf(n), let r = ctx.rank(src),
                      let axes = Self.composeUnsqueeze(rank: r, a, b) else {
                    ctx.nearMiss(pattern: "unsqueeze∘unsqueeze", root: id, condition: "the axes or the input rank are not known", at: id, matched: [first.id, id])
                    continue
                }
                var rest: [String] = []
                var attrs = n.attributes
                if opset13 {
                    rest = [ctx.tx.freshValueName(n.inputs[1])]
                    try setInitializer(Tensor(name: rest[0], int64s: axes, dims: [Int64(axes.count)]), &ctx)
                } else {
                    attrs = [Attribute("axes", .ints(axes))]
                }
                if try merge(first, n, &ctx, identity: false, replacement: attrs, rest: rest) { changed = true }
            }
        }
        return changed
    }

    /// The axes of one Unsqueeze doing what Unsqueeze(axes a) then Unsqueeze(axes b) do to a
    /// tensor of rank `rank` (nil for bad axes).
    static func composeUnsqueeze(rank: Int, _ a: [Int64], _ b: [Int64]) -> [Int64]? {
        func insert(_ dims: [Bool], _ axes: [Int64]) -> [Bool]? {
            let out = dims.count + axes.count
            let at = Set(axes.map { $0 < 0 ? Int($0) + out : Int($0) })
            guard at.count == axes.count, at.allSatisfy({ $0 >= 0 && $0 < out }) else { return nil }
            var rest = dims[...]
            return (0..<out).map { at.contains($0) ? true : rest.popFirst() ?? false }
        }
        guard let once = insert(Array(repeating: false, count: rank), a), let twice = insert(once, b) else { return nil }
        return twice.enumerated().filter(\.element).map { Int64($0.offset) }
    }

    func setInitializer(_ t: Tensor, _ ctx: inout PassContext) throws {
        try ctx.tx.apply(.setInitializer(t))
        if ctx.model.irVersion < 4 { try ctx.tx.apply(.addInput(name: t.name, type: t.valueType)) }
    }

    /// A Slice's constant starts, ends, axes (made non-negative) and steps.
    func sliceParams(_ n: Node, _ ctx: PassContext) -> (starts: [Int64], ends: [Int64], axes: [Int64], steps: [Int64])? {
        func ints(_ k: Int) -> [Int64]? {
            guard k < n.inputs.count, !n.inputs[k].isEmpty, let t = ctx.constant(n.inputs[k]) else { return nil }
            return try? t.int64Values()
        }
        guard let starts = ints(1), let ends = ints(2), starts.count == ends.count, let r = ctx.rank(n.inputs[0]) else { return nil }
        let axes = (ints(3) ?? (0..<Int64(starts.count)).map { $0 }).map { $0 < 0 ? $0 + Int64(r) : $0 }
        let steps = ints(4) ?? Array(repeating: 1, count: starts.count)
        guard axes.count == starts.count, steps.count == starts.count, Set(axes).count == axes.count,
              axes.allSatisfy({ $0 >= 0 && $0 < Int64(r) }) else { return nil }
        return (starts, ends, axes, steps)
    }

    /// The permutation of a Transpose (its default reverses the axes of an input of known rank).
    func perm(_ n: Node, _ ctx: PassContext) -> [Int64]? {
        if let p = n.attribute("perm")?.intsValue { return p }
        guard let r = ctx.rank(n.inputs[0]) else { return nil }
        return (0..<Int64(r)).reversed()
    }

    /// Makes `second` read `first`'s input (dropping `second` when the pair is the identity),
    /// and removes `first` when nothing else reads it.
    func merge(_ first: Node, _ second: Node, _ ctx: inout PassContext, identity: Bool, replacement: [Attribute], rest: [String]? = nil) throws -> Bool {
        guard ctx.mayFuse(first.id), ctx.mayFuse(second.id) else {
            ctx.nearMiss(pattern: "\(first.opType.lowercased())∘\(second.opType.lowercased())", root: second.id,
                         condition: "annotation fuse=false or keep=true, or outside scope", at: ctx.mayFuse(second.id) ? first.id : second.id, matched: [first.id, second.id])
            return false
        }
        let src = first.inputs[0], y = second.outputs[0], t = first.outputs[0]
        let firstGoes = ctx.hasSingleUse(t)
        if identity {
            guard !ctx.isGraphOutput(y) else { return false }
            try ctx.tx.apply(.replaceUses(of: y, with: src))
            try ctx.tx.apply(.removeNode(second.id))
            if firstGoes { try ctx.tx.apply(.removeNode(first.id)) }
            ctx.record(removed: firstGoes ? [first, second] : [second], created: [])
            return true
        }
        if firstGoes {
            let inputs = [src] + (rest ?? Array(second.inputs.array.dropFirst()))
            let made = NewNode(opType: second.opType, name: second.name, inputs: inputs, outputs: [y], attributes: replacement)
            return try PatternRewriter.with(&ctx, pattern: "\(first.opType.lowercased())∘\(second.opType.lowercased())", root: second.id) { r in
                try r.replace([first.id, second.id], with: [made])
            }.applied
        }
        try ctx.tx.apply(.setInput(node: second.id, index: 0, value: src))
        for (k, v) in (rest ?? []).enumerated() where second.inputs[k + 1] != v {
            try ctx.tx.apply(.setInput(node: second.id, index: k + 1, value: v))
        }
        for a in replacement where second.attribute(a.name) != a.value {
            try ctx.tx.apply(.setAttribute(node: second.id, name: a.name, value: a.value))
        }
        return true
    }
}
