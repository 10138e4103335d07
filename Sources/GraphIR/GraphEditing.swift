/// The edit API of `Graph`: add/remove nodes, rewire inputs, replace uses, rename values,
/// change declarations. Every edit keeps node order topological and the producer/use index
/// exact, or throws and leaves the graph unchanged.

/// Why an edit was refused.
public enum GraphEditError: Error, CustomStringConvertible, Equatable, Sendable {
    /// No node with this id in the graph.
    case noSuchNode(NodeID)
    /// The value is already defined (by a node, input or initializer).
    case valueAlreadyDefined(String)
    /// The value does not exist in the graph.
    case noSuchValue(String)
    /// Removing the node would leave these values used but undefined.
    case outputsStillUsed(node: NodeID, values: [String])
    /// The edit would create a cycle through these nodes' values.
    case wouldCreateCycle(String)
    /// An input index outside `0...inputs.count`.
    case inputIndexOutOfRange(node: NodeID, index: Int, count: Int)
    /// The node has no body under this attribute and index.
    case noSuchBody(owner: NodeID, attribute: String, index: Int)

    public var description: String {
        switch self {
        case .noSuchNode(let id): return "no node \(id) in the graph"
        case .valueAlreadyDefined(let v): return "value '\(v)' is already defined"
        case .noSuchValue(let v): return "no value named '\(v)' in the graph"
        case .outputsStillUsed(let id, let vs):
            return "cannot remove node \(id): its outputs \(vs.map { "'\($0)'" }.joined(separator: ", ")) are still used"
        case .wouldCreateCycle(let what): return "edit would create a cycle: \(what)"
        case .inputIndexOutOfRange(let id, let i, let c): return "node \(id) has \(c) inputs; index \(i) is out of range"
        case .noSuchBody(let id, let a, let i): return "node \(id) has no body '\(a)'\(i == 0 ? "" : " #\(i)")"
        }
    }
}

extension Graph {
    /// Adds `node` (its `id` is replaced by a fresh one from the model-wide id space, so it is
    /// unique across the main graph, every body and every function) at the first position
    /// after all its producers, and returns the new id. Fails if an output is already defined or the node
    /// would close a cycle.
    @discardableResult
    public mutating func addNode(_ node: Node) throws -> NodeID {
        makeUnique()
        var n = node
        for o in n.outputs where !o.isEmpty {
            if storage.values[producer: o] != nil { throw GraphEditError.valueAlreadyDefined(o) }
        }
        if Set(n.outputs.filter { !$0.isEmpty }).count != n.outputs.filter({ !$0.isEmpty }).count {
            throw GraphEditError.valueAlreadyDefined(n.outputs.first { o in n.outputs.filter { $0 == o }.count > 1 } ?? "")
        }
        let ownOutputs = Set(n.outputs.filter { !$0.isEmpty })
        if let loop = Graph.consumedNames(of: n).first(where: { ownOutputs.contains($0) }) {
            throw GraphEditError.wouldCreateCycle("node reads its own output '\(loop)'")
        }
        adoptNodeIDSpaces(of: CollectionOfOne(n))
        n.id = NodeID(storage.ids.allocate())
        var insertAt = 0
        for name in Graph.consumedNames(of: n) {
            if let pid = storage.values[producer: name]?.nodeID, let p = storage.position[pid] { insertAt = max(insertAt, p + 1) }
        }
        var firstConsumer = Int.max
        for o in n.outputs where !o.isEmpty {
            for u in storage.values[uses: o] ?? [] { if let p = storage.position[u.node] { firstConsumer = min(firstConsumer, p) } }
        }
        let at = min(insertAt, storage.nodes.count)
        // Existing (dangling) consumers before the insertion point need a re-sort, which may
        // find a cycle: only then is a backup worth its O(N) copy. A consumer exactly at the
        // insertion point moves up one place and stays after the node (the usual case when a
        // fusion re-adds a removed chain's output: no re-sort, no full order check).
        let needsResort = firstConsumer != Int.max && firstConsumer < at
        let backup = needsResort ? storage.copy() : nil
        storage.nodes.insert(n, at: at)
        storage.position[n.id] = at
        storage.renumber(from: at + 1)
        for (k, o) in n.outputs.enumerated() where !o.isEmpty { storage.values[producer: o] = .node(n.id, output: k) }
        addUses(of: n)
        updateOuterReferences(touching: Graph.consumedNames(of: n) + n.outputs.array)
        if let backup {
            // Existing consumers precede the producers of this node's inputs: re-sort.
            guard resortIfNeeded() else {
                storage = backup
                throw GraphEditError.wouldCreateCycle("node '\(n.name.isEmpty ? n.opType : n.name)' feeds its own inputs")
            }
        }
        return n.id
    }

