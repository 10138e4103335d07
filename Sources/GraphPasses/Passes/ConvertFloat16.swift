/// Float16/bfloat16 conversion (as onnxconverter-common's `convert_float_to_float16`): every
/// node the selection allows computes in the low type when its op schema accepts it for every
/// float output; float weights and Constant/ConstantOfShape values read only by such nodes are
/// stored in the low type (half the bytes); a node that must stay float32 (its schema has no
/// low-type variant, it carries a body or a dtype attribute, it is annotated `quantize=none`,
/// `keep=true`, or outside `scope=`) keeps float32, and Casts are put exactly where a value
/// crosses between the two (one Cast per value and type). With `keep_io_types` the graph's
/// inputs and outputs stay float32 (Casts at the boundary); without, they change type too.
import GraphEditing
import GraphIR
import GraphOps

public struct ConvertFloat16: Pass {
    /// .float16 or .bfloat16.
    public var dtype: ElementType
    public var keepIOTypes: Bool

    public init(dtype: ElementType = .float16, keepIOTypes: Bool = true) {
        self.dtype = dtype
        self.keepIOTypes = keepIOTypes
    }

    public let name = "convert-float16"
    public let doc = "Float16/bfloat16 weights and compute, Casts where float32 must stay (keep_io_types keeps the graph's inputs and outputs)"

    public func run(_ ctx: inout PassContext) throws -> Bool {
        guard dtype == .float16 || dtype == .bfloat16 else { throw PassError("convert takes float16 or bfloat16, not \(dtype.name)") }
        let selection = PrecisionSelection(ctx.graph, integer: false, fallback: dtype == .float16 ? .fp16 : .bf16)
        let g = ctx.graph
        let opset = Int(ctx.onnxOpset)
        func isFloat(_ v: String) -> Bool { !v.isEmpty && ctx.elementType(v) == .float }

        // 1. Which nodes compute in which type, and what each of their float inputs wants.
        var nodeType: [NodeID: ElementType] = [:]
        var wants: [NodeID: [Int: ElementType]] = [:]
        for n in g.nodes {
            let floatIns = n.inputs.array.enumerated().filter { isFloat($0.element) }
            let floatOuts = n.outputs.array.filter(isFloat)
            guard !floatIns.isEmpty || !floatOuts.isEmpty else { continue }
            var w: [Int: ElementType] = [:]
            for (i, _) in floatIns { w[i] = .float }
            if let t = selection.choice(for: n, in: ctx)?.elementType, let perInput = lowInputs(n, to: t, opset: opset, ctx.registry, isFloat) {
                nodeType[n.id] = t
                for (i, low) in perInput where w[i] != nil { w[i] = low ? t : .float }
            }
            wants[n.id] = w
        }
        guard !nodeType.isEmpty else { return false }

        // 2. Where each float value is stored: graph inputs, weights, node outputs.
        var stored: [String: ElementType] = [:]
        let graphInputs = Set(g.inputs.map(\.name))
        for i in g.inputs where isFloat(i.name) && g.initializer(named: i.name) == nil {
            stored[i.name] = keepIOTypes ? .float : dtype
            if !keepIOTypes { try ctx.tx.apply(.setValueType(i.name, retyped(i.type, dtype))) }
        }
        for t in g.initializers where t.elementType == .float && !graphInputs.contains(t.name) {
            let readers = Set(g.uses(of: t.name).map { u -> ElementType in
                if case .input(let i) = u.slot { return wants[u.node]?[i] ?? .float }
                return .float
            })
            if readers.count == 1, let low = readers.first, low != .float, !ctx.isGraphOutput(t.name), let v = try? t.floatValues() {
                var c = PrecisionTensors.half(v, type: low, dims: t.dims)
                c.name = t.name
                try ctx.tx.apply(.setInitializer(c))
                stored[t.name] = low
            } else {
                stored[t.name] = .float
            }
        }
        for n in g.nodes {
            let t = nodeType[n.id] ?? .float
            for o in n.outputs where isFloat(o) { stored[o] = t }
            guard nodeType[n.id] != nil else { continue }
            // Ops that name their float output type: convert the value they make.
            if n.opType == "Cast", n.attribute("to")?.intValue == Int64(ElementType.float.rawValue) {
                try ctx.tx.apply(.setAttribute(node: n.id, name: "to", value: .int(Int64(t.rawValue))))
            }
            for name in ["value"] where n.opType == "Constant" || n.opType == "ConstantOfShape" {
                if case .tensor(let v)? = n.attribute(name), v.elementType == .float, let fv = try? v.floatValues() {
                    var c = PrecisionTensors.half(fv, type: t, dims: v.dims)
                    c.name = v.name
                    try ctx.tx.apply(.setAttribute(node: n.id, name: name, value: .tensor(c)))
                }
            }
            // Declared types of intermediate values follow.
            for o in n.outputs where isFloat(o) && !ctx.isGraphOutput(o) {
                if let vi = g.valueInfo.first(where: { $0.name == o }) { try ctx.tx.apply(.setValueType(o, retyped(vi.type, t))) }
            }
        }

        // 3. Casts where a reader wants another type than the value is stored in.
        var casts: [String: String] = [:]
        func cast(_ v: String, to t: ElementType, for node: Node) throws -> String {
            let key = "\(v)|\(t.rawValue)"
            if let c = casts[key] { return c }
            let out = ctx.tx.freshValueName(v + (t == .float ? "_float32" : t == .float16 ? "_float16" : "_bfloat16"))
            try ctx.tx.apply(.addNode(NewNode(opType: "Cast", name: ctx.freshNodeName(v + "_Cast"), inputs: [v], outputs: [out],
                                              attributes: [Attribute("to", .int(Int64(t.rawValue)))], sources: ctx.sources(of: node))))
            casts[key] = out
            return out
        }
        for n in g.nodes {
            for (i, want) in (wants[n.id] ?? [:]).sorted(by: { $0.key < $1.key }) {
                let v = n.inputs[i]
                guard let have = stored[v], have != want else { continue }
                try ctx.tx.apply(.setInput(node: n.id, index: i, value: try cast(v, to: want, for: n)))
            }
        }

        // 4. Graph outputs: float32 at the boundary with keep_io_types, else their stored type.
        var outputs = g.outputs
        var renamed = false
        var inners: [(String, ValueType?)] = []
        for (k, o) in outputs.enumerated() {
            guard let have = stored[o.name], have != .float, let producer = g.producerNode(of: o.name) else { continue }
            if keepIOTypes {
                let inner = ctx.tx.freshValueName(o.name + (have == .float16 ? "_float16" : "_bfloat16"))
                try ctx.tx.apply(.renameValue(o.name, to: inner))
                inners.append((inner, retyped(o.type, have)))
                try ctx.tx.apply(.addNode(NewNode(opType: "Cast", name: ctx.freshNodeName(o.name + "_Cast"), inputs: [inner], outputs: [o.name],
                                                  attributes: [Attribute("to", .int(Int64(ElementType.float.rawValue)))], sources: ctx.sources(of: producer))))
                outputs[k].name = o.name
                renamed = true
            } else {
                outputs[k].type = retyped(o.type, have)
                try ctx.tx.apply(.setValueType(o.name, outputs[k].type))
            }
        }
        if renamed {
            // Renaming moved the declarations to the inner names; declare the outputs again, in order.
            for o in ctx.graph.outputs { try ctx.tx.apply(.removeOutput(o.name)) }
            for o in outputs { try ctx.tx.apply(.addOutput(name: o.name, type: o.type)) }
            // A value_info of an output's name moved with it; it now describes the low type.
            for (inner, type) in inners where ctx.graph.valueInfo.contains(where: { $0.name == inner }) {
                try ctx.tx.apply(.setValueType(inner, type))
            }
        }
        return true
    }

