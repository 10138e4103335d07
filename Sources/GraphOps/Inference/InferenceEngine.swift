/// The inference walk: one graph (or body, or function body) in topological order, with
/// outer-scope lookup for bodies, per-node rule dispatch, merging with declared types, and the
/// problem list. Rules live in the per-family files; this file owns only the walk.
import GraphIR

/// Runs inference over graphs; one instance per `ShapeInference.infer` call (it accumulates
/// that call's problems and body facts).
final class InferenceEngine {
    let opsets: [String: Int64]
    let registry: OpRegistry
    let functions: [String: Function]
    private(set) var problems: [InferenceProblem] = []
    private(set) var bodies: [String: FactTable] = [:]
    private var functionDepth = 0

    /// The ai.onnx opset (looked up once, not per node); the newest rules when not imported.
    let defaultOpset: Int64
    /// Each op type's resolution (rule, function, opset, schema), made on its first node: one
    /// lookup per node instead of a rule lookup, a function lookup and a schema lookup per
    /// attribute default. Keyed by op type for ai.onnx, `domain::op` otherwise.
    /// (Unchecked exclusivity: the engine is private to one call, and the dynamic access checks
    /// on these were two runtime calls per node.)
    /// Under the cheap name hash, so an ai.onnx node's lookup builds no key and runs no SipHash.
    @exclusivity(unchecked) private var bindings: [ValueName: OpBinding] = [:]
    @exclusivity(unchecked) private var lastBinding: OpBinding?

    init(opsets: [String: Int64], functions: [Function], registry: OpRegistry) {
        self.opsets = opsets
        self.defaultOpset = opsets[""] ?? 23
        self.registry = registry
        var fs: [String: Function] = [:]
        for f in functions { fs[f.domain + "::" + f.name] = f }
        self.functions = fs
    }

    struct Run {
        var values: [ValueName: ValueFacts]
        var outputs: [ValueFacts?]
    }

    /// Facts of a graph's initializer.
    static func facts(of t: borrowing Tensor) -> ValueFacts {
        let dims = Shapes.dims(t.dims)
        var value: KnownValue?
        if let n = t.elementCount, n <= maxKnownElements {
            if t.elementType == .int64, let v = int64Contents(t, count: n) {
                value = .ints(v)
            } else if Shapes.isIntegral(t.elementType), let v = try? t.int64Values(), v.count == n {
                value = .ints(v.map { SymDim($0) })
            } else if Shapes.isFloating(t.elementType), n <= maxKnownFloats, let v = try? t.doubleValues(), v.count == n {
                value = .floats(v)
            }
        }
        return .tensor(t.elementType, dims, value: value)
    }

