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
        for n in ctx.graph.nodes.reversed() {
            guard let cur = ctx.graph.node(n.id), ctx.mayRemove(n.id) else { continue }
            let dead = cur.outputs.allSatisfy { $0.isEmpty || (!outputs.contains($0) && ctx.graph.uses(of: $0).isEmpty) }
            guard dead else { continue }
            try ctx.tx.apply(.removeNode(n.id))
            ctx.record(removed: [cur], created: [])
            changed = true
        }
        if ctx.options.scope == nil {
            // Under IR version 3 and older an initializer is also listed as an input; both go.
            let legacy = ctx.model.irVersion < 4
            let inputs = Set(ctx.graph.inputs.map(\.name))
            for t in ctx.graph.initializers where (legacy || !inputs.contains(t.name)) && !outputs.contains(t.name)
                && ctx.graph.uses(of: t.name).isEmpty && !ctx.graph.outerScopeReferences.contains(t.name) {
                try ctx.tx.apply(.removeInitializer(t.name))
                if legacy && inputs.contains(t.name) { try ctx.tx.apply(.removeInput(t.name)) }
                changed = true
            }
        }
        return changed
    }
}
