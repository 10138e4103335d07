/// `Graph`: the value-type graph with copy-on-write storage. Owns node order (always
/// topological when the graph is acyclic), the declared inputs/outputs/value_info,
/// initializers, and the producer/use index; read-only queries live here, edits in
/// GraphEditing.swift.
import Foundation  // NSLock
#if os(Linux)
import Synchronization  // Atomic (on Apple platforms only from macOS 15; this package supports 13)
#endif

/// A computation graph (ONNX `GraphProto`; also If/Loop/Scan bodies and function bodies).
///
/// A struct with copy-on-write storage: copying a graph is O(1), and versions share tensor
/// bytes forever (tensors are views into immutable storage). The first edit of a shared copy
/// duplicates only the index tables, never weights.
public struct Graph: Sendable {
    final class Storage: @unchecked Sendable {
        // The hot fields below are `@exclusivity(unchecked)`: a storage is written only while
        // uniquely referenced (`makeUnique`) or under `indexLock`, and the dynamic access
        // checks on these class properties were a third of a 10k-node pass's time.
        var name = ""
        var docString = ""
        var metadataProps = MetadataProps()
        var unknownFields = UnknownFields()
        var isSubgraph = false
        @exclusivity(unchecked) var inputs: [ValueInfo] = []
        var outputs: [ValueInfo] = []
        var valueInfo: [ValueInfo] = []
        @exclusivity(unchecked) var initializers: [Tensor] = []
        var sparseInitializers: [SparseTensor] = []
        @exclusivity(unchecked) var nodes: [Node] = []
        /// Where new node ids come from: shared by every graph of the model and every copy
        /// (see NodeIDSpace.swift for the rule).
        let ids: NodeIDSpace
        // Derived index, kept exact by every edit. A reader's graph starts without it and
        // builds it on first use (`ensureIndex`): loading a file should not pay for an index
        // nobody queries. Every access below goes through the accessors, which build it first.
        @exclusivity(unchecked) private var _position = PositionTable()
        @exclusivity(unchecked) private var _values = ValueIndex()
        @exclusivity(unchecked) private var _outerReferences: Set<String> = []
        /// True once the index fields are exact (always, except for a lazily indexed graph).
        /// Read without the lock on the fast path where an atomic load is available.
        #if os(Linux)
        private let indexReady = Atomic<Bool>(true)
        #else
        private var indexReadyLocked = true  // read and written only with `indexLock` held
        #endif
        /// Serializes the one lazy build: `Graph` is `Sendable`, so concurrent readers of a
        /// shared storage may all ask for the index at once.
        private let indexLock = NSLock()

        init(ids: NodeIDSpace) { self.ids = ids }

        /// Sets the graph-level fields the two graph initializers share.
        func setFields(name: String, inputs: [ValueInfo], outputs: [ValueInfo], initializers: [Tensor],
                       sparseInitializers: [SparseTensor], valueInfo: [ValueInfo], docString: String,
                       metadataProps: MetadataProps, isSubgraph: Bool, unknownFields: UnknownFields) {
            self.name = name
            self.docString = docString
            self.metadataProps = metadataProps
            self.unknownFields = unknownFields
            self.isSubgraph = isSubgraph
            self.inputs = inputs
            self.outputs = outputs
            self.valueInfo = valueInfo
            self.initializers = initializers
            self.sparseInitializers = sparseInitializers
        }

        /// A storage whose index is built on first use (the caller guarantees its nodes are
        /// in topological order with increasing ids, so the build never has to reorder).
        init(lazilyIndexed: Void, ids: NodeIDSpace) {
            self.ids = ids
            #if os(Linux)
            indexReady.store(false, ordering: .relaxed)
            #else
            indexReadyLocked = false
            #endif
        }

