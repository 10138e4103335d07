// `diff A B`: the computed difference of two versions (`@0 @3`), two graphs, or a graph and a
// plugin's result (a `compile` step): a table of counts per op type and the replacement groups,
// a side-by-side drawing (removed red, added green, changed amber) focused on a changed region,
// the full mapping as vendor data, and with `export=DIR` Model Explorer files. The matching
// itself is GraphPasses' `GraphDiff`.

import Foundation
import GraphFormats
import GraphIR
import GraphPasses
import GraphRendering
import JupyterKernel

/// One side of a diff: a version of a graph and how the user named it.
struct DiffSideRef {
    var entry: GraphEntry
    var step: Int
    var label: String
    var version: GraphVersion { entry.history.steps[step].state }
}

enum DiffCommands {
    static let family = "Transforming"

    static let commands: [CommandSpec] = [
        CommandSpec(
            name: "diff", family: family,
            summary: "What changed between two versions or graphs: counts per op, replacement groups, a side-by-side drawing",
            usage: "diff A [B] [focus=N|NODE] [format=table|text|json] [export=DIR]",
            positionals: [Parameter("a", .version, "the old side: a step of the current graph (@0), a graph (NAME) or a step of one (NAME@2)",
                                    required: true),
                          Parameter("b", .version, "the new side (same forms)", default: "the current step")],
            options: [Parameter("focus", .string, "draw replacement group N (as the table numbers them) or the region around NODE", default: "1"),
                      Parameter("format", .choice(["table", "text", "json"]), "table: table and drawing; text: the table only; json: data only",
                                default: "table"),
                      Parameter("export", .path, "a folder for Model Explorer files: both graphs, the node mapping and per-side node data")],
            details: "Nodes are paired by stable id (versions of one graph), then by provenance (what a pass or edit recorded), then "
                + "by structure (op, attributes, paired producers or consumers), so a graph loaded twice or a plugin's result "
                + "pairs too. Each paired node is unchanged or changed (which attributes, which inputs); the rest are removed or "
                + "added, grouped into replacements such as `7 nodes -> 1 node (pass fuse-layernorm)`. The drawing shows the old "
                + "side left and the new side right, removed nodes red, added green, changed amber; on large graphs it shows the "
                + "region of one group (focus=N) and the same paired nodes on both sides.",
            examples: ["diff @0", "diff @0 @3", "diff @0 focus=2", "diff bert bert_opt", "diff @0 @1 export=out/diff"]
        ) { session, inv, out in
            let a = try side(inv.requiredString("a"), session, inv, at: "a")
            let b = try inv.string("b").map { try side($0, session, inv, at: "b") }
                ?? { () throws -> DiffSideRef in
                    let e = try session.currentGraph(for: "diff")
                    return DiffSideRef(entry: e, step: e.step, label: "\(e.name)@\(e.step)")
                }()
            let (lineage, origin) = lineageAndOrigin(a, b)
            let ga = a.version.model.graph, gb = b.version.model.graph
            let t0 = DispatchTime.now().uptimeNanoseconds
            let diff = GraphDiff.compute(ga, gb, lineage: lineage, origin: origin)
            let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
            if let dir = inv.string("export") {
                try export(diff, a, b, to: session.resolvePath(dir), inv)
                out.print("Wrote Model Explorer files to \(dir): a.graph.json, b.graph.json, mapping.json (sync navigation), "
                    + "a.nodedata.json, b.nodedata.json.")
            }
            let format = inv.string("format") ?? "table"
            var table = tableBundle(diff, a, b, ms: ms)
            if format == "json" { table.html = nil }
            out.display(table)
            if format == "table", !diff.isEmpty {
                out.display(try drawing(diff, a, b, focus: inv.string("focus"), inv))
            }
        },
    ]

