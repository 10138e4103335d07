/// Multi-head attention written out → one attention node. The core, from the Softmax root:
/// MatMul(Q, Kᵀ) with a constant scale (Div or Mul on the scores, or Mul on Q and on K
/// separately), an optional additive mask (Add), Softmax over the last axis of the rank-4
/// scores, an optional NaN guard Where(IsNaN(P), 0, P) (the SDPA export's), and MatMul(P, V).
/// Kᵀ is a Transpose of K's last two axes, a Transpose [0,2,3,1] of K as [B, T, H, D], or the
/// dynamo exporter's Reshape-Transpose-Reshape through [B·H, T, D]. K and V repeated per group
/// of query heads (repeat_kv's Unsqueeze-Expand-Reshape) become grouped-query attention
/// (kv_num_heads, or fewer heads in K and V than in Q on 4-D inputs).
///
/// When Q, K and V are split into heads from 3-D values (Reshape [B, S, H, D] + Transpose
/// [0,2,1,3]) and the result is merged back (Transpose [0,2,1,3] + Reshape [B, S, H·D]), the
/// whole block becomes ONNX Attention (opset 23, raised when the model allows) on the 3-D
/// values with q_num_heads/kv_num_heads, or for `target=ort` com.microsoft MultiHeadAttention;
/// a packed projection cut into Q, K and V (SVTR: Reshape [B, S, 3, H, D], Transpose
/// [2,0,3,1,4], Slice + Squeeze or Gather) becomes a Split of it feeding the same node.
/// Otherwise the core becomes Attention on the 4-D tensors. The scale is explicit.
///
/// What is fused computes the same: heads and head sizes must be proven from the shapes, a
/// mask must cover [query, key] exactly (onnxruntime takes no broadcast there), and the NaN
/// guard is dropped only where nothing differs: the mask is provably finite (no row can be
/// fully masked), or the op maps fully masked rows to 0 as the guard does (onnxruntime's
/// Attention; not its MultiHeadAttention, which then gives NaN: such blocks become Attention).
/// Matched by structure, never names.
import GraphEditing
import GraphIR
import GraphOps

public struct FuseAttention: Pass {
    public init() {}
    public let name = "fuse-attention"
    public let doc = "Fuse MatMul-(scale)-(mask)-Softmax-MatMul attention and its head reshapes into Attention (opset 23; com.microsoft MultiHeadAttention for target=ort)"
    public func run(_ ctx: inout PassContext) throws -> Bool {
        try PatternPass(name: name, doc: doc, patterns: [AttentionPattern()]).run(&ctx)
    }
}

/// The node making `v` when it is a default-domain op of `ops`.
private func made(_ g: Graph, _ v: String, _ ops: Set<String>) -> Node? {
    guard let n = g.producerNode(of: v), ops.contains(n.opType), n.domain.isEmpty || n.domain == "ai.onnx" else { return nil }
    return n
}

struct AttentionPattern: RewritePattern {
    let name = "attention"
    let rootOps: Set<String> = ["Softmax"]

    /// `v` = x · c, c · x or x / c for a constant scalar c (read once unless `anyUse`: the
    /// rewrite then reports a second reader): (x, the factor, the node).
    static func scaled(_ v: String, _ ctx: PassContext, anyUse: Bool = false) -> (x: String, factor: Double, node: Node)? {
        guard let n = made(ctx.graph, v, ["Mul", "Div"]), n.inputs.count == 2, anyUse || ctx.hasSingleUse(v) else { return nil }
        if n.opType == "Div" {
            guard let c = ctx.scalar(n.inputs[1]), c != 0, ctx.constant(n.inputs[0]) == nil else { return nil }
            return (n.inputs[0], 1 / c, n)
        }
        if let c = ctx.scalar(n.inputs[1]), ctx.constant(n.inputs[0]) == nil { return (n.inputs[0], c, n) }
        if let c = ctx.scalar(n.inputs[0]), ctx.constant(n.inputs[1]) == nil { return (n.inputs[1], c, n) }
        return nil
    }