    /// Removes a node. Its outputs become undefined; unless `allowDangling`, that is refused
    /// while they still have uses or are graph outputs.
    public mutating func removeNode(_ id: NodeID, allowDangling: Bool = false) throws {
        guard let p = storage.position[id] else { throw GraphEditError.noSuchNode(id) }
        let n = storage.nodes[p]
        if !allowDangling {
            let outs = Set(storage.outputs.map(\.name))
            let used = n.outputs.array.filter { !$0.isEmpty && (!(storage.values[uses: $0] ?? []).isEmpty || outs.contains($0)) }
            if !used.isEmpty { throw GraphEditError.outputsStillUsed(node: id, values: used) }
        }
        makeUnique()
        removeUses(of: n)
        for o in n.outputs where !o.isEmpty {
            if case .node(let pid, _)? = storage.values[producer: o], pid == id { storage.values[producer: o] = nil }
        }
        storage.nodes.remove(at: p)
        storage.position[id] = nil
        storage.renumber(from: p)
        updateOuterReferences(touching: Graph.consumedNames(of: n) + n.outputs.array)
    }

    /// Makes input `index` of node `id` read `value` (`""` omits an optional input);
    /// `index == inputs.count` appends.
    public mutating func setInput(of id: NodeID, at index: Int, to value: String) throws {
        guard let p = storage.position[id] else { throw GraphEditError.noSuchNode(id) }
        let count = storage.nodes[p].inputs.count
        guard index >= 0 && index <= count else {
            throw GraphEditError.inputIndexOutOfRange(node: id, index: index, count: count)
        }
        try modifyNode(id) { n in
            if index == count { n.inputs.append(value) } else { n.inputs[index] = value }
        }
    }

    /// Points every use of `old` at `new` (explicit inputs and subgraph references); with
    /// `includingGraphOutputs` a graph output named `old` becomes `new` (keeping its declared
    /// type). Refused if `new` is undefined or the rewiring would close a cycle.
    public mutating func replaceAllUses(of old: String, with new: String, includingGraphOutputs: Bool = true) throws {
        guard old != new else { return }
        guard producer(of: new) != .none else { throw GraphEditError.noSuchValue(new) }
        makeUnique()
        let oldUses = storage.values[uses: old] ?? []
        let affected = Set(oldUses.map(\.node))
        var rewired: [(position: Int, before: Node)] = []
        if affected.allSatisfy({ id in storage.position[id].map { !storage.nodes[$0].hasSubgraphs } ?? false }) {
            // Plain inputs only: the uses of `old` move to `new` as they are (each reader's
            // other inputs keep theirs: a constant read by thousands of nodes is not rescanned).
            for id in affected {
                guard let p = storage.position[id] else { continue }
                let before = storage.nodes[p]
                var n = before
                for i in n.inputs.indices where n.inputs[i] == old { n.inputs[i] = new }
                storage.nodes[p] = n
                rewired.append((p, before))
            }
            for u in oldUses { storage.values.appendUse(u, to: new) }
            storage.values[uses: old] = nil
        } else {
            for id in affected {
                guard let p = storage.position[id] else { continue }
                let before = storage.nodes[p]
                removeUses(of: before)
                var n = before
                for i in n.inputs.indices where n.inputs[i] == old { n.inputs[i] = new }
                for ai in n.attributes.indices {
                    n.attributes[ai].value = Graph.renamingOuter(in: n.attributes[ai].value, from: old, to: new)
                }
                storage.nodes[p] = n
                addUses(of: n)
                rewired.append((p, before))
            }
        }
        var outputsRenamed = false
        if includingGraphOutputs {
            for i in storage.outputs.indices where storage.outputs[i].name == old {
                storage.outputs[i].name = new
                outputsRenamed = true
            }
            if outputsRenamed { reindex() }
        }
        updateOuterReferences(touching: [old, new])
        // Each rewired consumer must still come after the producer of `new`.
        guard !rewired.allSatisfy({ isLocallyOrdered(at: $0.position) }) else { return }
        guard resortIfNeeded() else {
            for (p, before) in rewired {
                let now = storage.nodes[p]
                removeUses(of: now)
                storage.nodes[p] = before
                addUses(of: before)
            }
            if outputsRenamed {
                for i in storage.outputs.indices where storage.outputs[i].name == new { storage.outputs[i].name = old }
                reindex()
            }
            updateOuterReferences(touching: [old, new])
            throw GraphEditError.wouldCreateCycle("'\(new)' depends on a consumer of '\(old)'")
        }
    }