    /// `@N`, `NAME` or `NAME@N`.
    static func side(_ text: String, _ session: Session, _ inv: Invocation, at: String) throws -> DiffSideRef {
        let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let name = parts[0]
        let entry: GraphEntry
        if name.isEmpty { entry = try session.currentGraph(for: "diff") } else {
            guard let e = session.graphs[name] else {
                let known = session.graphs.entries.map(\.name)
                throw inv.error(.lookup, "no graph '\(name)'; write @N for a step of the current graph"
                    + (known.isEmpty ? "" : ", or one of: \(known.joined(separator: ", "))"), at: at)
            }
            entry = e
        }
        var step = entry.step
        if parts.count == 2 {
            guard let n = Int(parts[1]), entry.history.steps.indices.contains(n) else {
                throw inv.error(.value, "'\(text)': \(entry.name) has steps @0...@\(entry.history.steps.count - 1) (`history` lists them)", at: at)
            }
            step = n
        }
        return DiffSideRef(entry: entry, step: step, label: "\(entry.name)@\(step)")
    }

    /// Provenance of nodes that lived only in steps between the two sides (so sources lead
    /// back to the old side's nodes), and what made the new side when it is one step on.
    static func lineageAndOrigin(_ a: DiffSideRef, _ b: DiffSideRef) -> ([NodeID: Provenance], String) {
        guard a.entry.name == b.entry.name else { return ([:], b.entry.history.steps[b.step].origin) }
        let h = b.entry.history
        var lineage: [NodeID: Provenance] = [:]
        for n in Set(h.path(to: b.step) + h.path(to: a.step)) where n != a.step && n != b.step {
            for node in h.steps[n].state.model.graph.nodes where !node.provenance.sources.isEmpty { lineage[node.id] = node.provenance }
        }
        let s = h.steps[b.step]
        return (lineage, s.parent == a.step ? s.origin : "")
    }

    static func tableBundle(_ diff: GraphDiff, _ a: DiffSideRef, _ b: DiffSideRef, ms: Double) -> OutputBundle {
        let ga = a.version.model.graph, gb = b.version.model.graph
        var t = Table(columns: [.init("op"), .init(a.label, numeric: true), .init(b.label, numeric: true), .init("unchanged", numeric: true),
                                .init("changed", numeric: true), .init("removed", numeric: true), .init("added", numeric: true)],
                      title: "\(a.label) -> \(b.label): \(diff.unchangedCount) unchanged, \(diff.changed.count) changed, "
                        + "\(diff.removed.count) removed, \(diff.added.count) added; \(diff.groups.count) replacement group"
                        + "\(diff.groups.count == 1 ? "" : "s") (matched in \(String(format: "%.1f", ms)) ms)")
        for c in diff.opCounts(ga, gb) where c.before != c.unchanged || c.after != c.unchanged {
            t.rows.append([Table.Cell(c.op), .int(c.before), .int(c.after), .int(c.unchanged), .int(c.changed), .int(c.removed), .int(c.added)])
        }
        var groupsTable = Table(columns: [.init("#", numeric: true), .init("replacement"), .init("removed"), .init("added")],
                                title: "Replacement groups")
        for (i, g) in diff.groups.enumerated().prefix(200) {
            groupsTable.rows.append([.int(i + 1), Table.Cell(g.summary), Table.Cell(g.removedOps.joined(separator: ", ")),
                                     Table.Cell(g.addedOps.joined(separator: ", "))])
        }
        var changedTable = Table(columns: [.init("node"), .init("op"), .init("what changed")], title: "Changed nodes")
        for m in diff.changed.prefix(200) {
            guard let n = gb.node(m.b) else { continue }
            changedTable.rows.append([Table.Cell(m.a == m.b ? n.displayName : "\(m.a) -> \(n.displayName)"), Table.Cell(n.qualifiedOpType),
                                      Table.Cell(m.change.summary)])
        }
        var text = t.text
        var html = t.html
        if !groupsTable.rows.isEmpty { text += "\n\n" + groupsTable.text; html += groupsTable.html }
        if !changedTable.rows.isEmpty { text += "\n\n" + changedTable.text; html += changedTable.html }
        if diff.isEmpty { text = "\(a.label) and \(b.label) have the same nodes, unchanged (\(diff.matched.count) paired)." }
        var bundle = OutputBundle(text: text, html: diff.isEmpty ? nil : html)
        if diff.isEmpty { bundle.html = "<p>" + HTML.escape(text) + "</p>" }
        func ids(_ xs: [NodeID]) -> JSONValue { .array(xs.map { .string($0.description) }) }
        bundle.json = [
            "a": .string(a.label), "b": .string(b.label),
            "unchanged": .int(Int64(diff.unchangedCount)), "changed_count": .int(Int64(diff.changed.count)),
            "removed": ids(diff.removed), "added": ids(diff.added),
            "pairs": .array(diff.matched.map { m in
                var o: [String: JSONValue] = ["a": .string(m.a.description), "b": .string(m.b.description), "by": .string(m.kind.rawValue)]
                if !m.change.isEmpty {
                    o["attributes"] = .array(m.change.attributes.map { .string($0) })
                    o["inputs"] = .array(m.change.inputs.map { .int(Int64($0)) })
                    if m.change.op { o["op"] = .bool(true) }
                }
                return .object(o)
            }),
            "groups": .array(diff.groups.map { g in
                ["removed": ids(g.removed), "added": ids(g.added), "origin": .string(g.origin), "summary": .string(g.summary)]
            }),
            "inputs_removed": .array(diff.inputsRemoved.map { .string($0) }), "inputs_added": .array(diff.inputsAdded.map { .string($0) }),
            "outputs_removed": .array(diff.outputsRemoved.map { .string($0) }), "outputs_added": .array(diff.outputsAdded.map { .string($0) }),
            "match_ms": .double(ms),
        ]
        return bundle
    }

