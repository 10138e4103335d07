/// The rewriter: every change to a graph flows through a `Transaction` — edits from cells,
/// passes and plugins alike — so names stay unique (the name authority), new nodes carry
/// provenance (their sources and what made them), listeners hear of every applied edit, and a
/// failed transaction leaves nothing behind (the caller keeps the model it started from).
import GraphIR

/// Hears every edit a transaction applies (live validation, diff, statistics).
public protocol RewriteListener: AnyObject {
    /// Called after `edit` was applied; `effect` says which nodes and values it touched.
    func transaction(didApply edit: ScopedEdit, effect: EditEffect)
}

/// What one applied edit touched: enough to re-check only the changed region and to count
/// deltas for `history`.
public struct EditEffect: Sendable, Equatable {
    public var addedNodes: [NodeID] = []
    public var removedNodes: [NodeID] = []
    public var changedNodes: [NodeID] = []
    /// Values whose producer, uses or declaration changed.
    public var changedValues: [String] = []

    public init() {}

    mutating func merge(_ other: EditEffect) {
        addedNodes += other.addedNodes
        removedNodes += other.removedNodes
        changedNodes += other.changedNodes
        changedValues += other.changedValues
    }
}

/// Why an edit was refused (besides GraphIR's `GraphEditError`).
public struct EditError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A set of edits applied together to one model. Apply edits, then take `model`; on any
/// thrown error the caller drops the transaction and its model stays as it was.
public struct Transaction {
    /// The model with every edit so far applied.
    public private(set) var model: Model
    /// What makes the change (`edit`, `pass fuse-conv-bn`, `plugin NAME`); stamped on new nodes.
    public var origin: String
    /// The edits applied, in order (with fresh names filled in, so replaying them gives the
    /// same graph).
    public private(set) var applied: [ScopedEdit] = []
    /// Everything the edits touched, merged.
    public private(set) var effect = EditEffect()
    /// Let edits leave values used but undefined (for `--force` and mid-rewiring states).
    public var allowDangling: Bool
    /// Annotation keys the sources of a new node disagreed on (left off the new node), per new
    /// node: `fuse=true` on one part and `fuse=false` on another cannot both hold.
    public private(set) var annotationConflicts: [(node: NodeID, key: String, values: [String])] = []

    /// Records keys the sources of `node` disagree on, for a rewriter that read them before
    /// removing the sources (the transaction can only see sources still in the graph).
    public mutating func recordAnnotationConflicts(_ conflicts: [String: [String]], on node: NodeID) {
        for (k, vs) in conflicts.sorted(by: { $0.key < $1.key }) where !annotationConflicts.contains(where: { $0.node == node && $0.key == k }) {
            annotationConflicts.append((node, k, vs))
        }
    }
    private var names: NameAuthority
    private let listeners: [any RewriteListener]

    public init(_ model: Model, origin: String, allowDangling: Bool = false, listeners: [any RewriteListener] = []) {
        self.model = model
        self.origin = origin
        self.allowDangling = allowDangling
        self.listeners = listeners
        self.names = NameAuthority()
    }

    /// A value name not used anywhere in the main graph: `base`, else `base_1`, `base_2`, ...
    /// Deterministic for a given graph, so replaying a transaction gives the same names.
    public mutating func freshValueName(_ base: String) -> String {
        names.fresh(base) { model.graph.isValueNameInUse($0) }
    }

    /// A node name not used by any node of the main graph.
    public mutating func freshNodeName(_ base: String) -> String {
        names.fresh(base) { model.graph.isNodeNameInUse($0) }
    }