    /// Renames a value everywhere in this graph: its producer's output, every use (including
    /// subgraph references), declarations and initializers.
    public mutating func renameValue(_ old: String, to new: String) throws {
        guard old != new else { return }
        guard value(named: old) != nil || initializer(named: old) != nil else { throw GraphEditError.noSuchValue(old) }
        if value(named: new) != nil || storage.values[producer: new] != nil { throw GraphEditError.valueAlreadyDefined(new) }
        makeUnique()
        let s = storage
        for i in s.nodes.indices {
            var n = s.nodes[i]
            var changed = false
            for k in n.inputs.indices where n.inputs[k] == old { n.inputs[k] = new; changed = true }
            for k in n.outputs.indices where n.outputs[k] == old { n.outputs[k] = new; changed = true }
            for ai in n.attributes.indices where !n.attributes[ai].value.subgraphs.isEmpty {
                n.attributes[ai].value = Graph.renamingOuter(in: n.attributes[ai].value, from: old, to: new)
                changed = true
            }
            if changed { s.nodes[i] = n }
        }
        for i in s.inputs.indices where s.inputs[i].name == old { s.inputs[i].name = new }
        for i in s.outputs.indices where s.outputs[i].name == old { s.outputs[i].name = new }
        for i in s.valueInfo.indices where s.valueInfo[i].name == old { s.valueInfo[i].name = new }
        for i in s.initializers.indices where s.initializers[i].name == old { s.initializers[i].name = new }
        for i in s.sparseInitializers.indices where s.sparseInitializers[i].values.name == old {
            s.sparseInitializers[i].values.name = new
        }
        reindex()
    }

    /// Edits a node in place through `body` (name, attributes, annotations, inputs, outputs,
    /// ...). The id cannot change. The index is updated and order re-sorted when wiring
    /// changed; refused (graph unchanged) if outputs clash or a cycle appears.
    public mutating func modifyNode(_ id: NodeID, _ body: (inout Node) throws -> Void) throws {
        guard let p = storage.position[id] else { throw GraphEditError.noSuchNode(id) }
        let before = storage.nodes[p]
        var n = before
        try body(&n)
        n.id = id
        if n.hasSubgraphs { adoptNodeIDSpaces(of: CollectionOfOne(n)) }
        let wiringChanged = n.inputs != before.inputs || n.outputs != before.outputs
            || n.subgraphs.map(\.graph.outerScopeReferences) != before.subgraphs.map(\.graph.outerScopeReferences)
        makeUnique()
        if !wiringChanged {
            storage.nodes[p] = n
            return
        }
        for o in n.outputs where !o.isEmpty && !before.outputs.contains(o) {
            if storage.values[producer: o] != nil { throw GraphEditError.valueAlreadyDefined(o) }
        }
        func install(_ from: Node, _ to: Node) {
            removeUses(of: from)
            for o in from.outputs where !o.isEmpty {
                if case .node(let pid, _)? = storage.values[producer: o], pid == id { storage.values[producer: o] = nil }
            }
            storage.nodes[p] = to
            for (k, o) in to.outputs.enumerated() where !o.isEmpty { storage.values[producer: o] = .node(id, output: k) }
            addUses(of: to)
            updateOuterReferences(touching: Graph.consumedNames(of: from) + from.outputs.array
                                  + Graph.consumedNames(of: to) + to.outputs.array)
        }
        install(before, n)
        // Only this node's wiring changed: the order stays topological if it is in order
        // locally; otherwise re-sort, and on a cycle put the node back as it was.
        if !isLocallyOrdered(at: p) {
            guard resortIfNeeded() else {
                install(n, before)
                throw GraphEditError.wouldCreateCycle("node \(id) would depend on its own outputs")
            }
        }
    }

