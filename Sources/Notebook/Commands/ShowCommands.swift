// `show`: draws the current graph as SVG with an HTML pan/zoom viewer, collapsed to about
// 150 boxes by default, with focus, depth, direction, highlights and overlays of any
// per-node figure the session holds (from `estimate`, or a Model Explorer node-data file).

import Foundation
import GraphIR
import GraphRendering

/// The renderer and its per-group layout cache for one graph version (history step), kept
/// between cells so expanding one group reuses the layouts of the others. Only the shell
/// thread touches it.
final class RenderState: @unchecked Sendable {
    /// The history step it draws: undo, redo or a new edit move to another step.
    let step: Int
    let renderer: GraphRenderer
    let cache = LayoutCache()

    init(entry: GraphEntry) throws {
        step = entry.step
        renderer = try GraphRenderer(entry.graph, hierarchy: entry.hierarchy, inferred: entry.inferredTypes(inBody: nil))
    }
}

enum ShowCommands {
    static let family = "Drawings"

    static let commands: [CommandSpec] = [
        CommandSpec(
            name: "show", family: family,
            summary: "Draw the current graph (collapsed to ~150 boxes; focus, expand, overlay)",
            usage: "show [PATH|all] [depth=N] [overlay=FIELD] [direction=TB|LR] [constants=folded|boxes]",
            positionals: [Parameter("path", .nodeOrPath, "a hierarchy path or node to open (a body such as If_0/then_branch draws "
                                    + "that body), or `all` to expand everything", default: "the default view")],
            options: [Parameter("depth", .int, "levels to open below PATH", default: "1"),
                      Parameter("overlay", .string, "color nodes by a per-node field (latency, flops, bytes, energy, ...)"),
                      Parameter("overlay_file", .path, "a Model Explorer node-data JSON file to color by"),
                      Parameter("rollup", .choice(["sum", "max", "mean"]), "how collapsed groups combine the overlay", default: "by field"),
                      Parameter("direction", .choice(["TB", "LR"]), "layout direction", default: "TB"),
                      Parameter("highlight", .list(.node), "nodes to outline"),
                      Parameter("boxes", .int, "box budget of the default view", default: "150"),
                      Parameter("labels", .bool, "tensor shapes on edges: declared, else inferred (symbolic, batch×seq×64)", default: "true"),
                      Parameter("constants", .choice(ConstantDisplay.allCases.map(\.rawValue)),
                                "weights and Constant nodes listed in the box of the op using them, or drawn as boxes", default: "folded"),
                      Parameter("graph", .graphName, "which graph", default: "the current graph")],
            details: "Groups are module scopes (/encoder/layer.0/...). A collapsed group shows its name, node count and the "
                + "overlay's rolled-up figure. The HTML view opens on PATH, pans with drag, zooms with the wheel, has a search box, "
                + "and a click on a box opens its details (op, attributes, inputs and outputs with shapes, path); Esc closes them. "
                + "Nodes `check` finds problems on are outlined (red: error, orange: warning) with a badge, the problems lead their "
                + "tooltip and panel, a collapsed group holding some shows their count, and edges whose shape is unknown because "
                + "inference failed upstream are dashed red; the legend lists what is drawn.",
            examples: ["show", "show /encoder/layer.0 depth=2", "show If_0/then_branch", "show all direction=LR constants=boxes",
                       "estimate hw=h100-sxm5\nshow overlay=latency"]
        ) { session, inv, out in
            let entry = try GraphCommands.graphArgument(session, inv, "show")
            var options = RenderOptions()
            options.constants = inv.string("constants").flatMap(ConstantDisplay.init(rawValue:)) ?? .folded
            let state = try renderState(for: entry, in: &session)
            var target = ShowTarget()
            if let path = inv.string("path") {
                if path == "all" {
                    options.expandAll = true
                } else {
                    target = try ShowTarget(path, entry: entry, renderer: state.renderer, inv: inv)
                    options.focusPath = target.focus
                    if target.isScope { options.depth = inv.int("depth") ?? 1 }
                    options.highlighted.formUnion(target.highlighted)
                }
            }
            if let d = inv.int("depth"), d < 0 { throw inv.error(.value, "depth must be 0 or more", at: "depth") }
            if let b = inv.int("boxes") {
                guard b >= 1 else { throw inv.error(.value, "boxes must be at least 1", at: "boxes") }
                options.maxVisibleBoxes = b
            }
            options.direction = inv.string("direction") == "LR" ? .leftToRight : .topToBottom
            options.edgeLabels = inv.bool("labels") ?? true
            for item in inv.list("highlight") ?? [] {
                options.highlighted.insert(try target.highlightID(item.displayString, entry: entry, inv: inv))
            }
            options.overlay = try overlay(entry, session, inv)
            options.problems = entry.problemMarks(inBody: target.body)
            let result: RenderResult
            do {
                result = try target.renderer(entry: entry, state: state).render(options, cache: target.body == nil ? state.cache : nil)
            } catch {
                throw inv.error(.model, "cannot draw \(target.title(entry)): \(error)")
            }
            var bundle = OutputBundle(text: "\(target.title(entry)): \(result.stats.summary)", html: result.html, svg: result.svg)
            if result.svg.utf8.count > maxStaticSVGBytes {
                // The HTML viewer already embeds the drawing; a second multi-megabyte copy would only bloat the notebook.
                bundle.svg = nil
                bundle.text += "\n(static SVG omitted: \(Format.bytes(Double(result.svg.utf8.count))); `export FILE.svg` or a focused `show PATH` gives one)"
            }
            bundle.json = ["nodes": .int(Int64(result.stats.totalNodes)), "visible_nodes": .int(Int64(result.stats.visibleNodes)),
                           "boundary_nodes": .int(Int64(result.stats.boundaryNodes)),
                           "collapsed_groups": .int(Int64(result.stats.collapsedGroups)), "edges": .int(Int64(result.stats.edges)),
                           "crossings": .int(Int64(result.stats.crossings)),
                           "layout_ms": .double(result.stats.layoutSeconds * 1000), "svg_ms": .double(result.stats.writeSeconds * 1000)]
            out.display(bundle)
        },
    ]