    /// Applies one edit (to a body when `scope` is given). Throws `GraphEditError` or
    /// `EditError`, and then the model is unchanged.
    @discardableResult
    public mutating func apply(_ edit: GraphEdit, in scope: [BodyStep] = []) throws -> EditEffect {
        var edit = edit
        var effect = EditEffect()
        // The opset import is the model's, not a graph's: no body, no node touched.
        if case .setOpset(let domain, let version) = edit {
            guard scope.isEmpty, version > 0 else { throw EditError("an opset import is set on the model, with a version above 0") }
            let d = domain == "ai.onnx" ? "" : domain
            if let i = model.opsetImports.firstIndex(where: { ($0.domain == "ai.onnx" ? "" : $0.domain) == d }) {
                model.opsetImports[i].version = version
            } else {
                model.opsetImports.append(OpsetImport(domain: d, version: version))
            }
            let scoped = ScopedEdit(edit, in: scope)
            applied.append(scoped)
            for l in listeners { l.transaction(didApply: scoped, effect: effect) }
            return effect
        }
        // Fresh names are chosen against the main graph (bodies may read its values).
        if case .addNode(var n) = edit {
            for k in n.outputs.indices where n.outputs[k].isEmpty {
                n.outputs[k] = freshValueName((n.name.isEmpty ? n.opType : n.name) + "_out\(k)")
            }
            if n.outputs.isEmpty { n.outputs = [freshValueName((n.name.isEmpty ? n.opType : n.name) + "_out0")] }
            edit = .addNode(n)
        }
        let origin = self.origin
        let allowDangling = self.allowDangling
        var conflicts: [String: [String]] = [:]
        try model.graph.modifyBody(at: scope) { g in
            if case .addNode(let spec) = edit { conflicts = inheritedAnnotations(spec.sources, in: g).conflicts }
            effect = try Transaction.apply(edit, to: &g, origin: origin, allowDangling: allowDangling)
        }
        if let id = effect.addedNodes.first {
            for (k, vs) in conflicts.sorted(by: { $0.key < $1.key }) { annotationConflicts.append((id, k, vs)) }
        }
        // A node of a domain the model does not import yet (a custom op): import its version 1,
        // as onnx.helper users do, or the written file names a domain it never declares.
        if case .addNode(let n) = edit, !n.domain.isEmpty, n.domain != "ai.onnx", model.opsetVersion(for: n.domain) == nil {
            model.opsetImports.append(OpsetImport(domain: n.domain, version: 1))
        }
        let scoped = ScopedEdit(edit, in: scope)
        applied.append(scoped)
        self.effect.merge(effect)
        for l in listeners { l.transaction(didApply: scoped, effect: effect) }
        return effect
    }

    /// Applies every edit of a list (a replayed step).
    public mutating func apply(_ edits: [ScopedEdit]) throws {
        for e in edits { try apply(e.edit, in: e.scope) }
    }

    /// Removes nodes of the main graph as `.removeNode` edits in the order given (what
    /// `applied`, the effects and the listeners see is the same as applying them one by one),
    /// with one pass over the node list instead of one per node: a rewrite that replaces a
    /// chain of k nodes, or a pass that drops many duplicates, costs O(N + k), not O(k·N).
    public mutating func apply(removingNodes ids: [NodeID]) throws {
        guard ids.count > 1 else {
            if let id = ids.first { try apply(.removeNode(id)) }
            return
        }
        let allowDangling = self.allowDangling
        var effects: [EditEffect] = []
        try model.graph.modifyBody(at: []) { g in
            var removed: [Node] = []
            var order: [NodeID: Int] = [:]
            for (k, id) in ids.enumerated() {
                guard let n = g.node(id) else { throw GraphEditError.noSuchNode(id) }
                removed.append(n)
                order[id] = order[id] ?? k
            }
            // One by one, an output loses its value_info once nothing reads it after its own
            // node is gone: readers outside the list, or listed after it, kept it.
            var stillRead: [[Bool]] = []
            for (k, n) in removed.enumerated() {
                stillRead.append(n.outputs.map { o in
                    var read = false
                    if !o.isEmpty { g.forEachUse(of: o) { if (order[$0.node] ?? Int.max) > k { read = true } } }
                    return read
                })
            }
            try g.removeNodes(ids, allowDangling: allowDangling)
            for (k, n) in removed.enumerated() {
                for (j, o) in n.outputs.enumerated() where !o.isEmpty && !stillRead[k][j] && !g.outputs.contains(where: { $0.name == o }) {
                    g.removeValueInfo(named: o)
                }
                var effect = EditEffect()
                effect.removedNodes = [n.id]
                effect.changedValues = Array(n.outputs) + Array(n.inputs).filter { !$0.isEmpty }
                effects.append(effect)
            }
        }
        record(ids.map { .removeNode($0) }, effects: effects)
    }

