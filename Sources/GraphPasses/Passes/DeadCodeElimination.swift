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
        // Ids, not the node array: holding the array across edits would make each edit copy it.
        for id in ctx.graph.nodes.map(\.id).reversed() {
            guard let cur = ctx.graph.node(id), ctx.mayRemove(id) else { continue }
            let dead = cur.outputs.allSatisfy { $0.isEmpty || (!outputs.contains($0) && ctx.graph.uses(of: $0).isEmpty) }
            guard dead else { continue }
            try ctx.tx.apply(.removeNode(id))
            ctx.record(removed: [cur], created: [])
            changed = true
        }
        if ctx.options.scope == nil {
            // Under IR version 3 and older an initializer is also listed as an input; both go.
            let legacy = ctx.model.irVersion < 4
            let inputs = Set(ctx.graph.inputs.map(\.name))
            // Names first, then edits: iterating the graph's initializer array while removing from
            // it would make every removal copy the whole array.
            let g = ctx.graph
            let dead = g.initializers.map(\.name).filter { name in
                (legacy || !inputs.contains(name)) && !outputs.contains(name) && g.uses(of: name).isEmpty
                    && !g.outerScopeReferences.contains(name)
            }
            for name in dead {
                // The input first: the initializer then goes as an undeclared one (both incremental).
                if legacy && inputs.contains(name) { try ctx.tx.apply(.removeInput(name)) }
                try ctx.tx.apply(.removeInitializer(name))
                changed = true
            }
        }
        return changed
    }
}
