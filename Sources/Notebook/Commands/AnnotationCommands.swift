// `annotate` and `annotations`: hints on nodes that passes read (fuse, quantize, keep, device)
// and free notes. Setting them is a history step like any edit; they follow provenance (a
// fused node inherits its sources' annotations) and show as badges in drawings.

import Foundation
import GraphEditing
import GraphIR
import JupyterKernel

enum AnnotationCommands {
    static let family = "Editing"

    /// Keys with a fixed meaning and their legal values (nil: any text).
    static let knownKeys: [(key: String, legal: [String]?, help: String)] = [
        ("fuse", ["true", "false"], "whether fusion passes may fuse the node"),
        ("quantize", ["int8", "uint8", "fp16", "bf16", "none"], "the precision quantization passes should give it"),
        ("keep", ["true", "false"], "passes must not remove it"),
        ("device", nil, "where it should run"),
        ("note", nil, "free text"),
    ]

    /// The specs, with `annotate` completing the known keys and their legal values.
    static let commands: [CommandSpec] = specs.map { spec in
        var s = spec
        if s.name == "annotate" {
            s.extraCompletion = { _, _, key in
                guard let key else { return knownKeys.map { $0.key + "=" } }
                return knownKeys.first { $0.key == key }?.legal ?? []
            }
        }
        return s
    }

    static let specs: [CommandSpec] = [
        CommandSpec(
            name: "annotate", family: family,
            summary: "Annotate nodes: a node, a hierarchy path, or op=TYPE (fuse, quantize, keep, device, note, any key)",
            usage: "annotate NODE|PATH|$SELECTION|op=TYPE KEY=VALUE ... [--remove]",
            positionals: [Parameter("target", .list(.nodeOrPath), "a node, a hierarchy path (every node under it), or a "
                                    + "selection saved by `find ... save=NAME` ($NAME)")],
            options: [Parameter("op", .opType, "every node of this op type")],
            extraOptions: .any, extraOptionsHelp: "fuse=true|false, quantize=int8|uint8|fp16|bf16|none, keep=true, device=NAME, note=\"...\", or any key",
            flags: [Flag("remove", "remove the named keys (their values are ignored)")],
            details: "Annotations are saved in the ONNX file (node metadata) and in Model Explorer JSON, survive edits, and are "
                + "inherited by nodes a pass makes from annotated ones (conflicts are reported).",
            examples: ["annotate /encoder/layer.0 quantize=int8", "annotate op=Softmax keep=true", "annotate n12 note=\"check scale\"",
                       "find op=Conv path=/backbone save=convs\nannotate $convs fuse=false",
                       "annotate n12 note=x --remove"], changesState: true
        ) { session, inv, out in
            guard !inv.extra.isEmpty else { throw inv.error(.command, "annotate needs KEY=VALUE; e.g. annotate n12 fuse=false") }
            var pairs: [(String, String?)] = []
            for (key, arg) in inv.extra {
                var text = arg.value.displayString
                if case .bool(let b) = arg.value { text = b ? "true" : "false" }
                if let known = knownKeys.first(where: { $0.key == key }), let legal = known.legal, !inv.has("remove"), !legal.contains(text) {
                    throw inv.error(.value, "\(key)=\(text) is not legal; \(key) takes \(legal.joined(separator: "|"))", at: key)
                }
                pairs.append((key, inv.has("remove") ? nil : text))
            }
            try EditSupport.commit(&session, inv, out, origin: "annotate") { tx, entry in
                let targets = try nodesNamed(entry, inv)
                for t in targets {
                    for (k, v) in pairs { try tx.apply(.annotate(t.id, key: k, value: v), in: t.scope) }
                }
                let what = pairs.map { pair in pair.1.map { "\(pair.0)=\($0)" } ?? "\(pair.0) removed" }.joined(separator: ", ")
                return "Annotated \(targets.count) node\(targets.count == 1 ? "" : "s"): \(what)"
            }
        },
        CommandSpec(
            name: "annotations", family: family,
            summary: "List the annotations of the current graph",
            usage: "annotations [KEY]",
            positionals: [Parameter("key", .string, "only this key")],
            examples: ["annotations", "annotations quantize"]
        ) { session, inv, out in
            let entry = try session.currentGraph(for: "annotations")
            let only = inv.string("key")
            var t = Table(columns: [.init("node"), .init("name"), .init("op"), .init("key"), .init("value"), .init("from")],
                          title: "Annotations of \(entry.name) at @\(entry.step)")
            var rows: [JSONValue] = []
            for (path, n) in entry.graph.allNodes() {
                for (k, v) in n.annotations.sorted(by: { $0.key < $1.key }) where only == nil || only == k {
                    let from = n.provenance.sources.isEmpty ? "" : "inherited via " + n.provenance.description
                    t.rows.append([Table.Cell(n.id.description), Table.Cell(n.displayName), Table.Cell(n.qualifiedOpType),
                                   Table.Cell(k), Table.Cell(v), Table.Cell(from)])
                    rows.append(["node": .string(n.id.description), "name": .string(n.displayName), "key": .string(k), "value": .string(v),
                                 "body": .bool(!path.isEmpty)])
                }
            }
            if t.rows.isEmpty {
                out.print("No annotations in \(entry.name)" + (only.map { " with key '\($0)'" } ?? "") + ". Add some with `annotate NODE key=value`.")
                return
            }
            var b = t.bundle
            b.json = ["graph": .string(entry.name), "annotations": .array(rows)]
            out.display(b)
        },
    ]

    /// The nodes an annotate command names: op=TYPE, a node, or every node under a path.
    static func nodesNamed(_ entry: GraphEntry, _ inv: Invocation) throws -> [EditTarget] {
        if let op = inv.string("op") {
            let hits = entry.graph.nodes.filter { $0.opType == op }
            guard !hits.isEmpty else {
                let ops = Set(entry.graph.nodes.map(\.opType)).sorted()
                throw inv.error(.lookup, "no \(op) node in \(entry.name)" + (Suggest.closest(to: op, in: ops).map { "; did you mean '\($0)'?" } ?? ""), at: "op")
            }
            return hits.map { EditTarget(id: $0.id, scope: [], node: $0, graph: entry.graph) }
        }
        guard let items = inv.list("target"), !items.isEmpty else {
            throw inv.error(.command, "annotate needs NODE, PATH, $SELECTION or op=TYPE")
        }
        var out: [EditTarget] = []
        var seen = Set<NodeID>()
        for item in items {
            let text = item.displayString
            if entry.catalog.lookup(text) == .none, let path = entry.hierarchyPath(text), !path.isEmpty {
                let ids = Set(entry.hierarchy.nodes(under: path))
                let nodes = entry.graph.nodes.filter { ids.contains($0.id) }
                guard !nodes.isEmpty else { throw inv.error(.lookup, "'\(text)' holds no nodes", at: "target") }
                for n in nodes where seen.insert(n.id).inserted { out.append(EditTarget(id: n.id, scope: [], node: n, graph: entry.graph)) }
                continue
            }
            let t = try EditSupport.target(text: text, entry, inv, at: "target")
            if seen.insert(t.id).inserted { out.append(t) }
        }
        return out
    }
}