    /// The contents of an int64 tensor read straight into symbolic integers (shape tensors:
    /// one pass, one array), nil when its bytes are not there or do not fit.
    static func int64Contents(_ t: borrowing Tensor, count n: Int) -> [SymDim]? {
        try? t.withUnsafeBytes { raw -> [SymDim]? in
            guard raw.count >= n * 8 else { return nil }
            var out: [SymDim] = []
            out.reserveCapacity(n)
            for i in 0..<n { out.append(SymDim(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)))) }
            return out
        } ?? nil
    }

    /// Infers `graph`. `outer` is the chain of enclosing scopes (innermost last); `bodyInputs`
    /// gives a body's input facts (nil for a main graph, whose inputs come from declarations).
    func run(_ graph: Graph, outer: [[ValueName: ValueFacts]], bodyInputs: [ValueFacts?]?, scope: [String],
             keyPrefix: String, attributeBindings: [String: AttributeValue]? = nil) -> Run {
        // About the values this graph defines (a node has one output but for a few; reading
        // every node's output list to count exactly cost two retains per node): a larger
        // table only touches more memory, a smaller one is rebuilt.
        let nodeCount = graph.nodes.count
        let defined = graph.inputs.count + graph.initializers.count + graph.sparseInitializers.count + nodeCount + nodeCount / 16
        var env: [ValueName: ValueFacts] = [:]
        env.reserveCapacity(defined)
        let declared = Declarations(graph)
        // Initializers (then sparse ones) win over graph inputs of the same name, and a later
        // input over an earlier one: so they go in first and the inputs last to first, each
        // only where nothing is there yet. Older exporters list every weight as an input too,
        // whose declared type is then never converted.
        graph.initializers.withUnsafeBufferPointer { buf in  // read in place: no copy of each tensor
            for i in buf.indices where !buf[i].name.isEmpty { env[ValueName(buf[i].name)] = Self.facts(of: buf[i]) }
        }
        for sp in graph.sparseInitializers {
            env[ValueName(sp.name)] = .tensor(sp.values.elementType, Shapes.dims(sp.dims))
        }
        graph.inputs.withUnsafeBufferPointer { buf in
            for i in buf.indices.reversed() where !buf[i].name.isEmpty {
                let key = ValueName(buf[i].name)
                if env.index(forKey: key) != nil { continue }
                if let given = bodyInputs {
                    let g = i < given.count ? given[i] : nil
                    env[key] = merge(g, declared: buf[i].type) ?? ValueFacts(type: nil)
                } else if let t = buf[i].type {
                    env[key] = ValueFacts(type: Self.naming(SymType(t), input: buf[i].name))
                }
            }
        }
        // Function bodies get their reference attributes bound first; otherwise the graph's
        // own node array is walked in place (no per-node copy of the node).
        let nodes = attributeBindings.map { ab in graph.nodes.map { Self.bindAttributes($0, ab) } } ?? graph.nodes
        nodes.withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress else { return }
            var inputs: [ValueFacts?] = []  // reused: the rule's context is gone before the next node
            inputs.reserveCapacity(8)
            for i in buf.indices {
                let ptr = base + i
                while !inputs.isEmpty { inputs.removeLast() }  // in place, capacity kept
                // Which inputs are given, read while the names are at hand: rules ask `has(i)`
                // several times per input, and each read of `Node.inputs` costs a retain.
                var given = InputPresence()
                for name in ptr.pointee.inputs {
                    if name.isEmpty { given.append(false); inputs.append(nil); continue }
                    given.append(true)
                    inputs.append(Self.lookup(ValueName(name), in: env, outer: outer))
                }
                let names = ptr.pointee.outputs
                var outs = node(ptr, outputs: names, inputs: inputs, given: given, declared: declared,
                                scopeChain: ptr.pointee.hasSubgraphs ? outer + [env] : [], scope: scope, keyPrefix: keyPrefix)
                for k in names.indices where !names[k].isEmpty {
                    env[ValueName(names[k])] = outs[k].take() ?? ValueFacts(type: nil)
                }
                if ptr.pointee.hasSubgraphs {
                    inferGraphLists(ptr.pointee, scopeChain: outer + [env], scope: scope, keyPrefix: keyPrefix)
                }
            }
        }
        let outputs = graph.outputs.map { o in o.name.isEmpty ? nil : Self.lookup(ValueName(o.name), in: env, outer: outer) }
        return Run(values: env, outputs: outputs)
    }

    /// The facts of `key` in this scope, else in the nearest enclosing one.
    @inline(__always)
    static func lookup(_ key: ValueName, in env: [ValueName: ValueFacts], outer: [[ValueName: ValueFacts]]) -> ValueFacts? {
        if let f = env[key] { return f }
        for s in outer.reversed() { if let f = s[key] { return f } }
        return nil
    }

    /// One node's output facts, one per output (nil entries unknown): its rule (or the
    /// schema's element types when the rule fails, with the problem reported), reconciled with
    /// the declared types and with negative sizes dropped. The rule's own array is completed in
    /// place (no second array per node).
    func node(_ ptr: UnsafePointer<Node>, outputs names: ValueNames, inputs: [ValueFacts?], given: InputPresence,
              declared: Declarations, scopeChain: [[ValueName: ValueFacts]], scope: [String], keyPrefix: String) -> [ValueFacts?] {
        var outs: [ValueFacts?]
        do {
            outs = try infer(ptr, inputs: inputs, given: given, scopeChain: scopeChain, scope: scope, keyPrefix: keyPrefix)
        } catch {
            let failure = error as? InferenceFailure
            report(ptr.pointee, scope, failure?.reason ?? "\(error)", kind: failure?.kind ?? .inconsistent)
            outs = elementTypesFromSchema(ptr.pointee, inputs)
        }
        complete(&outs, ptr, names: names, declared: declared, scope: scope)
        return outs
    }

    /// A node's outputs made final: one per output name, reconciled with the declared types,
    /// negative sizes reported and dropped.
    func complete(_ outs: inout [ValueFacts?], _ ptr: UnsafePointer<Node>, names: ValueNames, declared: Declarations,
                  scope: [String]) {
        if outs.count > names.count { outs.removeLast(outs.count - names.count) }
        while outs.count < names.count { outs.append(nil) }
        for k in names.indices {
            let name = names[k]
            if !name.isEmpty, let d = declared[name] {
                outs[k] = reconcile(outs[k], declared: d, node: ptr, output: k, scope: scope)
            }
            if Self.hasNegativeDim(outs[k]), let fv = outs[k], case .tensor(let e, let dims?)? = fv.type {
                report(ptr.pointee, scope, "output \(k) ('\(name)') would have a negative dimension \(fv.type?.description ?? "")")
                outs[k] = .tensor(e, dims.map { d in (d?.intValueInline ?? 0) < 0 ? nil : d })
            }
        }
    }

    /// Whether a tensor's shape has a negative size (read in place: no copy of the facts).
    static func hasNegativeDim(_ f: ValueFacts?) -> Bool {
        guard case .tensor(_, let dims?)? = f?.type else { return false }
        for d in dims { if let v = d?.intValueInline, v < 0 { return true } }
        return false
    }

    /// When a rule cannot infer a node: the outputs' element types the schema still fixes (a
    /// type constraint shared with a typed input, or one that allows a single type), shapes
    /// unknown. What ONNX's own type propagation gives; not a guess.
    func elementTypesFromSchema(_ node: Node, _ inputs: [ValueFacts?]) -> [ValueFacts?] {
        let domain = node.domain == "ai.onnx" ? "" : node.domain
        let opset = domain.isEmpty ? defaultOpset : (opsets[domain] ?? 1)
        guard let schema = registry.schema(domain: domain, opType: node.opType, opsetVersion: Int(clamping: opset)) else {
            return []
        }
        var outs: [ValueFacts?] = []
        for k in node.outputs.indices {
            guard let formal = schema.formalOutput(at: k) else { outs.append(nil); continue }
            let allowed = schema.allowedTypes(of: formal).tensorElementTypes
            var e: ElementType? = allowed.count == 1 ? allowed.first : nil
            if e == nil {
                for j in inputs.indices where schema.formalInput(at: j)?.typeConstraint == formal.typeConstraint {
                    if case .tensor(let ej, _)? = inputs[j]?.type { e = ej; break }
                }
            }
            outs.append(e.map { .tensor($0, nil) })
        }
        return outs
    }

    /// Gives each unnamed unknown dim of a main-graph input its own symbol (`x_d2`), so a full
    /// input shape can later be bound by substitution. A negative size (`-1`) and the name
    /// `?`, which exporters (paddle2onnx) write for "dynamic", count as unnamed: two `?` dims
    /// of one input (height and width) are not the same size.
    static func naming(_ t: SymType, input: String) -> SymType {
        func unnamed(_ d: SymDim?) -> Bool { d == nil || (d?.intValue ?? 0) < 0 || d?.symbolName == "?" }
        guard case .tensor(let e, let dims?) = t, dims.contains(where: unnamed) else { return t }
        return .tensor(e, dims.enumerated().map { i, d in unnamed(d) ? .symbol("\(input)_d\(i)") : d })
    }

    /// Facts given to a body input, completed by its declaration.
    func merge(_ given: ValueFacts?, declared: ValueType?) -> ValueFacts? {
        guard let declared else { return given }
        guard let given, let gt = given.type else { return ValueFacts(type: SymType(declared)) }
        if case .tensor(let e, let gd) = gt, case .tensor(_, let dd?) = SymType(declared) {
            guard let gd else { return ValueFacts(type: .tensor(e, dd), value: given.value) }
            if gd.count == dd.count {
                return ValueFacts(type: .tensor(e, zip(gd, dd).map { $0 ?? $1 }), value: given.value)
            }
        }
        return given
    }

    /// An inferred output against its declaration: unknown parts are filled from the file; a
    /// contradiction (different element type, rank or fixed size) is reported and the inferred
    /// type kept. Works on the declared `ValueType` directly: a declared dim becomes a `SymDim`
    /// only where it fills an unknown one (graphs that declare every value pay no parsing for
    /// dims inference already knows).
    func reconcile(_ f: ValueFacts?, declared: ValueType, node ptr: UnsafePointer<Node>, output k: Int,
                   scope: [String]) -> ValueFacts? {
        guard let f, let t = f.type else { return ValueFacts(type: SymType(declared)) }
        guard case .tensor(let e, let dims) = t, case .tensor(let de, let shape) = declared else { return f }
        func contradiction() -> ValueFacts {
            report(ptr.pointee, scope, "output \(k) ('\(ptr.pointee.outputs[k])') is inferred \(t) but declared \(SymType(declared))")
            return f
        }
        if de != .undefined, e != de { return contradiction() }
        guard let ddims = shape?.dims else { return f }
        guard let dims else { return ValueFacts(type: .tensor(e, ddims.map { SymDim($0) }), value: f.value) }
        if dims.count != ddims.count { return contradiction() }
        var unknown = false
        for i in dims.indices {
            guard let d = dims[i] else { unknown = true; continue }
            guard let a = d.intValue else { continue }
            switch ddims[i] {
            case .known(let b): if a != b { return contradiction() }
            case .unknown: break
            case .symbolic: if let b = SymDim(ddims[i])?.intValue, a != b { return contradiction() }
            }
        }
        guard unknown else { return f }
        var merged = dims
        for i in dims.indices where merged[i] == nil { merged[i] = SymDim(ddims[i]) }
        return ValueFacts(type: .tensor(e, merged), value: f.value)
    }

    func report(_ node: Node, _ scope: [String], _ reason: String, kind: InferenceProblem.Kind = .inconsistent) {
        problems.append(InferenceProblem(node: node.id, nodeName: node.displayName, opType: node.qualifiedOpType,
                                         scope: scope, reason: reason, kind: kind))
    }

    /// The resolution of the node's op, made once per op type and call.
    func binding(_ ptr: UnsafePointer<Node>) -> OpBinding {
        let rawDomain = ptr.pointee.domain
        // Runs of one op (ConstantOfShape weights, chains of Add) hit the last binding; op
        // types are short strings, so comparing costs less than hashing.
        let opType = ptr.pointee.opType
        if rawDomain.isEmpty {
            if let b = lastBinding, b.domain.isEmpty, sameName(b.opType, opType) { return b }
            if let b = bindings[ValueName(opType)] { lastBinding = b; return b }  // no key built
        }
        let domain = rawDomain == "ai.onnx" ? "" : rawDomain
        let key = domain.isEmpty ? opType : domain + "::" + opType
        if let b = bindings[ValueName(key)] { lastBinding = b; return b }
        let opset = domain.isEmpty ? defaultOpset : (opsets[domain] ?? 1)
        let b = OpBinding(domain: domain, opType: opType, opset: opset, registry: registry,
                          function: functions.isEmpty ? nil : functions[domain + "::" + opType],
                          rule: InferenceRules.table[key], packed: PackedRules.table[key])
        bindings[ValueName(key)] = b
        lastBinding = b
        return b
    }

    /// One node: its rule, or a local function's body.
    func infer(_ ptr: UnsafePointer<Node>, inputs: [ValueFacts?], given: InputPresence, scopeChain: [[ValueName: ValueFacts]], scope: [String],
               keyPrefix: String) throws -> [ValueFacts?] {
        let op = binding(ptr)
        if let f = op.function {
            return try inferFunction(f, node: ptr.pointee, inputs: inputs, scope: scope,
                                     nodeKey: keyPrefix + "n\(ptr.pointee.id.rawValue)/")
        }
        guard let rule = op.rule else {
            let key = op.domain.isEmpty ? op.opType : op.domain + "::" + op.opType
            throw InferenceFailure("no inference rule for op \(key)" + (op.domain.isEmpty ? "" : " (domain \(op.domain))"), kind: .noRule)
        }
        var body: RuleContext.BodyInference?
        if ptr.pointee.hasSubgraphs {
            let node = ptr.pointee
            let nodeKey = keyPrefix + "n\(node.id.rawValue)/"
            body = { attribute, bodyInputs, quiet in
                let reported = self.problems.count
                defer { if quiet { self.problems.removeSubrange(reported...) } }
                return try self.inferBody(node, attribute: attribute, inputs: bodyInputs, scopeChain: scopeChain,
                                          scope: scope, nodeKey: nodeKey)
            }
        }
        let ctx = RuleContext(nodePointer: ptr, inputs: inputs, given: given, opset: op.opset, op: op,
                              bodyInference: body)
        return try rule(ctx)
    }

    /// Infers the body in attribute `attribute` of `node` with the given input facts.
    func inferBody(_ node: Node, attribute: String, inputs: [ValueFacts?], scopeChain: [[ValueName: ValueFacts]],
                   scope: [String], nodeKey: String) throws -> [ValueFacts?] {
        guard case .graph(let body)? = node.attribute(attribute) else {
            throw InferenceFailure("attribute '\(attribute)' is not a graph")
        }
        let key = nodeKey + attribute
        let r = run(body, outer: scopeChain, bodyInputs: inputs, scope: scope + [key], keyPrefix: key + "/")
        bodies[key] = FactTable(keyed: r.values)
        return r.outputs
    }

    /// A call of a model-local function: its body inferred with the call's inputs and
    /// attributes (reference attributes resolved to the call's values or the defaults).
    func inferFunction(_ f: Function, node: Node, inputs: [ValueFacts?], scope: [String],
                       nodeKey: String) throws -> [ValueFacts?] {
        guard functionDepth < 16 else { throw InferenceFailure("function '\(f.name)' calls itself too deeply") }
        functionDepth += 1
        defer { functionDepth -= 1 }
        var attrs: [String: AttributeValue] = [:]
        for a in f.attributeDefaults { attrs[a.name] = a.value }
        for a in node.attributes { attrs[a.name] = a.value }
        let key = nodeKey + "function"
        let r = run(f.body, outer: [], bodyInputs: inputs, scope: scope + [key], keyPrefix: key + "/", attributeBindings: attrs)
        bodies[key] = FactTable(keyed: r.values)
        return r.outputs
    }

    /// A function-body node with its reference attributes replaced by the call's values
    /// (a reference with no value is dropped, so the op's default applies).
    static func bindAttributes(_ node: Node, _ bindings: [String: AttributeValue]) -> Node {
        guard node.attributes.contains(where: { $0.refAttrName != nil }) else { return node }
        var n = node
        n.attributes = node.attributes.compactMap { a in
            guard let ref = a.refAttrName else { return a }
            guard let v = bindings[ref] else { return nil }
            return Attribute(a.name, v)
        }
        return n
    }
}