        var position: PositionTable {
            _read { ensureIndex(); yield _position }
            _modify { ensureIndex(); yield &_position }
        }
        var values: ValueIndex {
            _read { ensureIndex(); yield _values }
            _modify { ensureIndex(); yield &_values }
        }
        var outerReferences: Set<String> {
            _read { ensureIndex(); yield _outerReferences }
            _modify { ensureIndex(); yield &_outerReferences }
        }

        /// Whether the index is built (a lazily indexed storage not yet queried says false).
        var isIndexed: Bool {
            #if os(Linux)
            return indexReady.load(ordering: .acquiring)
            #else
            indexLock.lock()
            defer { indexLock.unlock() }
            return indexReadyLocked
            #endif
        }

        /// Marks the index built; the caller holds `indexLock` or owns the storage uniquely.
        private func markIndexedLocked() {
            #if os(Linux)
            indexReady.store(true, ordering: .releasing)
            #else
            indexReadyLocked = true
            #endif
        }

        /// The flag, read with `indexLock` held.
        private var isIndexedLocked: Bool {
            #if os(Linux)
            return indexReady.load(ordering: .acquiring)
            #else
            return indexReadyLocked
            #endif
        }

        /// Renumbers the positions of the nodes from `start` on (after an insertion or removal
        /// there) in one tight loop.
        func renumber(from start: Int) {
            ensureIndex()
            nodes.withUnsafeBufferPointer { _position.renumber($0, from: start) }
        }

        @inline(__always)
        func ensureIndex() {
            if !isIndexed { buildIndexOnce() }
        }

        @inline(never)
        private func buildIndexOnce() {
            indexLock.lock()
            defer { indexLock.unlock() }
            if isIndexedLocked { return }
            buildIndex()
            markIndexedLocked()
        }

        func copy() -> Storage {
            let indexed = isIndexed
            let s = indexed ? Storage(ids: ids) : Storage(lazilyIndexed: (), ids: ids)
            s.name = name; s.docString = docString; s.metadataProps = metadataProps
            s.unknownFields = unknownFields; s.isSubgraph = isSubgraph
            s.inputs = inputs; s.outputs = outputs; s.valueInfo = valueInfo
            s.initializers = initializers; s.sparseInitializers = sparseInitializers
            s.nodes = nodes
            if indexed {
                s._position = _position
                s._values = _values
                s._outerReferences = _outerReferences
            }
            return s
        }

        /// Recomputes the whole index from the node list and declarations in one pass and
        /// marks it built; returns whether the node order is topological.
        @discardableResult
        func reindex() -> Bool {
            indexLock.lock()
            defer { indexLock.unlock() }
            let ordered = buildIndex()
            markIndexedLocked()
            return ordered
        }

        /// Builds the index fields (reads only the nodes, declarations and the outer
        /// references of subgraphs, never this storage's own index accessors).
        @discardableResult
        private func buildIndex() -> Bool {
            let extra = inputs.count + initializers.count + sparseInitializers.count
            // Built in locals (no class-property access in the hot loop), stored at the end.
            var position = PositionTable()
            position.reserveCapacity(nodes.count)
            var values = ValueIndex(capacity: nodes.count + extra)
            for i in initializers.indices { values.defineInitializer(initializers[i].name, position: i) }
            for sp in sparseInitializers where values[producer: sp.name] == nil { values[producer: sp.name] = .initializer }
            // Later declarations win: value_info, then outputs, then inputs (each input's name is
            // looked up once for its producer and its type).
            for i in valueInfo.indices { if let t = valueInfo[i].type { values.declareType(valueInfo[i].name, t) } }
            for i in outputs.indices { if let t = outputs[i].type { values.declareType(outputs[i].name, t) } }
            for i in inputs.indices { values.defineInput(inputs[i].name, index: i, type: inputs[i].type) }
            // Names read before anything defines them: later definitions mean the order is not
            // topological; never-defined ones are outer-scope (or dangling) references.
            var unresolved = Set<String>()
            let nodes = self.nodes
            for p in nodes.indices {
                let id = nodes[p].id
                position[id] = p
                let inputs = nodes[p].inputs
                for i in inputs.indices {
                    let name = inputs[i]
                    if name.isEmpty { continue }
                    if !values.appendUse(ValueUse(node: id, inputIndex: i), to: name) { unresolved.insert(name) }
                }
                if nodes[p].hasSubgraphs {
                    for a in nodes[p].attributes {
                        var refs = Set<String>()
                        for g in a.value.subgraphs { refs.formUnion(g.storage.outerReferences) }
                        for r in refs.sorted() {
                            if !values.appendUse(ValueUse(node: id, slot: .subgraph(attribute: a.name)), to: r) {
                                unresolved.insert(r)
                            }
                        }
                    }
                }
                let outputs = nodes[p].outputs
                for k in outputs.indices {
                    let o = outputs[k]
                    if !o.isEmpty { values.defineIfAbsent(o, .node(id, output: k)) }
                }
            }
            var ordered = true
            var outer = Set<String>()
            for name in unresolved {
                if values[producer: name] != nil { ordered = false } else { outer.insert(name) }
            }
            for o in outputs where !o.name.isEmpty && values[producer: o.name] == nil { outer.insert(o.name) }
            _position = position
            _values = values
            _outerReferences = outer
            return ordered
        }
    }

