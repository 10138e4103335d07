/// The node-order check a graph's reader runs on interned name ids: when the file already
/// lists nodes in topological order (nearly always), the graph is created with its
/// producer/use index deferred to first use, so a load does not pay for hashing every name
/// into the index. Any doubt (a name without an id, a node with subgraphs) answers "not
/// known", and the graph is indexed (and re-sorted if needed) as before.

/// The order check of one graph, run online as its nodes are read: each name id is in
/// state 0 (not seen), 1 (defined by an earlier node) or 2 (read while no node had defined
/// it). A node's outputs are applied when the node ends, so its own inputs never see them.
struct NodeOrderCheck {
    private var state: [UInt8] = []
    /// Output ids of the node being read.
    private var outputs: [Int32] = []
    /// False once the check cannot vouch for the order: a name without an id, a node with
    /// subgraphs, or a name defined by a node after an earlier node read it (out of order,
    /// unless a graph input or initializer defines it: the graph's own index decides).
    private(set) var known = true

    init(names: Int) {
        state = [UInt8](repeating: 0, count: max(names, 16))
        outputs.reserveCapacity(4)
    }

    @inline(__always)
    private mutating func cover(_ id: Int) {
        if id >= state.count { state.append(contentsOf: repeatElement(0, count: max(id + 1 - state.count, state.count))) }
    }

    /// A node input (`id` from the interner, -1 when it has none).
    @inline(__always)
    mutating func use(_ id: Int32, empty: Bool) {
        if id < 0 {
            if !empty { known = false }
            return
        }
        let i = Int(id)
        cover(i)
        if state[i] == 0 { state[i] = 2 }
    }

    /// A node output.
    @inline(__always)
    mutating func define(_ id: Int32, empty: Bool) {
        if id >= 0 { outputs.append(id) } else if !empty { known = false }
    }

    /// Ends the current node: its outputs become defined.
    @inline(__always)
    mutating func endNode(hasSubgraphs: Bool) {
        if hasSubgraphs { known = false }
        for id in outputs {
            let i = Int(id)
            cover(i)
            if state[i] == 2 { known = false }
            state[i] = 1
        }
        outputs.removeAll(keepingCapacity: true)
    }

    /// Whether the nodes were read in topological order by the graph index's rule (no name
    /// read before its first definition and defined later): true only when certain.
    func isTopological(names: NameInterner) -> Bool {
        known && !names.hasRepairedNames
    }
}