    /// Above this size the static `image/svg+xml` copy is left out (the HTML view carries the drawing).
    static let maxStaticSVGBytes = 8_000_000

    /// The cached renderer for the entry's current step, made on first use.
    static func renderState(for entry: GraphEntry, in session: inout Session) throws -> RenderState {
        if let s = entry.renderState, s.step == entry.step { return s }
        let state: RenderState
        do { state = try RenderState(entry: entry) } catch {
            throw CellError(.model, "cannot draw \(entry.name): \(error)")
        }
        session.graphs.modify(entry.name) { $0.renderState = state }
        return state
    }

    static func overlay(_ entry: GraphEntry, _ session: Session, _ inv: Invocation) throws -> Overlay? {
        let rollup = inv.string("rollup").flatMap(Overlay.Rollup.init(rawValue:))
        if let file = inv.string("overlay_file") {
            let url = session.resolvePath(file)
            let data: Data
            do { data = try Data(contentsOf: url) } catch {
                throw inv.error(.file, "cannot read '\(file)': \(error.localizedDescription)", at: "overlay_file")
            }
            do {
                var o = try Overlay(modelExplorerJSON: data)
                if let rollup { o.rollup = rollup }
                return o
            } catch {
                throw inv.error(.value, "'\(file)' is not Model Explorer node data: \(error)", at: "overlay_file")
            }
        }
        guard let name = inv.string("overlay") else { return nil }
        guard let field = entry.fields[name] else {
            let known = entry.fields.keys.sorted()
            let hint = known.isEmpty ? "run `estimate` first to get latency, flops, bytes and energy"
                : "fields: \(known.joined(separator: ", "))"
            throw inv.error(.lookup, "\(entry.name) has no overlay field '\(name)'; \(hint)", at: "overlay")
        }
        var values: [String: Double] = [:]
        for (id, v) in field.values where v.isFinite { values[id.description] = v }
        return Overlay(name: field.unit.isEmpty ? name : "\(name) (\(field.unit))", values: values,
                       rollup: rollup ?? Overlay.Rollup(rawValue: field.rollup.rawValue))
    }
}