    var storage: Storage

    /// Creates a graph from its parts.
    ///
    /// Node ids are kept when unique and non-negative (a reader assigns them), otherwise fresh
    /// ones are assigned; the bodies held by `nodes` join this graph's id space, so ids assigned
    /// here and later are fresh across all of them (ids the parts already repeat are kept as
    /// given). Nodes are kept in the given order when it is topological, else stably re-sorted; a cyclic graph keeps its order and `validate()` reports the cycle.
    /// `isSubgraph` makes names defined by no one resolve to `.outerScope`.
    public init(name: String = "", nodes: [Node] = [], inputs: [ValueInfo] = [], outputs: [ValueInfo] = [],
                initializers: [Tensor] = [], sparseInitializers: [SparseTensor] = [], valueInfo: [ValueInfo] = [],
                docString: String = "", metadataProps: MetadataProps = MetadataProps(), isSubgraph: Bool = false,
                unknownFields: UnknownFields = UnknownFields(), firstNodeID: Int = 0) {
        self.init(name: name, nodes: nodes, inputs: inputs, outputs: outputs, initializers: initializers,
                  sparseInitializers: sparseInitializers, valueInfo: valueInfo, docString: docString,
                  metadataProps: metadataProps, isSubgraph: isSubgraph, unknownFields: unknownFields,
                  firstNodeID: firstNodeID, idSpace: NodeIDSpace(next: firstNodeID))
    }

    /// The same graph as the public initializer, drawing ids from `idSpace` (a reader's one space
    /// for the whole model) instead of a new space.
    package init(name: String, nodes: [Node], inputs: [ValueInfo], outputs: [ValueInfo],
                 initializers: [Tensor], sparseInitializers: [SparseTensor], valueInfo: [ValueInfo],
                 docString: String, metadataProps: MetadataProps, isSubgraph: Bool,
                 unknownFields: UnknownFields, firstNodeID: Int, idSpace: NodeIDSpace) {
        let s = Storage(ids: idSpace)
        s.setFields(name: name, inputs: inputs, outputs: outputs, initializers: initializers,
                    sparseInitializers: sparseInitializers, valueInfo: valueInfo, docString: docString,
                    metadataProps: metadataProps, isSubgraph: isSubgraph, unknownFields: unknownFields)
        var next = firstNodeID
        var increasing = true
        var previous = -1
        for i in nodes.indices {
            let raw = nodes[i].id.rawValue  // by index: no copy of the whole node
            next = max(next, raw + 1)
            if raw <= previous { increasing = false }
            previous = raw
        }
        s.ids.reserve(below: next)
        storage = s
        // Bodies first, so ids assigned below are fresh in them too.
        adoptNodeIDSpaces(of: nodes)
        if increasing {
            s.nodes = nodes  // readers hand out increasing ids: nothing to fix
        } else {
            var seen = Set<NodeID>()
            var fixed = nodes
            for i in fixed.indices {
                if fixed[i].id.rawValue < 0 || seen.contains(fixed[i].id) {
                    fixed[i].id = NodeID(s.ids.allocate())
                }
                seen.insert(fixed[i].id)
            }
            s.nodes = fixed
        }
        if !reindex(), let sorted = topologicalOrder() {
            storage.nodes = sorted.map { storage.nodes[$0] }
            reindex()
        }
    }