    /// Edits the body reached by `steps` (this graph for no steps) in place, through each
    /// owner's `modifyNode`, so the owners' reads of outer values stay exact. Nodes added in
    /// the body get ids from the model-wide space, like any `addNode`. Refused (graph
    /// unchanged) when a step names no body, or when `edit` or an owner's update throws.
    @discardableResult
    public mutating func modifyBody<R>(at steps: [BodyStep], _ edit: (inout Graph) throws -> R) throws -> R {
        guard let step = steps.first else { return try edit(&self) }
        guard node(step.owner) != nil else { throw GraphEditError.noSuchNode(step.owner) }
        var result: R?
        try modifyNode(step.owner) { n in
            let missing = GraphEditError.noSuchBody(owner: step.owner, attribute: step.attribute, index: step.index)
            guard let ai = n.attributes.firstIndex(where: { $0.name == step.attribute }) else { throw missing }
            switch n.attributes[ai].value {
            case .graph(var g) where step.index == 0:
                result = try g.modifyBody(at: Array(steps.dropFirst()), edit)
                n.attributes[ai].value = .graph(g)
            case .graphs(var gs) where gs.indices.contains(step.index):
                result = try gs[step.index].modifyBody(at: Array(steps.dropFirst()), edit)
                n.attributes[ai].value = .graphs(gs)
            default:
                throw missing
            }
        }
        guard let result else { throw GraphEditError.noSuchNode(step.owner) }  // modifyNode always runs the closure
        return result
    }

    /// Adds a graph input declaration (the name must not be defined yet).
    public mutating func addInput(_ info: ValueInfo) throws {
        if storage.values[producer: info.name] != nil && initializer(named: info.name) == nil {
            throw GraphEditError.valueAlreadyDefined(info.name)
        }
        makeUnique()
        storage.inputs.append(info)
        // Inputs precede every node and, being the last input of this name, win over an
        // initializer of the same name (as the full index build decides): one index entry, and
        // readers that dangled are resolved.
        storage.values.defineInput(info.name, index: storage.inputs.count - 1, type: info.type)
        updateOuterReferences(touching: [info.name])
    }

    /// Removes every graph input named `name`. Readers keep an initializer of the same name as
    /// their producer (IR version 3 and older list each initializer as an input too); without
    /// one they dangle, which `validate` reports.
    public mutating func removeInput(named name: String) {
        // The index knows the position unless two inputs ever shared a name; then scan (index
        // loops, not `contains(where:)`: an iterator copies every element it passes).
        var removed: [Int] = []
        if !storage.values.hasDuplicateInputs {
            guard case .graphInput(let j)? = storage.values[producer: name] else { return }
            removed = [j]
        } else {
            let inputs = storage.inputs
            for k in inputs.indices where inputs[k].name == name { removed.append(k) }
        }
        guard let first = removed.first else { return }
        makeUnique()
        for k in removed.reversed() { storage.inputs.remove(at: k) }
        // One input of that name is incremental: an initializer of the same name (IR < 4) defines
        // the value from now on, or nothing does and its readers dangle; the declared type falls
        // back to an output's or value_info's; later inputs move up one place. A node writing the
        // same name (which the input hid) or several inputs of that name rebuild the index.
        guard removed.count == 1 else { reindex(); return }
        let hasInitializer = storage.values[initializer: name] != nil
        if !hasInitializer && storage.nodes.contains(where: { $0.outputs.contains(name) }) { reindex(); return }
        storage.values.removeInput(at: first)
        storage.values[producer: name] = hasInitializer ? .initializer : nil
        let declared = storage.outputs.last(where: { $0.name == name && $0.type != nil })?.type
            ?? storage.valueInfo.last(where: { $0.name == name && $0.type != nil })?.type
        storage.values.setDeclaredType(name, declared)
        updateOuterReferences(touching: [name])
    }