    /// Graphs up to this many nodes are drawn whole on both sides.
    static let wholeGraphLimit = 250

    /// Both sides drawn with their status colours: whole when small, else the chosen group's
    /// region (its nodes, the changed nodes near it, two rings of neighbours) and the same
    /// paired nodes on the other side.
    static func drawing(_ diff: GraphDiff, _ a: DiffSideRef, _ b: DiffSideRef, focus: String?, _ inv: Invocation) throws -> OutputBundle {
        let ga = a.version.model.graph, gb = b.version.model.graph
        let (sa, sb) = diff.statuses()
        func overlay(_ s: [NodeID: DiffStatus]) -> Overlay {
            var values: [String: Double] = [:], colors: [String: String] = [:]
            for (id, st) in s where st != .unchanged { values[id.description] = Double(st.rawValue); colors[id.description] = st.color }
            return Overlay(name: "diff (1 changed, 2 removed, 3 added)", values: values,
                           coloring: .thresholds(DiffStatus.allCases.map { Overlay.Threshold(value: Double($0.rawValue), color: $0.color) }),
                           rollup: .max, colors: colors)
        }
        let big = ga.nodes.count > wholeGraphLimit || gb.nodes.count > wholeGraphLimit
        var anchorsA = Set<String>(), anchorsB = Set<String>()
        var caption: String
        if let focus, Int(focus) == nil {
            // A node: by id or name on either side.
            let na = ga.nodes.first { $0.id.description == focus || $0.name == focus }
            let nb = gb.nodes.first { $0.id.description == focus || $0.name == focus }
            guard na != nil || nb != nil else { throw inv.error(.lookup, "no node '\(focus)' in \(a.label) or \(b.label)", at: "focus") }
            if let na { anchorsA.insert(na.id.description); if let p = diff.aToB[na.id] { anchorsB.insert(p.description) } }
            if let nb { anchorsB.insert(nb.id.description); if let p = diff.bToA[nb.id] { anchorsA.insert(p.description) } }
            caption = "around \(focus)"
        } else {
            let k = Int(focus ?? "1") ?? 1
            if let g = diff.groups.indices.contains(k - 1) ? diff.groups[k - 1] : nil {
                anchorsA = Set(g.removed.map(\.description)); anchorsB = Set(g.added.map(\.description))
                caption = "group \(k): \(g.summary)"
            } else if !diff.groups.isEmpty {
                throw inv.error(.value, "focus=\(k): there are \(diff.groups.count) groups (1...\(diff.groups.count))", at: "focus")
            } else {
                let c = diff.changed.prefix(20)
                anchorsA = Set(c.map(\.a.description)); anchorsB = Set(c.map(\.b.description))
                caption = "the first \(c.count) changed node(s)"
            }
        }
        // The paired neighbours of each side's anchors are anchors of the other side too.
        let aToB = diff.aToB, bToA = diff.bToA
        for id in ga.nodes.map(\.id) where anchorsA.contains(id.description) {
            for n in ga.predecessors(of: id) + ga.successors(of: id) { if let p = aToB[n] { anchorsB.insert(p.description) } }
        }
        for id in gb.nodes.map(\.id) where anchorsB.contains(id.description) {
            for n in gb.predecessors(of: id) + gb.successors(of: id) { if let p = bToA[n] { anchorsA.insert(p.description) } }
        }
        func render(_ side: DiffSideRef, _ anchors: Set<String>, _ status: [NodeID: DiffStatus]) throws -> RenderResult {
            var options = RenderOptions()
            options.overlay = overlay(status)
            options.viewerHeight = 560
            options.viewerWidth = 540
            do {
                var renderer = try GraphRenderer(side.version.model.graph, hierarchy: side.version.hierarchy)
                if big, !anchors.isEmpty {
                    let part = renderer.graph.neighbourhood(of: anchors, hops: 2, limit: 120)
                    renderer = try GraphRenderer(part.graph)
                }
                options.revealed = anchors.intersection(Set(renderer.graph.nodes.map(\.id)))
                return try renderer.render(options)
            } catch {
                throw inv.error(.model, "cannot draw \(side.label): \(error)")
            }
        }
        let left = try render(a, anchorsA, sa), right = try render(b, anchorsB, sb)
        let scope = big ? caption + " and two steps around it (focus=N picks another group)" : "whole graphs"
        let html = "<div class=\"gs-diff\"><div style=\"font:12px Helvetica,Arial,sans-serif;margin:2px 0\">"
            + HTML.escape("\(a.label) (left) vs \(b.label) (right), \(scope). ") + legendHTML() + "</div>"
            + "<div style=\"display:flex;gap:8px\"><div style=\"flex:1;min-width:0\">" + left.html + "</div>"
            + "<div style=\"flex:1;min-width:0\">" + right.html + "</div></div></div>"
        var bundle = OutputBundle(text: "Drawing: \(a.label) vs \(b.label), \(scope); removed red, added green, changed amber.",
                                  html: html, svg: sideBySideSVG(left, right, titles: (a.label, b.label)))
        bundle.json = ["left_nodes": .int(Int64(left.stats.visibleNodes)), "right_nodes": .int(Int64(right.stats.visibleNodes)),
                       "focus": .string(caption)]
        return bundle
    }