// MARK: Bodies in graph-list attributes

extension InferenceEngine {
    /// Bodies held in graph-list attributes (no ONNX op reads one, so no rule infers them): each
    /// is inferred on its own declared inputs with the enclosing scopes visible, so its values
    /// get types like any other body's. Their keys are `n12/attr.i` (the body's label).
    func inferGraphLists(_ node: Node, scopeChain: [[ValueName: ValueFacts]], scope: [String], keyPrefix: String) {
        for a in node.attributes {
            guard case .graphs(let graphs) = a.value else { continue }
            for (i, g) in graphs.enumerated() {
                let key = keyPrefix + "n\(node.id.rawValue)/\(a.name).\(i)"
                let r = run(g, outer: scopeChain, bodyInputs: g.inputs.map { _ in nil }, scope: scope + [key],
                            keyPrefix: key + "/")
                bodies[key] = FactTable(keyed: r.values)
            }
        }
    }
}

/// One op type as one inference call resolves it: its rule or model-local function, its
/// domain's opset, and its schema, looked up on the first attribute default a rule asks for.
/// A class so every node of the op shares the one lookup.
final class OpBinding {
    let domain: String
    let opType: String
    let opset: Int64
    let function: Function?
    /// Whether the op is a model-local function (read per node: comparing the optional
    /// `function` with nil went through its generic value witnesses).
    let isFunction: Bool
    let rule: InferenceRule?
    /// The packed walk's rule for the op's plain forms (PackedRules.swift), if it has one.
    let packed: PackedRule?
    let registry: OpRegistry
    private var looked = false
    private var cached: OpSchema?
    private var attributes: [AttributeSchema] = []