    /// For node `n` computing in `t`: per float input index, whether it reads `t` (true) or
    /// stays float32 (a fixed `tensor(float)` parameter); nil when the node cannot run in `t`.
    func lowInputs(_ n: Node, to t: ElementType, opset: Int, _ registry: OpRegistry, _ isFloat: (String) -> Bool) -> [Int: Bool]? {
        guard n.domain.isEmpty || n.domain == "ai.onnx",
              !n.attributes.contains(where: { !$0.value.subgraphs.isEmpty }),
              n.opType == "Cast" || (n.attribute("to") == nil && n.attribute("dtype") == nil),
              let schema = registry.schema(domain: "", opType: n.opType, opsetVersion: opset) else { return nil }
        func formal(_ params: [FormalParameter], _ i: Int) -> FormalParameter? {
            if i < params.count { return params[i] }
            return params.last?.option == .variadic ? params.last : nil
        }
        for (j, o) in n.outputs.array.enumerated() where isFloat(o) {
            guard let p = formal(schema.outputs, j), schema.allowedTypes(of: p).tensorElementTypes.contains(t) else { return nil }
        }
        var out: [Int: Bool] = [:]
        for (i, v) in n.inputs.array.enumerated() where isFloat(v) {
            guard let p = formal(schema.inputs, i) else { return nil }
            out[i] = schema.allowedTypes(of: p).tensorElementTypes.contains(t)
        }
        return out
    }

    func retyped(_ type: ValueType?, _ t: ElementType) -> ValueType? {
        guard let type else { return .tensor(t, nil) }
        if case .tensor(_, let s) = type { return .tensor(t, s) }
        return type
    }
}