    /// True when every value of the mask `v` is finite, by its making: constants, Where of
    /// finite branches, integer or bool casts, and ops that only move values.
    static func finite(_ v: String, _ ctx: PassContext, depth: Int = 0) -> Bool {
        guard depth < 12 else { return false }
        if let t = ctx.constant(v) {
            guard t.elementType == .float || t.elementType == .double || t.elementType == .float16 else { return true }
            guard let xs = ctx.constantDoubles(v, limit: 1 << 20) else { return false }
            return xs.allSatisfy(\.isFinite)
        }
        guard let n = made(ctx.graph, v, ["Where", "Cast", "Expand", "Reshape", "Unsqueeze", "Squeeze", "Transpose", "Slice",
                                          "Gather", "Identity", "Tile", "Flatten"]) else { return false }
        switch n.opType {
        case "Where": return n.inputs.count == 3 && finite(n.inputs[1], ctx, depth: depth + 1) && finite(n.inputs[2], ctx, depth: depth + 1)
        case "Cast":
            let from = ctx.elementType(n.inputs[0])
            if let from, from != .float, from != .double, from != .float16, from != .bfloat16 { return true }
            return finite(n.inputs[0], ctx, depth: depth + 1)
        default: return finite(n.inputs[0], ctx, depth: depth + 1)
        }
    }

    /// How Kᵀ is made from K.
    enum Key {
        /// K as [B, H, T, D] (Kᵀ a Transpose [0,1,3,2] or the Reshape-Transpose-Reshape form).
        case heads(String)
        /// K as [B, T, H, D] (Kᵀ a Transpose [0,2,3,1]).
        case sequenceFirst(String)
    }

    /// Kᵀ back to K: the nodes on the way, the scale met (a Mul on K before its transpose).
    static func keyOf(_ kt: String, _ r: inout PatternRewriter) -> (key: Key, nodes: [Node], factor: Double)? {
        let ctx = r.context
        guard let t = made(r.graph, kt, ["Transpose", "Reshape"]) else {
            r.fail("Kᵀ is not made by a Transpose of K", at: r.graph.producerNode(of: kt)?.id ?? r.root)
            return nil
        }
        if t.opType == "Transpose" {
            let perm = t.attribute("perm")?.intsValue ?? []
            var src = t.inputs[0], nodes = [t], factor = 1.0
            if let s = scaled(src, ctx) { nodes.append(s.node); factor = s.factor; src = s.x }
            switch perm {
            case [0, 1, 3, 2]: return (.heads(src), nodes, factor)
            case [0, 2, 3, 1]: return (.sequenceFirst(src), nodes, factor)
            default:
                r.fail("K's Transpose has perm \(perm), not [0, 1, 3, 2] or [0, 2, 3, 1]", at: t.id)
                return nil
            }
        }
        // Reshape(Transpose [0,2,1] (Reshape(K to [B·H, T, D])) to [B, H, D, T]).
        guard let t3 = made(r.graph, t.inputs[0], ["Transpose"]), t3.attribute("perm")?.intsValue == [0, 2, 1],
              let r1 = made(r.graph, t3.inputs[0], ["Reshape"]), ctx.hasSingleUse(t.inputs[0]), ctx.hasSingleUse(t3.inputs[0]) else {
            r.fail("Kᵀ is a Reshape, but not of a [0, 2, 1] Transpose of a Reshape of K, each read once", at: t.id)
            return nil
        }
        let k = r1.inputs[0]
        guard let kd = ctx.dims(k), kd.count == 4, let d1 = ctx.dims(r1.outputs[0]), d1.count == 3, let d2 = ctx.dims(kt), d2.count == 4,
              knownEqual([d1[1], d1[2]], [kd[2], kd[3]]), knownEqual([d2[2], d2[3]], [kd[3], kd[2]]),
              knownEqual([d2[0]], [kd[0]]) || knownEqual([d2[1]], [kd[1]]) else {
            r.fail("the Reshape-Transpose-Reshape of K is not proven to swap K's last two axes (shapes unknown or different)", at: t.id)
            return nil
        }
        return (.heads(k), [t, t3, r1], 1)
    }

