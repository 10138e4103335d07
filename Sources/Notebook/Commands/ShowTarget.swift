// What `show PATH` draws: the top-level graph or one If/Loop/Scan body, and what to focus and
// outline in it, from NodeCatalog's reading of PATH (`If_0/then_branch` opens that body; a node
// or scope inside a body opens the body focused on it).

import GraphIR
import GraphRendering

/// The drawing `show` makes for one PATH.
struct ShowTarget {
    /// The body to draw (index into the entry's catalog bodies); nil draws the graph itself.
    var body: Int?
    /// The group path or node id (`n12`) the view opens on.
    var focus: String?
    /// Whether `focus` is a group (so `depth=` applies).
    var isScope = false
    /// Drawn node ids to outline.
    var highlighted: Set<String> = []

    /// The whole graph, default view.
    init() {}

    /// Reads PATH: a group the renderer made (a scope or a section), a scope, a body, or a node.
    init(_ path: String, entry: GraphEntry, renderer: GraphRenderer, inv: Invocation) throws {
        if renderer.knowsGroup(path) {
            // A scope, or a section the renderer cut a long flat level into (`section_3_of_12`).
            focus = path.split(separator: "/").joined(separator: "/")
            isScope = true
            return
        }
        let c = entry.catalog
        switch c.locate(path) {
        case .scope(let b, let components):
            body = b
            focus = components.isEmpty ? nil : components.joined(separator: "/")
            isScope = true
        case .body(let b):
            body = b
        case .node(let i):
            body = c.entries[i].body
            focus = c.entries[i].id.description
            highlighted.insert(c.entries[i].id.description)
        case .ambiguous(let hits):
            throw GraphCommands.ambiguousNode(path, hits, entry, inv, at: "path")
        case .none:
            throw inv.error(.lookup, "no hierarchy path or node '\(path)' in \(entry.name); `tree` lists the paths", at: "path")
        }
    }

    /// The drawn id of the node `name` refers to, for `highlight=`: it must be in the drawn graph.
    func highlightID(_ name: String, entry: GraphEntry, inv: Invocation) throws -> String {
        let c = entry.catalog
        let i = try GraphCommands.nodeIndex(name, in: entry, inv, at: "highlight")
        guard c.entries[i].body == body else {
            let home = c.entries[i].body.map { c.bodies[$0].pathText } ?? "the top-level graph"
            throw inv.error(.lookup, "node '\(name)' is in \(home), not in the graph drawn here; `show \(home == "the top-level graph" ? "" : home + " ")highlight=[…]` outlines it", at: "highlight")
        }
        return c.entries[i].id.description
    }

    /// The renderer for the drawn graph: the session's cached one, or a fresh one for a body.
    func renderer(entry: GraphEntry, state: RenderState) throws -> GraphRenderer {
        guard let b = body else { return state.renderer }
        let graph = entry.catalog.bodies[b].graph
        return try GraphRenderer(RenderGraph(graph, hierarchy: Hierarchy(graph), name: "\(entry.name) \(entry.catalog.bodies[b].pathText)",
                                                 inferred: entry.inferredTypes(inBody: b)))
    }

    /// How the output names what was drawn.
    func title(_ entry: GraphEntry) -> String {
        body.map { "\(entry.name) \(entry.catalog.bodies[$0].pathText)" } ?? entry.name
    }
}