    /// Records edits a batch applied to the main graph as if applied one by one: in `applied`,
    /// the merged effect and one listener call each.
    private mutating func record(_ edits: [GraphEdit], effects: [EditEffect]) {
        for (edit, effect) in zip(edits, effects) {
            let scoped = ScopedEdit(edit, in: [])
            applied.append(scoped)
            self.effect.merge(effect)
            for l in listeners { l.transaction(didApply: scoped, effect: effect) }
        }
    }

    /// The effect of removing a value's definition or declaration (an initializer, an input).
    private static func touching(_ name: String) -> EditEffect {
        var effect = EditEffect()
        effect.changedValues = [name]
        return effect
    }

    /// Removes initializers of the main graph as `.removeInitializer` edits in the order given
    /// (the same for `applied`, the effects and the listeners as one by one), with one pass
    /// over the initializer list: a pass dropping thousands of duplicate weights stays linear.
    public mutating func apply(removingInitializers names: [String]) throws {
        // Read the graph in this block only: a copy alive across the edit would make it copy the graph.
        let oneByOne: Bool = try {
            let g = model.graph
            // A name a graph input also declares (IR < 4) has its own rule: one by one.
            if names.count < 2 || names.contains(where: { if case .graphInput = g.producer(of: $0) { return true }; return false }) {
                return true
            }
            for name in names where !self.allowDangling && g.initializer(named: name) != nil { try requireUnused(name, "initializer", in: g) }
            return false
        }()
        if oneByOne {
            for name in names { try apply(.removeInitializer(name)) }
            return
        }
        let allowDangling = self.allowDangling
        try model.graph.modifyBody(at: []) { g in try g.removeInitializers(named: names, allowDangling: allowDangling) }
        record(names.map { .removeInitializer($0) }, effects: names.map(Transaction.touching))
    }

    /// Removes graph inputs of the main graph as `.removeInput` edits in the order given (the
    /// same for `applied`, the effects and the listeners as one by one), in one pass over the
    /// input list when each is an input an initializer of the same name keeps defining (IR < 4).
    public mutating func apply(removingInputs names: [String]) throws {
        let batch: Bool = {
            let g = model.graph
            return names.count > 1 && Set(names).count == names.count && names.allSatisfy { name in
                if case .graphInput = g.producer(of: name) { return g.initializer(named: name) != nil }
                return false
            }
        }()
        guard batch else {
            for name in names { try apply(.removeInput(name)) }
            return
        }
        try model.graph.modifyBody(at: []) { g in g.removeInputs(named: names) }
        record(names.map { .removeInput($0) }, effects: names.map(Transaction.touching))
    }

    // MARK: - One edit on one graph