    /// Replaces the graph input list (names need not be defined elsewhere; uses of a removed
    /// input become dangling, which `validate` reports).
    public mutating func setInputs(_ inputs: [ValueInfo]) {
        makeUnique()
        storage.inputs = inputs
        reindex()
    }

    /// Removes the `value_info` declaration of a value, if any.
    public mutating func removeValueInfo(named name: String) {
        guard storage.valueInfo.contains(where: { $0.name == name }) else { return }
        makeUnique()
        storage.valueInfo.removeAll { $0.name == name }
        refreshDeclaredType(of: name)
    }

    /// Sets the index's declared type of `name` as a full index build would: the last typed
    /// input of that name wins, then the last typed output, then the last typed value_info.
    /// (A declaration changes no producer or use: the rest of the index stays exact.)
    mutating func refreshDeclaredType(of name: String) {
        let s = storage
        let declared = s.inputs.last { $0.name == name && $0.type != nil }?.type
            ?? s.outputs.last { $0.name == name && $0.type != nil }?.type
            ?? s.valueInfo.last { $0.name == name && $0.type != nil }?.type
        s.values.setDeclaredType(name, declared)
    }

    /// True when `name` is defined, used, declared or an output anywhere in this graph: a
    /// fresh name must avoid all of them.
    public func isValueNameInUse(_ name: String) -> Bool {
        if storage.values[producer: name] != nil { return true }
        if !(storage.values[uses: name] ?? []).isEmpty { return true }
        return storage.outputs.contains { $0.name == name } || storage.valueInfo.contains { $0.name == name }
    }

    /// True when some node of this graph is named `name`.
    public func isNodeNameInUse(_ name: String) -> Bool {
        storage.nodes.contains { $0.name == name }
    }

    /// Replaces the graph output list (names need not be defined; `validate` reports those).
    public mutating func setOutputs(_ outputs: [ValueInfo]) {
        makeUnique()
        storage.outputs = outputs
        reindex()
    }

    /// Replaces or adds `value_info` for a value (types of intermediates); nil type removes it.
    public mutating func setValueInfo(_ info: ValueInfo) {
        makeUnique()
        if let i = storage.valueInfo.firstIndex(where: { $0.name == info.name }) { storage.valueInfo[i] = info }
        else { storage.valueInfo.append(info) }
        refreshDeclaredType(of: info.name)
    }

    /// Adds or replaces (same name) an initializer.
    public mutating func setInitializer(_ tensor: Tensor) throws {
        if storage.values[producer: tensor.name]?.nodeID != nil { throw GraphEditError.valueAlreadyDefined(tensor.name) }
        makeUnique()
        let name = tensor.name
        if let i = storage.values[initializer: name] {
            // Same name, same position and producer: the index stays exact.
            storage.initializers[i] = tensor
            return
        }
        storage.initializers.append(tensor)
        // A name nothing defines (a pass's fresh weight, or a folded node's output whose readers
        // dangle for a moment) or that a graph input defines (IR < 4) is one index entry: an
        // initializer precedes every node, and an input of the same name stays the producer.
        // Anything else (a sparse initializer of that name) rebuilds the index.
        let producer = storage.values[producer: name]
        var isInput = false
        if case .graphInput? = producer { isInput = true }
        if producer == nil || isInput {
            _ = storage.values.defineInitializer(name, position: storage.initializers.count - 1)
            if case .graphInput? = producer { storage.values[producer: name] = producer }
            updateOuterReferences(touching: [name])
        } else {
            reindex()
        }
    }