    /// A [B, S, H, D] value split from a 3-D [B, S, H·D] one by a Reshape: (the 3-D value, the
    /// Reshape when nothing else reads its result (else it stays, for its other readers), H, D).
    static func splitOf(_ x: String, _ ctx: PassContext) -> (x3: String, nodes: [Node], heads: Int64, size: Int64)? {
        guard let rs = made(ctx.graph, x, ["Reshape"]), let inD = ctx.dims(rs.inputs[0]), inD.count == 3,
              let outD = ctx.dims(x), outD.count == 4, let h = outD[2]?.intValue, let d = outD[3]?.intValue,
              inD[2]?.intValue == h * d, knownEqual([outD[0], outD[1]], [inD[0], inD[1]]) else { return nil }
        return (rs.inputs[0], ctx.hasSingleUse(x) ? [rs] : [], h, d)
    }

    /// A [B, H, S, D] value made by Transpose [0,2,1,3] of a split 3-D value; the Transpose and
    /// Reshape are removed when the match is their only reader (a Shape of them, as the dynamo
    /// exporter writes, keeps them until dead-code elimination).
    static func headsOf(_ x: String, _ ctx: PassContext) -> (x3: String, nodes: [Node], heads: Int64, size: Int64)? {
        guard let t = made(ctx.graph, x, ["Transpose"]), t.attribute("perm")?.intsValue == [0, 2, 1, 3],
              let s = splitOf(t.inputs[0], ctx) else { return nil }
        return (s.x3, ctx.hasSingleUse(x) ? [t] + s.nodes : [], s.heads, s.size)
    }

    /// A [B, H, T, D] value repeating each head of a [B, Hk, T, D] one n times in a row, as
    /// transformers' repeat_kv writes it (Unsqueeze at axis 2, Expand to [B, Hk, n, T, D],
    /// Reshape): ONNX Attention's grouping of query heads over kv heads. (the source, the nodes
    /// to remove when nothing else reads them, Hk).
    static func repeated(_ x: String, _ ctx: PassContext) -> (source: String, nodes: [Node], kvHeads: Int64)? {
        guard let rs = made(ctx.graph, x, ["Reshape"]), let e = made(ctx.graph, rs.inputs[0], ["Expand"]),
              let u = made(ctx.graph, e.inputs[0], ["Unsqueeze"]) else { return nil }
        var axes = u.attribute("axes")?.intsValue
        if axes == nil, u.inputs.count > 1 { axes = ctx.constantInts(u.inputs[1]) }
        guard axes == [2] || axes == [-3], let sd = ctx.dims(u.inputs[0]), sd.count == 4, let ed = ctx.dims(e.outputs[0]), ed.count == 5,
              let rd = ctx.dims(x), rd.count == 4, let hk = sd[1]?.intValue, let n = ed[2]?.intValue,
              knownEqual([ed[0], ed[1], ed[3], ed[4]], sd), rd[1]?.intValue == hk * n,
              knownEqual([rd[0], rd[2], rd[3]], [sd[0], sd[2], sd[3]]) else { return nil }
        let removable = ctx.hasSingleUse(x) && ctx.hasSingleUse(rs.inputs[0]) && ctx.hasSingleUse(e.inputs[0])
        return (u.inputs[0], removable ? [rs, e, u] : [], hk)
    }

