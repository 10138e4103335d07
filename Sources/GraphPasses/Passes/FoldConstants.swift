/// Constant folding: a node whose inputs are all constant (initializers, Constant nodes, values
/// folded earlier in the sweep) is evaluated with the interpreter's kernels and replaced by an
/// initializer of the same name, so its readers are untouched. Shape subgraphs fold too: a
/// value whose contents shape inference knows exactly (the Shape of a value of static shape,
/// and the Gather/Concat/Slice arithmetic on it) becomes a constant even when its inputs are
/// not. Results with more elements than `PassOptions.foldLimit` stay as they are (a
/// ConstantOfShape of a large zero tensor is smaller as a node than as bytes). Random ops,
/// nodes with subgraphs and results the interpreter stores in another type (float16) are left.
import GraphEditing
import GraphIR
import GraphOps
import GraphRuntime

public struct FoldConstants: Pass {
    public init() {}
    public let name = "fold-constants"
    public let doc = "Evaluate nodes whose inputs are all constant (and shapes inference knows) into initializers, up to fold_limit elements"

    static let nondeterministic: Set<String> = ["RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"]

    public func run(_ ctx: inout PassContext) throws -> Bool {
        var changed = false
        let opset = Int(ctx.onnxOpset)
        let outerRefs = ctx.graph.outerScopeReferences
        // Results by what determines them (op, attributes, small constant inputs): a model that
        // makes fifty identical weights with ConstantOfShape gets one buffer, computed once and
        // shared by fifty initializers (which `dedupe` then merges without comparing bytes).
        var computed: [String: [Tensor]] = [:]
        for id in ctx.graph.nodes.map(\.id) {
            guard let n = ctx.graph.node(id), n.opType != "Constant",
                  n.domain.isEmpty || n.domain == "ai.onnx", !n.hasSubgraphs, !Self.nondeterministic.contains(n.opType),
                  !n.outputs.isEmpty, n.outputs.allSatisfy({ !$0.isEmpty }) else { continue }
            if n.outputs.contains(where: { ctx.isGraphOutput($0) || outerRefs.contains($0) }) { continue }
            let tensors: [Tensor]
            if let known = Self.knownContents(n, ctx) {
                tensors = known
            } else {
                guard !n.inputs.isEmpty, n.inputs.allSatisfy({ $0.isEmpty || ctx.constant($0) != nil }) else { continue }
                let key = Self.evaluationKey(n, ctx)
                // A result reused only where this node's outputs are known as the same type and shape
                // (what `evaluate` checks before computing).
                if let key, let earlier = computed[key], earlier.count == n.outputs.count,
                   zip(earlier, n.outputs).allSatisfy({ t, o in ctx.staticShape(o) == t.dims && ctx.elementType(o) == t.elementType }) {
                    tensors = zip(earlier, n.outputs).map { t, name in
                        var copy = t
                        copy.name = name
                        return copy
                    }
                } else {
                    guard let t = try Self.evaluate(n, &ctx, opset: opset) else { continue }
                    tensors = t
                    if let key { computed[key] = t }
                }
            }
            guard ctx.mayRemove(id) else {
                ctx.nearMiss(pattern: "fold", root: id, condition: ctx.graph.node(id)?.annotations["keep"] == "true" ? "annotation keep=true" : "outside scope", at: id, matched: [id])
                continue
            }
            let dangling = ctx.tx.allowDangling
            ctx.tx.allowDangling = true
            defer { ctx.tx.allowDangling = dangling }
            try ctx.tx.apply(.removeNode(id))
            for t in tensors {
                try ctx.tx.apply(.setInitializer(t))
                // IR version 3 and older list every initializer as a graph input.
                if ctx.model.irVersion < 4 { try ctx.tx.apply(.addInput(name: t.name, type: t.valueType)) }
            }
            ctx.record(removed: [n], created: [])
            changed = true
        }
        if try Self.resolveReshapes(&ctx) { changed = true }
        return changed
    }

