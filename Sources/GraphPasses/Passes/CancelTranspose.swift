/// Transposes and reshapes that follow each other merged: Transpose∘Transpose becomes one
/// Transpose of the composed permutation, or nothing when it is the identity; a Reshape to a
/// constant shape (no 0 entry copying an input dim) after a Reshape, Flatten, Squeeze or
/// Unsqueeze reads the first one's input instead, since a reshape depends on the element count
/// only. The first node goes when nothing else reads it; when it has other readers only the
/// second is changed. `fuse=false` on either node keeps both as they are.
import GraphEditing
import GraphIR

public struct CancelTranspose: Pass {
    public init() {}
    public let name = "cancel-transpose"
    public let doc = "Cancel or merge Transpose pairs; merge Reshape/Flatten/Squeeze/Unsqueeze followed by a Reshape to a constant shape"

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
                guard n.inputs.count > 1, let shape = ctx.constantDoubles(n.inputs[1]) else {
                    ctx.nearMiss(pattern: "reshape∘reshape", root: id, condition: "the second shape is not constant", at: id, matched: [first.id, id])
                    continue
                }
                let allowZero = n.attribute("allowzero")?.intValue == 1
                guard allowZero || !shape.contains(0) else {
                    ctx.nearMiss(pattern: "reshape∘reshape", root: id, condition: "the second shape copies a dim (0 entry)", at: id, matched: [first.id, id])
                    continue
                }
                if try merge(first, n, &ctx, identity: false, replacement: n.attributes) { changed = true }
            }
        }
        return changed
    }

    /// The permutation of a Transpose (its default reverses the axes of an input of known rank).
    func perm(_ n: Node, _ ctx: PassContext) -> [Int64]? {
        if let p = n.attribute("perm")?.intsValue { return p }
        guard let r = ctx.rank(n.inputs[0]) else { return nil }
        return (0..<Int64(r)).reversed()
    }

    /// Makes `second` read `first`'s input (dropping `second` when the pair is the identity),
    /// and removes `first` when nothing else reads it.
    func merge(_ first: Node, _ second: Node, _ ctx: inout PassContext, identity: Bool, replacement: [Attribute]) throws -> Bool {
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
            var r = PatternRewriter(context: ctx, pattern: "\(first.opType.lowercased())∘\(second.opType.lowercased())", root: second.id)
            let inputs = [src] + second.inputs.array.dropFirst()
            let made = NewNode(opType: second.opType, name: second.name, inputs: inputs, outputs: [y], attributes: replacement)
            guard try r.replace([first.id, second.id], with: [made]) else { return false }
            ctx = r.context
            return true
        }
        try ctx.tx.apply(.setInput(node: second.id, index: 0, value: src))
        for a in replacement where second.attribute(a.name) != a.value {
            try ctx.tx.apply(.setAttribute(node: second.id, name: a.name, value: a.value))
        }
        return true
    }
}
