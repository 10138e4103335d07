/// A residual Add followed by LayerNormalization → com.microsoft SkipLayerNormalization
/// (`target=ort` only), in the three forms onnxruntime's own fusion takes: Add(x, skip),
/// Add(Add(x, skip), bias) and Add(Add(x, bias), skip), the bias a constant 1-D float of the
/// hidden size. The LayerNormalization must normalize the last axis with a 1-D scale (and
/// bias), write only Y, and the input must be of rank 2 or 3 (what onnxruntime's kernel takes);
/// the skip has the input's shape, or (rank 3) [1, S, H] or [S, H]. When the sum has other
/// readers (the next residual), it comes out as SkipLayerNormalization's fourth output
/// (input_skip_bias_sum) under its old name (the unread mean and inv_std_var outputs get fresh
/// names, as the editor names every output). Matched by structure, never names.
import GraphEditing
import GraphIR
import GraphOps

public struct FuseSkipLayerNorm: Pass {
    public init() {}
    public let name = "fuse-skip-layernorm"
    public let doc = "target=ort: fuse Add(x, skip) [+ bias] + LayerNormalization into com.microsoft SkipLayerNormalization"
    public func run(_ ctx: inout PassContext) throws -> Bool {
        guard ctx.options.target == .ort else { return false }
        return try PatternPass(name: name, doc: doc, patterns: [SkipLayerNormPattern()]).run(&ctx)
    }
}

struct SkipLayerNormPattern: RewritePattern {
    let name = "add+layernorm"
    let rootOps: Set<String> = ["LayerNormalization"]

    func matchAndRewrite(_ ln: Node, _ r: inout PatternRewriter) throws -> Bool {
        // Matching reads the graph through a copy of the context; it must be gone before the
        // edits, or the first edit would copy the whole graph.
        guard let plan = Self.plan(ln, &r) else { return false }
        return try r.replace(plan.parts, with: [plan.node])
    }

    /// What to remove and add for the LayerNormalization `ln`, or nil (after `fail`).
    static func plan(_ ln: Node, _ r: inout PatternRewriter) -> (parts: [NodeID], node: NewNode)? {
        let ctx = r.context
        guard let sumName = ln.inputs.first, let dims = ctx.dims(sumName), let hidden = dims.last ?? nil, let h = hidden.intValue else {
            r.fail("the normalized input has an unknown last dimension", at: ln.id); return nil
        }
        let axis = ln.attribute("axis")?.intValue ?? -1
        guard r.require(dims.count == 2 || dims.count == 3, "the input is of rank \(dims.count); SkipLayerNormalization takes rank 2 or 3", at: ln.id),
              r.require(axis == -1 || axis == Int64(dims.count - 1), "LayerNormalization's axis \(axis) is not the last", at: ln.id),
              r.require((ln.attribute("stash_type")?.intValue ?? 1) == 1, "stash_type is not float", at: ln.id),
              r.require(ln.outputs.dropFirst().allSatisfy { $0.isEmpty || ctx.consumers($0).isEmpty && !ctx.isGraphOutput($0) },
                        "LayerNormalization's Mean or InvStdDev output is read", at: ln.id),
              r.require(ctx.elementType(sumName) == .float, "the input is not float", at: ln.id) else { return nil }
        func isVector(_ v: String) -> Bool { ctx.dims(v).map { $0.count == 1 && $0[0]?.intValue == h } ?? false }
        guard r.require(isVector(ln.inputs[1]), "the scale is not 1-D of the hidden size \(h)", at: ln.id),
              r.require(ln.inputs.count < 3 || ln.inputs[2].isEmpty || isVector(ln.inputs[2]), "the bias is not 1-D of the hidden size \(h)", at: ln.id),
              let top = r.producer(of: sumName, ["Add"], from: ln.id) else { return nil }
        r.take(top)
        guard top.inputs.count == 2, top.inputs[0] != top.inputs[1] else { r.fail("Add reads one value twice", at: top.id); return nil }
        // A constant 1-D bias of the hidden size.
        func bias(_ v: String) -> Bool {
            guard let t = ctx.constant(v) else { return false }
            return t.elementType == .float && t.dims == [h]
        }
        var parts = [top.id]
        var operands: [String]
        var biasName: String?
        if let k = top.inputs.firstIndex(where: bias) {
            // Add(Add(x, skip), bias).
            biasName = top.inputs[k]
            guard let inner = r.producer(of: top.inputs[1 - k], ["Add"], from: top.id) else { return nil }
            r.take(inner)
            guard r.require(ctx.hasSingleUse(inner.outputs[0]), "x + skip has a second consumer", at: inner.id) else { return nil }
            parts.append(inner.id)
            operands = inner.inputs.array
        } else if let k = top.inputs.firstIndex(where: { v in
            guard let p = r.graph.producerNode(of: v), p.opType == "Add", p.domain.isEmpty, ctx.hasSingleUse(v) else { return false }
            return p.inputs.contains(where: bias) && p.inputs.contains(where: { !bias($0) })
        }), let inner = r.graph.producerNode(of: top.inputs[k]), let b = inner.inputs.first(where: bias), let x = r.other(inner, than: b) {
            // Add(Add(x, bias), skip).
            r.take(inner)
            parts.append(inner.id)
            biasName = b
            operands = [x, top.inputs[1 - k]]
        } else {
            operands = top.inputs.array
        }
        guard operands.count == 2, operands.allSatisfy({ ctx.constant($0) == nil }) else {
            r.fail("the residual Add has a constant operand", at: top.id); return nil
        }
        // The input has the sum's shape; the skip the same, or [1, S, H] / [S, H] under a rank-3 input.
        func full(_ s: String) -> Bool { ctx.dims(s).map { knownEqual($0, dims) } ?? false }
        func skipFits(_ s: String) -> Bool {
            guard let sd = ctx.dims(s) else { return false }
            if knownEqual(sd, dims) { return true }
            guard dims.count == 3 else { return false }
            return knownEqual(sd, [SymDim(1), dims[1], dims[2]]) || knownEqual(sd, [dims[1], dims[2]])
        }
        let order = full(operands[0]) && skipFits(operands[1]) ? operands
            : (full(operands[1]) && skipFits(operands[0]) ? [operands[1], operands[0]] : nil)
        guard let order, operands.allSatisfy({ ctx.elementType($0) == .float }) else {
            r.fail("the residual operands do not have the input's shape ([B, S, H], or a [1, S, H] / [S, H] skip)", at: top.id); return nil
        }
        parts.append(ln.id)
        // The sum's other readers (the next residual) read SkipLayerNormalization's fourth output.
        let sumRead = ctx.consumers(sumName).count > 1 || ctx.isGraphOutput(sumName)
        let beta = ln.inputs.count > 2 ? ln.inputs[2] : ""
        var inputs = [order[0], order[1], ln.inputs[1]]
        if !beta.isEmpty || biasName != nil { inputs.append(beta) }
        if let biasName { inputs.append(biasName) }
        let outputs = sumRead ? [ln.outputs[0], "", "", sumName] : [ln.outputs[0]]
        let eps = ln.attribute("epsilon")?.floatValue ?? 1e-5
        let node = NewNode(opType: "SkipLayerNormalization", domain: "com.microsoft", inputs: inputs, outputs: outputs,
                           attributes: [Attribute("epsilon", .float(eps))])
        return (parts, node)
    }
}

/// True when the two shapes have the same rank and every dim is known (a number or a symbol)
/// and equal: an unknown dim proves nothing.
func knownEqual(_ a: [SymDim?], _ b: [SymDim?]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { x, y in x != nil && x == y }
}