    /// Removes an initializer; refused while it is still used unless `allowDangling`.
    public mutating func removeInitializer(named name: String, allowDangling: Bool = false) throws {
        guard let i = storage.values[initializer: name] else { throw GraphEditError.noSuchValue(name) }
        if !allowDangling && !(storage.values[uses: name] ?? []).isEmpty {
            throw GraphEditError.outputsStillUsed(node: NodeID(-1), values: [name])
        }
        makeUnique()
        storage.initializers.remove(at: i)
        // An initializer nothing reads, or one a graph input of the same name (IR < 4) keeps
        // defining for its readers: clear its entry and move the later ones up (each only when
        // its entry pointed at it: duplicate names keep the first).
        // Inputs win as producers, so the index says whether an input declares the name.
        var isInput = false
        if case .graphInput? = storage.values[producer: name] { isInput = true }
        let initializers = storage.initializers
        let duplicate = storage.values.hasDuplicateInitializers && initializers.indices.contains { initializers[$0].name == name }
        if (isInput || (storage.values[uses: name] ?? []).isEmpty) && !storage.outerReferences.contains(name) && !duplicate {
            storage.values.removeInitializer(at: i)
            if !isInput { storage.values[producer: name] = nil }
        } else {
            reindex()
        }
    }

    /// Renames a node (names are labels, not identity: the id stays).
    public mutating func renameNode(_ id: NodeID, to name: String) throws {
        try modifyNode(id) { $0.name = name }
    }

    /// Sets an annotation on a node (kept across all edits).
    public mutating func annotate(_ id: NodeID, key: String, value: String?) throws {
        try modifyNode(id) { $0.annotations[key] = value }
    }

    /// Makes sure ids below `n` are never handed out by `addNode` in this graph or any graph
    /// sharing its id space (for ids given to nodes built elsewhere).
    public func reserveNodeIDs(below n: Int) {
        storage.ids.reserve(below: n)
    }

    // MARK: - Helpers

    /// Re-sorts when the order is no longer topological; false when there is a cycle.
    mutating func resortIfNeeded() -> Bool {
        if isTopologicallyOrdered() { return true }
        guard let order = topologicalOrder() else { return false }
        storage.nodes = order.map { storage.nodes[$0] }
        for (p, n) in storage.nodes.enumerated() { storage.position[n.id] = p }
        return true
    }

    /// True when every node comes after the producers of everything it reads.
    public func isTopologicallyOrdered() -> Bool {
        for (p, n) in storage.nodes.enumerated() {
            for name in Graph.consumedNames(of: n) where !name.isEmpty {
                if let pid = storage.values[producer: name]?.nodeID, let pp = storage.position[pid], pp >= p { return false }
            }
        }
        return true
    }

    /// Renames outer-scope references `old` -> `new` inside subgraphs held by `value`.
    static func renamingOuter(in value: AttributeValue, from old: String, to new: String) -> AttributeValue {
        switch value {
        case .graph(let g): return .graph(g.renamingOuterReference(old, to: new))
        case .graphs(let gs): return .graphs(gs.map { $0.renamingOuterReference(old, to: new) })
        default: return value
        }
    }

    /// A copy of this subgraph where reads of the outer value `old` read `new` instead
    /// (recursively); names the subgraph defines itself are untouched.
    func renamingOuterReference(_ old: String, to new: String) -> Graph {
        guard storage.outerReferences.contains(old) else { return self }
        var g = self
        g.makeUnique()
        let s = g.storage
        for i in s.nodes.indices {
            var n = s.nodes[i]
            for k in n.inputs.indices where n.inputs[k] == old { n.inputs[k] = new }
            for ai in n.attributes.indices {
                n.attributes[ai].value = Graph.renamingOuter(in: n.attributes[ai].value, from: old, to: new)
            }
            s.nodes[i] = n
        }
        for i in s.outputs.indices where s.outputs[i].name == old { s.outputs[i].name = new }
        g.reindex()
        return g
    }
}