    /// A graph from a reader that has already checked its node order: node ids strictly
    /// increasing and non-negative, every node after the producers of its inputs (and no
    /// node with subgraphs). Same graph as `init(name:nodes:...)` gives for such input, but
    /// the producer/use index is built on first query instead of here: a load that is only
    /// saved, summarized or rendered never pays for it. `package`: callers must uphold the
    /// order guarantee, which the public initializer checks itself.
    package init(readInOrder name: String, nodes: [Node], inputs: [ValueInfo], outputs: [ValueInfo],
                 initializers: [Tensor], sparseInitializers: [SparseTensor], valueInfo: [ValueInfo],
                 docString: String, metadataProps: MetadataProps, isSubgraph: Bool,
                 unknownFields: UnknownFields, idSpace: NodeIDSpace) {
        let s = Storage(lazilyIndexed: (), ids: idSpace)
        s.setFields(name: name, inputs: inputs, outputs: outputs, initializers: initializers,
                    sparseInitializers: sparseInitializers, valueInfo: valueInfo, docString: docString,
                    metadataProps: metadataProps, isSubgraph: isSubgraph, unknownFields: unknownFields)
        s.nodes = nodes
        idSpace.reserve(below: (nodes.last?.id.rawValue ?? -1) + 1)
        storage = s
    }

