/// Dead code elimination: nodes none of whose outputs is read or a graph output, removed
/// consumers first (so whole dead chains go in one sweep), and initializers nothing reads.
/// `keep=true` nodes stay, and so does everything they read.
import GraphEditing
import GraphIR

public struct DeadCodeElimination: Pass {
    public init() {}
    public let name = "dce"
    public let doc = "Remove nodes whose outputs nothing reads and initializers nothing uses"

    public func run(_ ctx: inout PassContext) throws -> Bool {
        var changed = false
        let outputs = Set(ctx.graph.outputs.map(\.name))
        // Decided on a snapshot from the last node back (a node whose readers all die dies too),
        // then removed consumers first in one batch: one pass over the node list, and the
        // snapshot is released before the edit so the edit does not copy the graph.
        var gone: [NodeID] = []
        do {
            let g = ctx.graph
            var dying = Set<NodeID>()
            for cur in g.nodes.reversed() where ctx.mayRemove(cur.id) {
                let dead = cur.outputs.allSatisfy { o in
                    guard !o.isEmpty else { return true }
                    guard !outputs.contains(o) else { return false }
                    var unread = true
                    g.forEachUse(of: o) { if !dying.contains($0.node) { unread = false } }
                    return unread
                }
                guard dead else { continue }
                dying.insert(cur.id)
                gone.append(cur.id)
                ctx.record(removed: [cur], created: [])
            }
        }
        if !gone.isEmpty {
            try ctx.tx.apply(removingNodes: gone)
            changed = true
        }
        if ctx.options.scope == nil {
            // Under IR version 3 and older an initializer is also listed as an input; both go.
            let legacy = ctx.model.irVersion < 4
            let inputs = Set(ctx.graph.inputs.map(\.name))
            // Names first, then edits: iterating the graph's initializer array while removing from
            // it would make every removal copy the whole array.
            let dead: [String] = {
                let g = ctx.graph
                return g.initializers.map(\.name).filter { name in
                    (legacy || !inputs.contains(name)) && !outputs.contains(name) && g.useCount(of: name) == 0
                        && !g.outerScopeReferences.contains(name)
                }
            }()
            // The inputs first: the initializers then go as undeclared ones (both incremental).
            try ctx.tx.apply(removingInputs: legacy ? dead.filter { inputs.contains($0) } : [])
            // In one batch: one pass over the initializer list.
            try ctx.tx.apply(removingInitializers: dead)
            if !dead.isEmpty { changed = true }
        }
        return changed
    }
}