    static func apply(_ edit: GraphEdit, to g: inout Graph, origin: String, allowDangling: Bool) throws -> EditEffect {
        var effect = EditEffect()
        switch edit {
        case .addNode(let spec):
            // Annotations follow provenance: the new node inherits its sources' (its own win).
            var annotations = spec.annotations
            for (k, v) in inheritedAnnotations(spec.sources, in: g).values where annotations[k] == nil { annotations[k] = v }
            // A node made from others sits in their common scope (a fused node where its parts were).
            let node = Node(opType: spec.opType, domain: spec.domain, name: spec.name, inputs: spec.inputs, outputs: spec.outputs,
                            attributes: spec.attributes, annotations: annotations,
                            provenance: Provenance(sources: spec.sources, origin: origin),
                            hierarchyPath: spec.hierarchyPath ?? commonScope(spec.sources, in: g))
            let id = try g.addNode(node)
            effect.addedNodes = [id]
            effect.changedValues = spec.outputs + spec.inputs.filter { !$0.isEmpty }
        case .removeNode(let id):
            guard let n = g.node(id) else { throw GraphEditError.noSuchNode(id) }
            try g.removeNode(id, allowDangling: allowDangling)
            // A removed value keeps no declaration (value_info): it would describe nothing, and
            // a later value of the same name would inherit a stale type.
            for o in n.outputs where !o.isEmpty && g.useCount(of: o) == 0 && !g.outputs.contains(where: { $0.name == o }) {
                g.removeValueInfo(named: o)
            }
            effect.removedNodes = [id]
            effect.changedValues = Array(n.outputs) + Array(n.inputs).filter { !$0.isEmpty }
        case .replaceUses(let old, let new):
            let users = g.uses(of: old).map(\.node)
            try g.replaceAllUses(of: old, with: new)
            effect.changedNodes = users
            effect.changedValues = [old, new]
        case .setInput(let id, let index, let value):
            guard let n = g.node(id) else { throw GraphEditError.noSuchNode(id) }
            if !value.isEmpty && g.producer(of: value) == .none && !allowDangling {
                throw GraphEditError.noSuchValue(value)
            }
            let old = index < n.inputs.count ? n.inputs[index] : ""
            try g.setInput(of: id, at: index, to: value)
            effect.changedNodes = [id]
            effect.changedValues = [old, value].filter { !$0.isEmpty }
        case .setAttribute(let id, let name, let value):
            try g.modifyNode(id) { $0.setAttribute(name, value) }
            effect.changedNodes = [id]
        case .renameNode(let id, let to):
            try g.renameNode(id, to: to)
            effect.changedNodes = [id]
        case .renameValue(let old, let new):
            let touched = g.uses(of: old).map(\.node) + (g.producer(of: old).nodeID.map { [$0] } ?? [])
            try g.renameValue(old, to: new)
            effect.changedNodes = touched
            effect.changedValues = [old, new]
        case .addInput(let name, let type):
            try g.addInput(ValueInfo(name: name, type: type))
            effect.changedValues = [name]
        case .removeInput(let name):
            // Inputs win as producers: the index answers without a scan of the input list.
            guard case .graphInput = g.producer(of: name) else { throw EditError("no graph input '\(name)'") }
            if !allowDangling && g.initializer(named: name) == nil { try requireUnused(name, "graph input", in: g) }
            g.removeInput(named: name)
            effect.changedValues = [name]
        case .addOutput(let name, let type):
            guard !g.outputs.contains(where: { $0.name == name }) else { throw EditError("'\(name)' is already a graph output") }
            if g.producer(of: name) == .none && !allowDangling { throw GraphEditError.noSuchValue(name) }
            g.setOutputs(g.outputs + [ValueInfo(name: name, type: type)])
            effect.changedValues = [name]
        case .removeOutput(let name):
            guard g.outputs.contains(where: { $0.name == name }) else { throw EditError("no graph output '\(name)'") }
            g.setOutputs(g.outputs.filter { $0.name != name })
            effect.changedValues = [name]
        case .setInitializer(let t):
            try g.setInitializer(t)
            effect.changedValues = [t.name]
            effect.changedNodes = g.uses(of: t.name).map(\.node)
        case .removeInitializer(let name):
            // A graph input of the same name (IR < 4) keeps defining the value for its readers.
            var declared = false
            if case .graphInput = g.producer(of: name) { declared = true }
            if !allowDangling && !declared && g.initializer(named: name) != nil { try requireUnused(name, "initializer", in: g) }
            try g.removeInitializer(named: name, allowDangling: allowDangling || declared)
            effect.changedValues = [name]
        case .setValueType(let name, let type):
            if let i = g.inputs.firstIndex(where: { $0.name == name }) {
                var ins = g.inputs
                ins[i].type = type
                g.setInputs(ins)
            } else if let i = g.outputs.firstIndex(where: { $0.name == name }) {
                var outs = g.outputs
                outs[i].type = type
                g.setOutputs(outs)
            } else if g.producer(of: name) != .none {
                if let type { g.setValueInfo(ValueInfo(name: name, type: type)) } else { g.removeValueInfo(named: name) }
            } else {
                throw GraphEditError.noSuchValue(name)
            }
            effect.changedValues = [name]
        case .setDimension(let from, let to, let value, let axis):
            effect.changedValues = try DimensionEdit.apply(from: from, to: to, value: value, axis: axis, to: &g)
        case .annotate(let id, let key, let value):
            try g.annotate(id, key: key, value: value)
            effect.changedNodes = [id]
        case .setOpset:
            throw EditError("an opset import is set on the model, not on a graph")
        }
        return effect
    }
}