    /// Q, K or V [B, H, S, D] cut from a packed [B, S, 3·H·D] projection as SVTR writes it:
    /// Reshape to [B, S, 3, H, D], Transpose [2,0,3,1,4], then Slice [i, i+1) + Squeeze of axis
    /// 0, or Gather i on axis 0. Part i is the i-th third of the last axis split into heads.
    /// (the packed value, i, H, D, the nodes of this part, the shared Reshape and Transpose
    /// when the three parts are their only readers).
    static func packedOf(_ x: String, _ ctx: PassContext) -> (x3: String, index: Int, heads: Int64, size: Int64, nodes: [Node], shared: [Node])? {
        guard ctx.hasSingleUse(x), let n = made(ctx.graph, x, ["Squeeze", "Gather"]) else { return nil }
        var nodes = [n]
        let index: Int64
        let stacked: String
        if n.opType == "Gather" {
            guard (n.attribute("axis")?.intValue ?? 0) == 0, let t = ctx.constant(n.inputs[1]), t.dims.isEmpty,
                  let i = (try? t.int64Values())?.first else { return nil }
            index = i
            stacked = n.inputs[0]
        } else {
            var axes = n.attribute("axes")?.intsValue
            if axes == nil, n.inputs.count > 1 { axes = ctx.constantInts(n.inputs[1]) }
            guard axes == [0], ctx.hasSingleUse(n.inputs[0]), let sl = made(ctx.graph, n.inputs[0], ["Slice"]), sl.inputs.count >= 3,
                  let st = ctx.constantDoubles(sl.inputs[1]), let en = ctx.constantDoubles(sl.inputs[2]), st.count == 1, en.count == 1,
                  en[0] == st[0] + 1, st[0] >= 0 else { return nil }
            let ax = sl.inputs.count > 3 && !sl.inputs[3].isEmpty ? ctx.constantDoubles(sl.inputs[3]) : [0]
            let steps = sl.inputs.count > 4 && !sl.inputs[4].isEmpty ? ctx.constantDoubles(sl.inputs[4]) : [1]
            guard ax == [0], steps == [1] else { return nil }
            index = Int64(st[0])
            nodes.append(sl)
            stacked = sl.inputs[0]
        }
        guard index >= 0, index < 3, let t5 = made(ctx.graph, stacked, ["Transpose"]), t5.attribute("perm")?.intsValue == [2, 0, 3, 1, 4],
              let rs = made(ctx.graph, t5.inputs[0], ["Reshape"]), let inD = ctx.dims(rs.inputs[0]), inD.count == 3,
              let outD = ctx.dims(t5.inputs[0]), outD.count == 5, outD[2]?.intValue == 3, let h = outD[3]?.intValue, let d = outD[4]?.intValue,
              inD[2]?.intValue == 3 * h * d, knownEqual([outD[0], outD[1]], [inD[0], inD[1]]) else { return nil }
        let alone = ctx.hasSingleUse(t5.inputs[0]) && !ctx.isGraphOutput(stacked) && ctx.consumers(stacked).count == 3
        return (rs.inputs[0], Int(index), h, d, nodes, alone ? [t5, rs] : [])
    }

    /// The heads of `a` [B, H, S, Dv] merged back: Transpose [0,2,1,3], read only by Reshapes,
    /// one of which may make [B, S, H·Dv] (`width`): its output is the merged value (`out`; nil:
    /// none does, a fresh value is made). The other Reshapes (GPT-2 reshapes to [-1, E] for its
    /// projection) read the same elements in the same order from the merged value, so they are
    /// remade on it, when their shape is a constant whose zeros (copy a dim) sit where both
    /// have the same dims (batch, sequence).
    static func merge(_ a: String, width: Int64, _ ctx: PassContext) -> (out: String?, nodes: [Node], rereads: [Node])? {
        guard ctx.hasSingleUse(a), let t = ctx.consumers(a).first.flatMap({ ctx.graph.node($0) }), t.opType == "Transpose", t.domain.isEmpty,
              t.attribute("perm")?.intsValue == [0, 2, 1, 3], !ctx.isGraphOutput(t.outputs[0]), let td = ctx.dims(t.outputs[0]), td.count == 4,
              td[2].flatMap(\.intValue).map({ $0 * (td[3]?.intValue ?? 0) }) == width else { return nil }
        let readers = ctx.consumers(t.outputs[0]).compactMap { ctx.graph.node($0) }
        guard !readers.isEmpty, readers.allSatisfy({ $0.opType == "Reshape" && $0.domain.isEmpty && $0.inputs[0] == t.outputs[0] }) else { return nil }
        let main = readers.first { rs in
            guard let od = ctx.dims(rs.outputs[0]), od.count == 3 else { return false }
            return od[2]?.intValue == width && knownEqual([od[0], od[1]], [td[0], td[1]])
        }
        var rereads: [Node] = []
        for rs in readers where rs.id != main?.id {
            guard rs.inputs.count == 2, let shape = ctx.constant(rs.inputs[1]), let dims = try? shape.int64Values(),
                  dims.enumerated().allSatisfy({ $0.element != 0 || ($0.offset < 2 && (rs.attribute("allowzero")?.intValue ?? 0) == 0) }) else { return nil }
            rereads.append(rs)
        }
        return (main?.outputs[0], [t] + readers, rereads)
    }