    /// Makes the storage unique before an edit. With `indexed` (every edit of nodes or
    /// declarations) the index is built first, so incremental updates start from an exact one.
    mutating func makeUnique(indexed: Bool = true) {
        if indexed { storage.ensureIndex() }
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    // MARK: - Plain properties

    /// Graph name.
    public var name: String {
        get { storage.name }
        set { makeUnique(); storage.name = newValue }
    }
    /// Documentation string.
    public var docString: String {
        get { storage.docString }
        set { makeUnique(); storage.docString = newValue }
    }
    /// Graph-level metadata.
    public var metadataProps: MetadataProps {
        get { storage.metadataProps }
        set { makeUnique(); storage.metadataProps = newValue }
    }
    /// Fields the reader did not model (e.g. ONNX quantization_annotation).
    public var unknownFields: UnknownFields {
        get { storage.unknownFields }
        set { makeUnique(); storage.unknownFields = newValue }
    }
    /// True for If/Loop/Scan bodies: names they do not define come from the enclosing graph.
    public var isSubgraph: Bool { storage.isSubgraph }

    /// Nodes in topological order (producers before consumers).
    public var nodes: [Node] { storage.nodes }
    /// Declared graph inputs, in order.
    public var inputs: [ValueInfo] { storage.inputs }
    /// Declared graph outputs, in order.
    public var outputs: [ValueInfo] { storage.outputs }
    /// `value_info` declarations for intermediate values, in order.
    public var valueInfo: [ValueInfo] { storage.valueInfo }
    /// Initializers (weights), in order.
    public var initializers: [Tensor] { storage.initializers }
    /// Sparse initializers, in order.
    public var sparseInitializers: [SparseTensor] { storage.sparseInitializers }
    /// The id the next added node will get, in this graph or any graph sharing its id space
    /// (its model's other graphs, its copies): ids are never reused.
    public var nextNodeID: NodeID { NodeID(storage.ids.peek) }

    /// Whether `other` draws new node ids from the same space as this graph (true for all
    /// graphs of one loaded model and their copies).
    public func sharesNodeIDs(with other: Graph) -> Bool { storage.ids.isJoined(with: other.storage.ids) }

    /// Joins this graph's id space to `space` (readers give every graph of a model one space).
    package func shareNodeIDs(with space: NodeIDSpace) { storage.ids.join(space) }

    /// Joins the id spaces of the bodies `nodes` hold to this graph's, so ids handed out in any
    /// of them are fresh in all of them.
    func adoptNodeIDSpaces<C: Collection>(of nodes: C) where C.Element == Node {
        for n in nodes where n.hasSubgraphs {
            for (_, g) in n.subgraphs { storage.ids.join(g.storage.ids) }
        }
    }

    // MARK: - Queries

    /// The node with `id`, if it is in this graph (not searching subgraphs).
    public func node(_ id: NodeID) -> Node? {
        guard let p = storage.position[id] else { return nil }
        return storage.nodes[p]
    }

    /// Position of a node in topological order.
    public func position(of id: NodeID) -> Int? { storage.position[id] }

    /// The initializer named `name`.
    public func initializer(named name: String) -> Tensor? {
        guard let i = storage.values[initializer: name] else { return nil }
        return storage.initializers[i]
    }

    /// What defines `name` (`.outerScope` in a subgraph for names its parent must define).
    public func producer(of name: String) -> ValueProducer {
        if let p = storage.values[producer: name] { return p }
        return storage.isSubgraph && !name.isEmpty ? .outerScope : .none
    }

    /// The producing node of `name`, if a node produces it.
    public func producerNode(of name: String) -> Node? {
        guard let id = producer(of: name).nodeID else { return nil }
        return node(id)
    }

    /// Calls `body` with each use of `name`, in no particular order: for callers that gather
    /// consumers into a set, without the sort `uses(of:)` does.
    public func forEachUse(of name: String, _ body: (ValueUse) -> Void) {
        guard let u = storage.values[uses: name] else { return }
        for x in u { body(x) }
    }

    /// How many uses `name` has (explicit inputs and subgraph references), without listing
    /// or ordering them: a value read by thousands of nodes answers in O(1).
    public func useCount(of name: String) -> Int {
        storage.values[uses: name]?.count ?? 0
    }

    /// Every consumer of `name`, in node order.
    public func uses(of name: String) -> [ValueUse] {
        guard let u = storage.values[uses: name], !u.isEmpty else { return [] }
        return Array(u).sorted { a, b in
            let pa = storage.position[a.node] ?? Int.max, pb = storage.position[b.node] ?? Int.max
            if pa != pb { return pa < pb }
            switch (a.slot, b.slot) {
            case (.input(let x), .input(let y)): return x < y
            case (.input, .subgraph): return true
            case (.subgraph, .input): return false
            case (.subgraph(let x), .subgraph(let y)): return x < y
            }
        }
    }

    /// The declared type of `name` (input/output/value_info), else the initializer's type.
    public func type(of name: String) -> ValueType? {
        if let t = storage.values[declaredType: name] { return t }
        if let t = initializer(named: name) { return t.valueType }
        return nil
    }

    /// Everything known about `name`, or nil when the graph neither defines nor uses it.
    public func value(named name: String) -> Value? {
        let prod = producer(of: name)
        let u = uses(of: name)
        let isOut = storage.outputs.contains { $0.name == name }
        if case .none = prod, u.isEmpty, !isOut, storage.values[declaredType: name] == nil { return nil }
        if case .outerScope = prod, u.isEmpty, !isOut { return nil }
        return Value(name: name, type: type(of: name), producer: prod, uses: u, isGraphOutput: isOut,
                     isInitializer: storage.values[initializer: name] != nil)
    }

    /// Names of all values defined or used in this graph (not subgraphs), sorted.
    public var valueNames: [String] {
        var names = Set(storage.values.definedNames)
        for (k, _) in storage.values.usedNames { names.insert(k) }
        for o in storage.outputs { names.insert(o.name) }
        names.remove("")
        return names.sorted()
    }

    /// Names this graph (including nested subgraphs) reads but does not define: for a
    /// subgraph, the outer-scope values it links to.
    public var outerScopeReferences: Set<String> { storage.outerReferences }

    /// Nodes that consume any output of `id` (deduplicated, in node order).
    public func successors(of id: NodeID) -> [NodeID] {
        guard let n = node(id) else { return [] }
        var seen = Set<NodeID>()
        var out: [NodeID] = []
        for o in n.outputs where !o.isEmpty {
            for u in uses(of: o) where seen.insert(u.node).inserted { out.append(u.node) }
        }
        return out.sorted { (storage.position[$0] ?? 0) < (storage.position[$1] ?? 0) }
    }

    /// Nodes producing any input of `id`, including outer values its subgraphs read.
    public func predecessors(of id: NodeID) -> [NodeID] {
        guard let n = node(id) else { return [] }
        var seen = Set<NodeID>()
        var out: [NodeID] = []
        for name in Graph.consumedNames(of: n) {
            if let p = producer(of: name).nodeID, seen.insert(p).inserted { out.append(p) }
        }
        return out.sorted { (storage.position[$0] ?? 0) < (storage.position[$1] ?? 0) }
    }

    /// Finds a node by id here or in any nested subgraph, with the chain of ids of the nodes
    /// whose subgraphs lead to it (empty when it is a top-level node).
    public func findNode(_ id: NodeID) -> (path: [NodeID], node: Node)? {
        if let n = node(id) { return ([], n) }
        for n in storage.nodes where n.hasSubgraphs {
            for (_, g) in n.subgraphs {
                if let (p, found) = g.findNode(id) { return ([n.id] + p, found) }
            }
        }
        return nil
    }

    /// Top-level nodes with this op type (and domain, `""` = default), in order.
    public func nodes(ofType opType: String, domain: String = "") -> [Node] {
        storage.nodes.filter { $0.opType == opType && ($0.domain == domain || ($0.domain == "ai.onnx" && domain.isEmpty)) }
    }

    /// Every node in this graph and, recursively, its subgraphs, with the chain of
    /// (node id, attribute) leading to the graph that holds it (empty for top-level nodes).
    public func allNodes() -> [(path: [NodeID], node: Node)] {
        var out: [(path: [NodeID], node: Node)] = []
        func walk(_ g: Graph, _ path: [NodeID]) {
            for n in g.storage.nodes {
                out.append((path, n))
                for (_, sg) in n.subgraphs { walk(sg, path + [n.id]) }
            }
        }
        walk(self, [])
        return out
    }

    // MARK: - Index maintenance

    /// Names a node reads: explicit inputs plus the outer references of its subgraphs (may
    /// contain `""` for omitted inputs; callers skip it).
    static func consumedNames(of n: Node) -> [String] {
        guard n.hasSubgraphs else { return n.inputs.array }
        var names = n.inputs.array.filter { !$0.isEmpty }
        for (_, g) in n.subgraphs { names.append(contentsOf: g.storage.outerReferences.sorted()) }
        return names
    }

    /// Recomputes the whole index from the node list and declarations in one pass; returns
    /// whether the node order is topological.
    @discardableResult
    mutating func reindex() -> Bool { storage.reindex() }

    func addUses(of n: Node) {
        for (i, name) in n.inputs.enumerated() where !name.isEmpty {
            storage.values.appendUse(ValueUse(node: n.id, inputIndex: i), to: name)
        }
        guard n.hasSubgraphs else { return }
        for a in n.attributes {
            var refs = Set<String>()
            for g in a.value.subgraphs { refs.formUnion(g.storage.outerReferences) }
            for r in refs.sorted() {
                storage.values.appendUse(ValueUse(node: n.id, slot: .subgraph(attribute: a.name)), to: r)
            }
        }
    }

    func removeUses(of n: Node) {
        var names = Set(n.inputs)
        if n.hasSubgraphs { for (_, g) in n.subgraphs { names.formUnion(g.storage.outerReferences) } }
        for name in names where !name.isEmpty {
            storage.values.removeUses(of: name) { $0 == n.id }
        }
    }

    func recomputeOuterReferences() {
        let s = storage
        var refs = Set<String>()
        for (name, _) in s.values.usedNames where s.values[producer: name] == nil { refs.insert(name) }
        for o in s.outputs where !o.name.isEmpty && s.values[producer: o.name] == nil { refs.insert(o.name) }
        s.outerReferences = refs
    }

    /// Updates the outer references for `names` only (the names an edit touched): a name is
    /// one when it is used or a graph output and nothing here defines it. O(touched), where
    /// `recomputeOuterReferences` is O(N).
    func updateOuterReferences<S: Sequence>(touching names: S) where S.Element == String {
        let s = storage
        for name in names where !name.isEmpty {
            let used = !(s.values[uses: name] ?? []).isEmpty || s.outputs.contains { $0.name == name }
            if used && s.values[producer: name] == nil { s.outerReferences.insert(name) } else { s.outerReferences.remove(name) }
        }
    }

    /// True when the node at `p` comes after the producers of everything it reads and before
    /// every node that reads its outputs: after an edit of that one node, the whole order is
    /// still topological exactly when this holds (no other node's wiring changed).
    func isLocallyOrdered(at p: Int) -> Bool {
        let s = storage
        let n = s.nodes[p]
        for name in Graph.consumedNames(of: n) where !name.isEmpty {
            if let pid = s.values[producer: name]?.nodeID, let pp = s.position[pid], pp >= p { return false }
        }
        for o in n.outputs where !o.isEmpty {
            for u in s.values[uses: o] ?? [] { if let up = s.position[u.node], up <= p { return false } }
        }
        return true
    }

    /// Indices of nodes in a stable topological order, or nil if there is a cycle.
    func topologicalOrder() -> [Int]? {
        let s = storage
        let n = s.nodes.count
        var indegree = [Int](repeating: 0, count: n)
        var dependents = [[Int]](repeating: [], count: n)
        for (i, node) in s.nodes.enumerated() {
            var deps = Set<Int>()
            for name in Graph.consumedNames(of: node) {
                if let pid = s.values[producer: name]?.nodeID, let pp = s.position[pid], pp != i { deps.insert(pp) }
                else if let pid = s.values[producer: name]?.nodeID, s.position[pid] == i { return nil }
            }
            indegree[i] = deps.count
            for d in deps { dependents[d].append(i) }
        }
        // Min-heap on original index keeps the order stable.
        var heap = Heap()
        for i in 0..<n where indegree[i] == 0 { heap.push(i) }
        var order: [Int] = []
        order.reserveCapacity(n)
        while let i = heap.pop() {
            order.append(i)
            for d in dependents[i] {
                indegree[d] -= 1
                if indegree[d] == 0 { heap.push(d) }
            }
        }
        return order.count == n ? order : nil
    }
}

extension Graph: Equatable {
    /// Structural equality: same declarations, initializers (byte-equal), and nodes in the
    /// same order with the same ids and contents.
    public static func == (lhs: Graph, rhs: Graph) -> Bool {
        if lhs.storage === rhs.storage { return true }
        let a = lhs.storage, b = rhs.storage
        return a.name == b.name && a.docString == b.docString && a.metadataProps == b.metadataProps
            && a.unknownFields == b.unknownFields && a.inputs == b.inputs && a.outputs == b.outputs
            && a.valueInfo == b.valueInfo && a.initializers == b.initializers
            && a.sparseInitializers == b.sparseInitializers && a.nodes == b.nodes
    }
}
