/// Identity-like ops removed: Identity, inference-mode Dropout (mask unused), and Reshape,
/// Cast, Transpose, Pad, Slice, Expand, Flatten, Squeeze, Unsqueeze that leave their input as
/// it is (same type and dims, symbolic ones included, identity perm, zero pads), and Add/Sub of zeros and
/// Mul/Div by ones that broadcast to nothing new (the output has the input's dims and type).
/// The output's readers read the input instead. When the output is a graph output, the node making the input writes
/// it directly (the output keeps its name).
import GraphEditing
import GraphIR

public struct IdentityElimination: Pass {
    public init() {}
    public let name = "identity"
    public let doc = "Remove Identity, inference Dropout, no-op Reshape/Cast/Transpose/Pad/Slice/Expand, and x+0, x-0, x*1, x/1"

    static let shapeOps: Set<String> = ["Reshape", "Expand", "Flatten", "Squeeze", "Unsqueeze", "Slice", "Pad", "Tile"]

    /// True when `n` passes its first input through unchanged.
    static func isNoOp(_ n: Node, _ ctx: PassContext) -> Bool {
        guard n.domain.isEmpty || n.domain == "ai.onnx", let x = n.inputs.first, !x.isEmpty,
              let y = n.outputs.first, !y.isEmpty else { return false }
        switch n.opType {
        case "Identity": return n.outputs.count == 1
        case "Dropout":
            if n.outputs.count > 1 && !n.outputs[1].isEmpty && (ctx.graph.useCount(of: n.outputs[1]) != 0 || ctx.isGraphOutput(n.outputs[1])) { return false }
            if n.inputs.count > 2 && !n.inputs[2].isEmpty { return ctx.scalar(n.inputs[2]) == 0 }
            return true
        case "Cast":
            guard let to = n.attribute("to")?.intValue, let e = ctx.elementType(x) else { return false }
            return Int64(e.rawValue) == to
        case "Transpose":
            guard let perm = n.attribute("perm")?.intsValue else { return ctx.rank(x).map { $0 <= 1 } ?? false }
            return perm.enumerated().allSatisfy { Int64($0.offset) == $0.element }
        default:
            // Same dims, symbolic ones included (inference gives every unknown size its own
            // symbol, so equal expressions are equal sizes at run time).
            guard shapeOps.contains(n.opType), let a = ctx.dims(x), let b = ctx.dims(y), a == b, !a.contains(where: { $0 == nil }),
                  ctx.elementType(x) == ctx.elementType(y) else { return false }
            if n.opType == "Pad" {
                // Same shape with non-zero pads happens (pad one side, crop the other): check the pads.
                if let pads = n.attribute("pads")?.intsValue { return pads.allSatisfy { $0 == 0 } }
                guard n.inputs.count > 1, let p = ctx.constantDoubles(n.inputs[1]) else { return false }
                return p.allSatisfy { $0 == 0 }
            }
            if n.opType == "Slice" {
                // Equal static shapes mean every axis is kept whole only with positive steps.
                if n.inputs.count > 4, !n.inputs[4].isEmpty {
                    guard let steps = ctx.constantDoubles(n.inputs[4]) else { return false }
                    return steps.allSatisfy { $0 == 1 }
                }
                return true
            }
            return true
        }
    }

    public func run(_ ctx: inout PassContext) throws -> Bool {
        var changed = false
        // Ids, not the node array: holding the array across edits would make each edit copy it.
        for id in ctx.graph.nodes.map(\.id) {
            guard let cur = ctx.graph.node(id), ctx.mayRemove(id) else { continue }
            guard let x = Self.isNoOp(cur, ctx) ? cur.inputs[0] : Self.neutralOperand(cur, ctx) else { continue }
            if try Self.bypass(cur, passing: x, &ctx) { changed = true }
        }
        return changed
    }

    /// For x+0, 0+x, x-0, x*1, 1*x, x/1 (the constant all zeros or all ones, the output of x's
    /// dims and type), the input x passes through unchanged.
    static func neutralOperand(_ n: Node, _ ctx: PassContext) -> String? {
        guard n.domain.isEmpty || n.domain == "ai.onnx", n.inputs.count == 2, n.outputs.count == 1 else { return nil }
        let neutral: Double
        let candidates: [(x: String, c: String)]
        switch n.opType {
        case "Add": neutral = 0; candidates = [(n.inputs[0], n.inputs[1]), (n.inputs[1], n.inputs[0])]
        case "Mul": neutral = 1; candidates = [(n.inputs[0], n.inputs[1]), (n.inputs[1], n.inputs[0])]
        case "Sub": neutral = 0; candidates = [(n.inputs[0], n.inputs[1])]
        case "Div": neutral = 1; candidates = [(n.inputs[0], n.inputs[1])]
        default: return nil
        }
        for (x, c) in candidates {
            // The constant first (most operands are none), then shapes (looked up), then its
            // values (decoded).
            guard let t = ctx.constant(c), (t.elementCount ?? .max) <= 1 << 16,
                  let xd = ctx.dims(x), let yd = ctx.dims(n.outputs[0]), xd == yd, !xd.contains(where: { $0 == nil }),
                  let xt = ctx.elementType(x), xt == ctx.elementType(n.outputs[0]),
                  let values = try? t.doubleValues(), values.allSatisfy({ $0 == neutral }) else { continue }
            return x
        }
        return nil
    }

    /// Removes `n`, its readers reading `x` (its first input unless told) instead (not when its
    /// output is a graph output, whose name must stay).
    static func bypass(_ n: Node, passing x: String? = nil, _ ctx: inout PassContext) throws -> Bool {
        let x = x ?? n.inputs[0], y = n.outputs[0]
        guard !ctx.isGraphOutput(y) else { return try renameIntoOutput(n, passing: x, &ctx) }
        try ctx.tx.apply(.replaceUses(of: y, with: x))
        try ctx.tx.apply(.removeNode(n.id))
        ctx.record(removed: [n], created: [])
        return true
    }

    /// `y = n(x)` with `y` a graph output: when `x` is made by a node and read only by `n`, that
    /// node is remade writing `y` directly (provenance: both), and `n` goes.
    static func renameIntoOutput(_ n: Node, passing x: String, _ ctx: inout PassContext) throws -> Bool {
        let y = n.outputs[0]
        guard let p = ctx.graph.producerNode(of: x), ctx.hasSingleUse(x), ctx.mayFuse(p.id),
              !ctx.graph.outerScopeReferences.contains(x), !ctx.graph.outerScopeReferences.contains(y) else { return false }
        let remade = NewNode(opType: p.opType, domain: p.domain, name: p.name, inputs: p.inputs.array,
                             outputs: p.outputs.array.map { $0 == x ? y : $0 }, attributes: p.attributes, annotations: p.annotations)
        return try PatternRewriter.with(&ctx, pattern: "identity-output", root: n.id) { r in try r.replace([p.id, n.id], with: [remade]) }.applied
    }
}