    func matchAndRewrite(_ sm: Node, _ r: inout PatternRewriter) throws -> Bool {
        // Matching reads the graph through a copy of the context; it must be gone before the
        // edits, or the first edit would copy the whole graph.
        guard let plan = Self.plan(sm, &r) else { return false }
        return try r.replace(plan.parts, with: plan.adding)
    }

    /// What to remove and add for the block rooted at Softmax `sm`, or nil (after `fail`).
    static func plan(_ sm: Node, _ r: inout PatternRewriter) -> (parts: [NodeID], adding: [NewNode])? {
        let ctx = r.context
        guard let scores = sm.inputs.first, let sd = ctx.dims(scores) else { r.fail("the scores' shape is unknown", at: sm.id); return nil }
        let axis = sm.attribute("axis")?.intValue ?? (ctx.onnxOpset < 13 ? 1 : -1)
        guard r.require(sd.count == 4, "Softmax's input is of rank \(sd.count), not 4 (batch, heads, query, key)", at: sm.id),
              r.require(axis == -1 || axis == 3, "Softmax is not over the last axis (axis \(axis))", at: sm.id),
              r.require(ctx.elementType(scores) == .float, "the scores are not float32", at: sm.id) else { return nil }
        var parts: [Node] = [sm]
        var scale = 1.0
        var s = scores
        var mask: String?
        // The mask: Add(scores, mask), the scores side leading to the Q·Kᵀ MatMul.
        if let add = made(r.graph, s, ["Add"]) {
            r.take(add)
            let c = ctx
            func product(_ x: String) -> Bool {
                made(c.graph, x, ["MatMul"]) != nil || (scaled(x, c, anyUse: true).map { made(c.graph, $0.x, ["MatMul"]) != nil } ?? false)
            }
            guard add.inputs.count == 2, let k = add.inputs.firstIndex(where: product) else {
                r.fail("the Add before Softmax does not add to a Q·Kᵀ MatMul", at: add.id); return nil
            }
            mask = add.inputs[1 - k]
            s = add.inputs[k]
            parts.append(add)
        }
        if let sc = scaled(s, ctx, anyUse: true) { r.take(sc.node); parts.append(sc.node); scale *= sc.factor; s = sc.x }
        guard let qk = r.producer(of: s, ["MatMul"], from: parts.last?.id) else { return nil }
        r.take(qk)
        parts.append(qk)
        var q = qk.inputs[0]
        if let sc = scaled(q, ctx) { r.take(sc.node); parts.append(sc.node); scale *= sc.factor; q = sc.x }
        var kt = qk.inputs[1]
        if let sc = scaled(kt, ctx) { r.take(sc.node); parts.append(sc.node); scale *= sc.factor; kt = sc.x }
        guard let key = keyOf(kt, &r) else { return nil }
        for n in key.nodes { r.take(n) }
        parts += key.nodes
        scale *= key.factor
        // After Softmax: the optional NaN guard, then MatMul(P, V).
        var p = sm.outputs[0]
        var guarded = false
        let uses = r.graph.uses(of: p).compactMap { r.graph.node($0.node) }
        if uses.count == 2, let isnan = uses.first(where: { $0.opType == "IsNaN" }), let wh = uses.first(where: { $0.opType == "Where" }) {
            r.take(isnan); r.take(wh)
            guard r.require(ctx.hasSingleUse(isnan.outputs[0]) && wh.inputs.count == 3 && wh.inputs[0] == isnan.outputs[0] && wh.inputs[2] == p
                            && ctx.scalar(wh.inputs[1]) == 0 && (ctx.constant(wh.inputs[1])?.dims.count ?? 5) <= 4
                            && !ctx.isGraphOutput(p),
                            "the guard after Softmax is not Where(IsNaN(P), 0, P)", at: wh.id) else { return nil }
            parts += [isnan, wh]
            guarded = true
            p = wh.outputs[0]
        }
        guard let av = r.consumer(of: p, ["MatMul"], from: parts.first?.id ?? sm.id) else { return nil }
        r.take(av)
        parts.append(av)
        guard r.require(av.inputs[0] == p, "the probabilities are MatMul's second input, not its first", at: av.id) else { return nil }
        var v = av.inputs[1]
        // Shapes: Q [B, H, S, D], K [B, Hk, T, D] (or [B, T, Hk, D]), V [B, Hk, T, Dv].
        var kValue: String
        let kHeadAxis: Int
        switch key.key {
        case .heads(let k): kValue = k; kHeadAxis = 1
        case .sequenceFirst(let k): kValue = k; kHeadAxis = 2
        }
        guard let qd = ctx.dims(q), qd.count == 4, let kd = ctx.dims(kValue), kd.count == 4, let vd = ctx.dims(v), vd.count == 4 else {
            r.fail("Q, K or V is not of a known rank 4", at: qk.id); return nil
        }
        let kSeq = kd[kHeadAxis == 1 ? 2 : 1]
        guard let heads = qd[1]?.intValue, var kvHeads = kd[kHeadAxis]?.intValue, let headSize = qd[3]?.intValue else {
            r.fail("the head counts or the head size are not known numbers", at: qk.id); return nil
        }
        guard r.require(knownEqual([qd[0]], [kd[0]]) && knownEqual([qd[0]], [vd[0]]), "Q, K and V are not proven to share the batch size", at: qk.id),
              r.require(kd[3]?.intValue == headSize, "K's head size \(kd[3].map(\.description) ?? "?") is not Q's \(headSize)", at: qk.id),
              r.require(kvHeads == heads || kvHeads == 1, "K has \(kvHeads) heads for Q's \(heads) (the MatMul broadcasts them)", at: qk.id),
              r.require(vd[1]?.intValue == kvHeads && knownEqual([vd[2]], [kSeq]), "V's heads or length differ from K's", at: av.id) else { return nil }
        // Grouped-query attention: K and V repeated per group of query heads (transformers'
        // repeat_kv) are read at their own kv heads, with kv_num_heads.
        if case .heads = key.key, let rk = repeated(kValue, ctx), let rv = repeated(v, ctx), rk.kvHeads == rv.kvHeads, heads % rk.kvHeads == 0 {
            for n in rk.nodes + rv.nodes { r.take(n) }
            parts += rk.nodes + rv.nodes
            kValue = rk.source
            v = rv.source
            kvHeads = rk.kvHeads
        }
        if let m = mask {
            let md = ctx.dims(m) ?? []
            let product = ctx.dims(qk.outputs[0]) ?? []
            guard r.require(ctx.elementType(m) == .float, "the mask is not float32", at: parts[1].id),
                  r.require(md.count >= 2 && md.count <= 4 && knownEqual(Array(md.suffix(2)), Array(sd.suffix(2))),
                            "the mask is not proven to cover [query, key] exactly (shape \(md.map { $0?.description ?? "?" }))", at: parts[1].id),
                  r.require(knownEqual(product, sd), "the mask broadcasts the scores to another shape", at: parts[1].id) else { return nil }
        }
        let finiteMask = mask.map { finite($0, ctx) } ?? true
        // The 3-D form: Q, K, V split from 3-D values and the result merged back.
        var whole: (q3: String, k3: String, v3: String, out: String, nodes: [Node], rereads: [NewNode])?
        var split: (input: String, outputs: [String], size: Int64)?
        if let qh = headsOf(q, ctx), qh.heads == heads, let vh = headsOf(v, ctx), vh.heads == kvHeads {
            let kh: (x3: String, nodes: [Node], heads: Int64, size: Int64)?
            switch key.key {
            case .heads: kh = headsOf(kValue, ctx)
            case .sequenceFirst(let k): kh = splitOf(k, ctx)
            }
            if let kh, kh.heads == kvHeads, let merged = merge(av.outputs[0], width: heads * vh.size, ctx) {
                let out = merged.out ?? r.freshValue(av.outputs[0] + "_merged")
                let rereads = merged.rereads.map {
                    NewNode(opType: "Reshape", inputs: [out, $0.inputs[1]], outputs: $0.outputs.array, attributes: $0.attributes)
                }
                whole = (qh.x3, kh.x3, vh.x3, out, qh.nodes + kh.nodes + vh.nodes + merged.nodes, rereads)
            }
        } else if case .heads = key.key, let pq = packedOf(q, ctx), let pk = packedOf(kValue, ctx), let pv = packedOf(v, ctx),
                  pq.x3 == pk.x3, pk.x3 == pv.x3, Set([pq.index, pk.index, pv.index]) == [0, 1, 2], pq.heads == heads, pk.heads == heads,
                  pv.heads == heads, kvHeads == heads, pv.size == headSize, let merged = merge(av.outputs[0], width: heads * pv.size, ctx) {
            // Packed QKV: a Split of the packed projection gives the three 3-D values.
            var thirds = ["", "", ""]
            for (i, part) in [(pq.index, "q"), (pk.index, "k"), (pv.index, "v")] { thirds[i] = r.freshValue(pq.x3 + "_" + part) }
            split = (pq.x3, thirds, heads * headSize)
            let out = merged.out ?? r.freshValue(av.outputs[0] + "_merged")
            let rereads = merged.rereads.map {
                NewNode(opType: "Reshape", inputs: [out, $0.inputs[1]], outputs: $0.outputs.array, attributes: $0.attributes)
            }
            whole = (thirds[pq.index], thirds[pk.index], thirds[pv.index], out,
                     pq.nodes + pk.nodes + pv.nodes + pq.shared + merged.nodes, rereads)
        }
        var adding: [NewNode] = []
        let scaleAttr = Attribute("scale", .float(Float(scale)))
        if let w = whole {
            for n in w.nodes { r.take(n) }
            parts += w.nodes
            defer { adding += w.rereads }
            let mhaFits = kvHeads == heads && (mask == nil || ctx.dims(mask ?? "")?.count == 4) && (!guarded || finiteMask)
            let mha = ctx.options.target == .ort && mhaFits
            if let sp = split {
                // Split's sizes are an input from opset 13 (Attention raises the opset to 23).
                let sizes = Tensor(int64s: [sp.size, sp.size, sp.size], dims: [3])
                if mha && ctx.onnxOpset < 13 {
                    adding.append(NewNode(opType: "Split", inputs: [sp.input], outputs: sp.outputs,
                                          attributes: [Attribute("axis", .int(-1)), Attribute("split", .ints([sp.size, sp.size, sp.size]))]))
                } else {
                    adding.append(NewNode(opType: "Split", inputs: [sp.input, r.initializer("qkv_split", sizes)], outputs: sp.outputs,
                                          attributes: [Attribute("axis", .int(-1))]))
                }
            }
            if mha {
                adding.append(NewNode(opType: "MultiHeadAttention", domain: "com.microsoft",
                                      inputs: [w.q3, w.k3, w.v3] + (mask.map { ["", "", $0] } ?? []), outputs: [w.out],
                                      attributes: [Attribute("num_heads", .int(heads)), scaleAttr]))
            } else {
                guard r.requireOpset(23, for: "Attention") else { return nil }
                adding.append(NewNode(opType: "Attention", inputs: [w.q3, w.k3, w.v3] + (mask.map { [$0] } ?? []), outputs: [w.out],
                                      attributes: [Attribute("q_num_heads", .int(heads)), Attribute("kv_num_heads", .int(kvHeads)), scaleAttr]))
            }
        } else {
            guard r.requireOpset(23, for: "Attention") else { return nil }
            var k4 = kValue
            if case .sequenceFirst(let kb) = key.key {
                // Kᵀ came as Transpose [0,2,3,1] of [B, T, H, D]: K is its [0,2,1,3] Transpose.
                k4 = r.freshValue(kb + "_heads")
                adding.append(NewNode(opType: "Transpose", inputs: [kb], outputs: [k4], attributes: [Attribute("perm", .ints([0, 2, 1, 3]))]))
            }
            adding.append(NewNode(opType: "Attention", inputs: [q, k4, v] + (mask.map { [$0] } ?? []), outputs: [av.outputs[0]],
                                  attributes: [scaleAttr]))
        }
        return (parts.map(\.id), adding)
    }
}