    init(domain: String, opType: String, opset: Int64, registry: OpRegistry, function: Function?, rule: InferenceRule?,
         packed: PackedRule? = nil) {
        self.domain = domain
        self.opType = opType
        self.opset = opset
        self.registry = registry
        self.function = function
        self.isFunction = function != nil
        self.rule = rule
        self.packed = packed
    }

    /// The op's schema at its opset (nil when unknown).
    var schema: OpSchema? {
        if !looked {
            cached = registry.schema(domain: domain, opType: opType, opsetVersion: Int(clamping: opset))
            attributes = cached?.attributes ?? []
            looked = true
        }
        return cached
    }

    /// The schema's default of attribute `name` (nil when none).
    func attributeDefault(_ name: String) -> AttributeDefault? {
        if !looked { _ = schema }
        for i in attributes.indices where attributes[i].name == name { return attributes[i].defaultValue }
        return nil
    }
}

/// A graph's declared types (value_info and typed outputs), which inferred outputs are
/// reconciled with. Most graphs declare only their outputs: a handful of names, compared
/// directly instead of hashing every value the walk defines.
struct Declarations {
    private var few: [(name: String, type: ValueType)] = []
    private var many: [ValueName: ValueType] = [:]

    init(_ graph: Graph) {
        if graph.valueInfo.count + graph.outputs.count > 8 {
            many.reserveCapacity(graph.valueInfo.count + graph.outputs.count)
            // Read in place: no copy of each declaration's other fields.
            graph.valueInfo.withUnsafeBufferPointer { buf in
                for i in buf.indices { if let t = buf[i].type { many[ValueName(buf[i].name)] = t } }
            }
            graph.outputs.withUnsafeBufferPointer { buf in
                for i in buf.indices { if let t = buf[i].type { many[ValueName(buf[i].name)] = t } }
            }
            if !many.isEmpty { return }
        }
        var all: [(name: String, type: ValueType)] = []
        for v in graph.valueInfo { if let t = v.type { all.append((v.name, t)) } }
        for v in graph.outputs { if let t = v.type { all.append((v.name, t)) } }
        // Later entries win, as in a dictionary built in this order.
        few = all.reversed()
    }

    subscript(name: String) -> ValueType? {
        if !many.isEmpty { return many[ValueName(name)] }
        for i in few.indices where sameName(few[i].name, name) { return few[i].type }
        return nil
    }
}