    /// A Reshape whose target shape is computed (Concat of Shape pieces) but whose entries
    /// inference knows up to the data's own dims reads a constant shape instead: an entry equal
    /// to the data's dim at the same axis becomes 0 (copy; allowzero=1 is dropped when no entry is
    /// a literal 0), one other unknown entry becomes -1.
    /// The shape subgraph is then dead (`dce` removes it).
    static func resolveReshapes(_ ctx: inout PassContext) throws -> Bool {
        var changed = false
        let reshapes = ctx.graph.nodes.filter { $0.opType == "Reshape" && ($0.domain.isEmpty || $0.domain == "ai.onnx") && $0.inputs.count == 2 }
        for n in reshapes {
            let shape = n.inputs[1]
            let allowZero = n.attribute("allowzero")?.intValue == 1
            guard ctx.constant(shape) == nil, ctx.mayFuse(n.id),
                  let known = ctx.inference.values[shape]?.value else { continue }
            let entries: [SymDim?]
            switch known {
            case .ints(let xs): entries = xs.map { Optional($0) }
            case .partialInts(let xs): entries = xs
            case .floats: continue
            }
            // allowzero=1 makes a 0 entry a size; without literal zeros it may go, and 0 copy.
            if allowZero && entries.contains(where: { $0?.intValue == 0 }) { continue }
            let data = ctx.dims(n.inputs[0])
            var out: [Int64] = []
            var minusOne = entries.contains { $0?.intValue == -1 }
            for (i, e) in entries.enumerated() {
                if let v = e?.intValue { out.append(v); continue }
                if let e, let data, i < data.count, data[i] == e { out.append(0); continue }
                guard !minusOne else { out = []; break }
                minusOne = true
                out.append(-1)
            }
            guard out.count == entries.count, !out.isEmpty else {
                ctx.nearMiss(pattern: "reshape-shape", root: n.id, condition: "more than one target dim is neither known nor the data's own", at: n.id, matched: [n.id])
                continue
            }
            let name = ctx.tx.freshValueName(n.name.isEmpty ? "reshape_shape" : n.name + "_shape")
            let t = Tensor(name: name, int64s: out, dims: [Int64(out.count)])
            try ctx.tx.apply(.setInitializer(t))
            if ctx.model.irVersion < 4 { try ctx.tx.apply(.addInput(name: name, type: t.valueType)) }
            try ctx.tx.apply(.setInput(node: n.id, index: 1, value: name))
            if allowZero && out.contains(0) { try ctx.tx.apply(.setAttribute(node: n.id, name: "allowzero", value: nil)) }
            changed = true
        }
        return changed
    }

    /// What determines `n`'s results when every input is a small constant: op, domain,
    /// attributes and the inputs' types, dims and bytes (nil otherwise: large inputs are not
    /// worth hashing, and tensor or graph attributes are not keyed).
    static func evaluationKey(_ n: Node, _ ctx: PassContext) -> String? {
        // Every part carries its length, so no two different nodes spell the same key.
        func part(_ s: String) -> String { "\(s.utf8.count):" + s }
        func tensorPart(_ t: Tensor) -> String? {
            guard let bytes = try? t.withUnsafeBytes({ $0.count <= 256 ? Array($0) : nil }) else { return nil }
            return part("\(t.elementType.rawValue)\(t.dims)" + bytes.map { String($0, radix: 16) }.joined(separator: "."))
        }
        var key = part(n.domain) + part(n.opType)
        for a in n.attributes.sorted(by: { $0.name < $1.name }) {
            switch a.value {
            case .float, .int, .floats, .ints: key += part(a.name) + part(a.value.displayString)
            case .string(let b): key += part(a.name) + part(b.map { String($0, radix: 16) }.joined(separator: "."))
            case .strings(let bs): key += part(a.name) + part(bs.map { b in b.map { String($0, radix: 16) }.joined(separator: ".") }.joined(separator: ","))
            case .tensor(let t):
                guard let p = tensorPart(t) else { return nil }
                key += part(a.name) + p
            default: return nil
            }
        }
        for name in n.inputs {
            guard !name.isEmpty else { key += part("-"); continue }
            guard let t = ctx.constant(name), let p = tensorPart(t) else { return nil }
            key += p
        }
        return key
    }