/// Refuses removing the declaration of `name` (a graph input or initializer) while nodes read
/// it, naming the readers: they would read a value nothing defines.
private func requireUnused(_ name: String, _ what: String, in g: Graph) throws {
    let users = g.uses(of: name).map(\.node)
    guard !users.isEmpty else { return }
    let shown = users.prefix(4).map { id in "\(id)" + (g.node(id).map { $0.name.isEmpty ? "" : " '\($0.name)'" } ?? "") }
    throw EditError("cannot remove \(what) '\(name)': it is still used by " + shown.joined(separator: ", ")
        + (users.count > 4 ? " and \(users.count - 4) more" : ""))
}

/// The annotations a node made from `sources` inherits: every key its sources agree on.
/// Keys they disagree on are left out and listed as conflicts (`fuse=true` on one part and
/// `fuse=false` on another cannot both hold for the fused node).
public func inheritedAnnotations(_ sources: [NodeID], in g: Graph) -> (values: [String: String], conflicts: [String: [String]]) {
    var values: [String: String] = [:]
    var seen: [String: Set<String>] = [:]
    for id in sources {
        for (k, v) in g.node(id)?.annotations ?? [:] { seen[k, default: []].insert(v) }
    }
    var conflicts: [String: [String]] = [:]
    for (k, vs) in seen {
        if vs.count == 1, let v = vs.first { values[k] = v } else { conflicts[k] = vs.sorted() }
    }
    return (values, conflicts)
}

/// The deepest hierarchy path every one of `sources` sits under (nil when there are no
/// sources, or they share no scope): where a node made from them belongs.
public func commonScope(_ sources: [NodeID], in g: Graph) -> [String]? {
    var common: [String]? = nil
    for id in sources {
        guard let n = g.node(id) else { continue }
        let p = Hierarchy.path(of: n).0
        guard let c = common else { common = p; continue }
        common = Array(zip(c, p).prefix { $0.0 == $0.1 }.map(\.0))
    }
    guard let c = common, !c.isEmpty else { return nil }
    return c
}

/// Hands out names no value (or node) uses yet, as onnx-ir's name authority does. Suffix
/// counters are kept per base so k fresh names cost O(k) lookups, not O(k²).
struct NameAuthority {
    private var next: [String: Int] = [:]

    mutating func fresh(_ base: String, isUsed: (String) -> Bool) -> String {
        let base = base.isEmpty ? "v" : base
        var k = next[base] ?? 0
        while true {
            let candidate = k == 0 ? base : "\(base)_\(k)"
            k += 1
            if !isUsed(candidate) {
                next[base] = k
                return candidate
            }
        }
    }
}