    static func legendHTML() -> String {
        [DiffStatus.removed, .added, .changed].map {
            "<span style=\"display:inline-block;width:10px;height:10px;background:\($0.color);margin:0 3px 0 8px\"></span>\($0.name)"
        }.joined()
    }

    /// Both graphs as Model Explorer graph collections, the mapping and per-side node data.
    static func export(_ diff: GraphDiff, _ a: DiffSideRef, _ b: DiffSideRef, to dir: URL, _ inv: Invocation) throws {
        let files: [(String, String)] = [
            ("a.graph.json", ModelExplorerExporter.export(a.version.model, label: a.label)),
            ("b.graph.json", ModelExplorerExporter.export(b.version.model, label: b.label)),
            ("mapping.json", diff.modelExplorerMapping(nodeKey: ModelExplorerExporter.nodeID)),
            ("a.nodedata.json", diff.modelExplorerNodeData(side: .old, graphID: ModelExplorerExporter.mainGraphID,
                                                           name: "diff \(a.label) -> \(b.label)", nodeKey: ModelExplorerExporter.nodeID)),
            ("b.nodedata.json", diff.modelExplorerNodeData(side: .new, graphID: ModelExplorerExporter.mainGraphID,
                                                           name: "diff \(a.label) -> \(b.label)", nodeKey: ModelExplorerExporter.nodeID)),
        ]
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for (name, text) in files { try Data(text.utf8).write(to: dir.appendingPathComponent(name), options: .atomic) }
        } catch {
            throw inv.error(.file, "cannot write to '\(dir.path)': \(error.localizedDescription)", at: "export")
        }
    }
}
