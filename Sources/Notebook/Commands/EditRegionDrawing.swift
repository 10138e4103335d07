// The drawing an edit leaves under its message: the edited region (the nodes the edit added or
// rewired, the producers and consumers of the values it changed, and one ring around them), with
// problem nodes outlined and broken inputs drawn red, so a user sees at once what an edit did and
// what it broke. The edits of one cell share one drawing, refreshed in place
// (update_display_data) after each, so a cell of ten edits shows one picture of their sum.

import Foundation
import GraphEditing
import GraphIR
import GraphRendering

/// The edited-region drawing of the cell being run: which run of which cell, which graph, the
/// display it lives in and the nodes it is drawn around.
struct EditRegionDisplay: Sendable {
    var cell: UUID
    var graph: String
    var displayID: String
    var nodes: Set<NodeID>
}

enum EditRegionDrawing {
    /// Rings of neighbours drawn around the edited nodes.
    static let hops = 1
    /// Op nodes the drawing may hold (edited nodes first, then the ring while it fits).
    static let limit = 80
    /// Edited nodes the drawing is built around; an edit touching more (a large `clone`) draws
    /// the first ones and says so.
    static let maxAnchors = 40

    /// The top-level nodes `effect` concerns in `graph`: those added or changed, and the
    /// producers and consumers of the values it changed. Nodes inside bodies are drawn as their
    /// owner's box, so an edit inside a body draws its owner.
    static func touchedNodes(_ effect: EditEffect, in entry: GraphEntry) -> [NodeID] {
        let graph = entry.graph
        var out: [NodeID] = []
        var seen = Set<NodeID>()
        func add(_ id: NodeID) {
            guard !seen.contains(id) else { return }
            seen.insert(id)
            if graph.node(id) != nil { out.append(id); return }
            // A node in a body: its top-level owner.
            let c = entry.catalog
            if case .node(let i) = c.lookup(id.description), let body = c.entries[i].body,
               let owner = c.bodies[body].steps.first?.owner, seen.insert(owner).inserted, graph.node(owner) != nil {
                out.append(owner)
            }
        }
        for id in effect.addedNodes { add(id) }
        for id in effect.changedNodes { add(id) }
        for v in effect.changedValues {
            if let p = graph.producerNode(of: v) { add(p.id) }
            for u in graph.uses(of: v) { add(u.node) }
        }
        return out
    }

    /// Shows (or, for a later edit of the same cell, refreshes) the drawing of what the edit
    /// changed in graph `name`. A drawing that cannot be made is left out: the edit stands.
    static func show(_ session: inout Session, graph name: String, effect: EditEffect, out: CommandOutput) {
        guard !out.discardsOutput, let entry = session.graphs[name] else { return }
        let cell = out.context.cellID
        let previous = session.editRegion.flatMap { $0.cell == cell && $0.graph == name ? $0 : nil }
        var anchors = touchedNodes(effect, in: entry)
        if let previous {
            let known = Set(anchors)
            anchors += previous.nodes.filter { !known.contains($0) && entry.graph.node($0) != nil }.sorted()
        }
        guard !anchors.isEmpty, let bundle = try? bundle(entry, anchors: anchors, session: &session) else { return }
        let displayID = previous?.displayID ?? "gs-edit-\(UUID().uuidString.prefix(8))"
        if previous != nil { out.update(bundle, displayID: displayID) } else { out.display(bundle, displayID: displayID) }
        session.editRegion = EditRegionDisplay(cell: cell, graph: name, displayID: displayID, nodes: Set(anchors))
    }

    /// The drawing of `anchors` and their neighbours, with the version's problems marked.
    static func bundle(_ entry: GraphEntry, anchors: [NodeID], session: inout Session) throws -> OutputBundle {
        let shownIDs = anchors.prefix(maxAnchors).map(\.description)
        let state = try ShowCommands.renderState(for: entry, in: &session)
        let whole = state.renderer.graph
        let part = whole.neighbourhood(of: Set(shownIDs), hops: hops, limit: limit)
        let renderer = try GraphRenderer(part.graph)
        var options = RenderOptions()
        options.problems = entry.problemMarks(inBody: nil)
        options.revealed = Set(shownIDs)
        options.highlighted = Set(shownIDs)
        options.viewerHeight = 360
        let result = try renderer.render(options, cache: nil)
        let ops = part.graph.nodes.lazy.filter { !$0.isGraphBoundary }.count
        let problems = options.problems.nodes.keys.filter { id in part.graph.nodes.contains { $0.id == id } }.count
        let broken = options.problems.brokenInputs.count
        var caption = "Edited region of \(entry.name) @\(entry.step): \(anchors.count) node\(anchors.count == 1 ? "" : "s") "
            + "added or rewired (highlighted)" + (anchors.count > shownIDs.count ? ", the first \(shownIDs.count) drawn" : "")
            + ", \(ops) drawn"
        if problems > 0 {
            caption += "; \(problems) with problems outlined" + (broken > 0 ? ", broken inputs in red" : "")
        }
        let html = "<div class=\"gs-edit-region\"><p class=\"gs-caption\" style=\"margin:4px 0;color:#455a64\">"
            + HTML.escape(caption) + "</p>" + result.html + "</div>"
        var b = OutputBundle(text: caption, html: html, svg: result.svg)
        b.json = ["graph": .string(entry.name), "step": .int(Int64(entry.step)),
                  "edited": .array(anchors.map { .string($0.description) }), "drawn_nodes": .int(Int64(ops))]
        return b
    }
}