    /// The outputs of `n` when inference knows their integer contents exactly (shape arithmetic).
    static func knownContents(_ n: Node, _ ctx: PassContext) -> [Tensor]? {
        var out: [Tensor] = []
        for o in n.outputs {
            guard let facts = ctx.inference.values[o], case .ints(let xs)? = facts.value,
                  case .tensor(let e, let dims?)? = facts.type, e == .int64 || e == .int32 else { return nil }
            var shape: [Int64] = []
            for d in dims { guard let v = d?.intValue else { return nil }; shape.append(v) }
            var values: [Int64] = []
            for x in xs { guard let v = x.intValue else { return nil }; values.append(v) }
            guard values.count == shape.reduce(1, *), values.count <= ctx.options.foldLimit else { return nil }
            out.append(e == .int64 ? Tensor(name: o, int64s: values, dims: shape)
                                   : Tensor(name: o, elementType: .int32, dims: shape, data: .raw(ByteSlice(copying: values.flatMap { v in
                                         withUnsafeBytes(of: Int32(truncatingIfNeeded: v).littleEndian) { Array($0) } }))))
        }
        return out
    }

    /// `n` run on its constant inputs; nil (with a near miss) when a result would be too large,
    /// the interpreter cannot run it, or it would change a type.
    static func evaluate(_ n: Node, _ ctx: inout PassContext, opset: Int) throws -> [Tensor]? {
        for o in n.outputs {
            guard let shape = ctx.staticShape(o) else {
                ctx.nearMiss(pattern: "fold", root: n.id, condition: "the shape of '\(o)' is not known before evaluating", at: n.id, matched: [n.id])
                return nil
            }
            let count = shape.reduce(Int64(1)) { $0.multipliedReportingOverflow(by: $1).overflow ? .max : $0 * $1 }
            guard count <= Int64(ctx.options.foldLimit) else {
                ctx.nearMiss(pattern: "fold", root: n.id, condition: "'\(o)' would hold \(count) elements, more than fold_limit=\(ctx.options.foldLimit)", at: n.id, matched: [n.id])
                return nil
            }
        }
        var inputs: [RuntimeTensor?] = []
        for name in n.inputs {
            guard !name.isEmpty else { inputs.append(nil); continue }
            guard let t = ctx.constant(name), let rt = try? RuntimeTensor.from(t).tensor else { return nil }
            inputs.append(rt)
        }
        let results: [RuntimeTensor?]
        do { results = try NodeEvaluator.evaluate(n, inputs: inputs, opset: opset) } catch {
            ctx.nearMiss(pattern: "fold", root: n.id, condition: "the interpreter cannot evaluate it: \(error)", at: n.id, matched: [n.id])
            return nil
        }
        var out: [Tensor] = []
        for (o, r) in zip(n.outputs, results) {
            guard let r else { return nil }
            if let e = ctx.elementType(o), e != r.elementType {
                ctx.nearMiss(pattern: "fold", root: n.id, condition: "'\(o)' is \(e.name); the interpreter computes it as \(r.elementType.name)", at: n.id, matched: [n.id])
                return nil
            }
            // The interpreter's buffer becomes the tensor's bytes (kept alive by its storage; never written again).
            let bytes = ByteStorage(borrowing: UnsafeRawPointer(r.raw), count: r.byteCount, owner: r.storage, origin: "fold \(o)")
            out.append(Tensor(name: o, elementType: r.elementType, dims: r.shape.map(Int64.init), data: .raw(bytes.slice)))
        }
        return out
    }
}
