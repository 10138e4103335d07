/// Exports graphs as Model Explorer graph-collection JSON (shape A of
/// shared/formats/model-explorer-json.md) and per-node overlay ("node data") JSON. Node ids
/// are our stable `NodeID`s (`n<k>`), so node data computed anywhere in Graphsmith lands on
/// the right node; namespaces come from the `Hierarchy`.
import Foundation
import GraphIR

/// Model Explorer JSON export.
public enum ModelExplorerExporter {
    /// Id of the main graph in the collection (node-data files key on it).
    public static let mainGraphID = "main"

    /// The Model Explorer node id of a node (`n<k>`).
    public static func nodeID(_ id: NodeID) -> String { "n\(id.rawValue)" }

    /// Exports `model` (main graph plus one linked graph per subgraph) as a GraphCollection.
    public static func export(_ model: Model, label: String) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.field("label", label)
        w.key("graphs")
        w.beginArray()
        var graphAttrs: [(String, String)] = [
            ("ir_version", String(model.irVersion)),
            ("opset", model.opsetImports.map { ($0.domain.isEmpty ? "ai.onnx" : $0.domain) + ":" + String($0.version) }.joined(separator: ", ")),
        ]
        if !model.producerName.isEmpty { graphAttrs.append(("producer", model.producerName + " " + model.producerVersion)) }
        if !model.docString.isEmpty { graphAttrs.append(("doc_string", model.docString)) }
        for e in model.metadataProps.entries { graphAttrs.append(("[metadata] " + e.key, e.value)) }
        writeGraph(model.graph, id: mainGraphID, graphAttributes: graphAttrs, into: &w)
        w.endArray()
        w.endObject()
        return w.text
    }

    /// Exports a lone graph (no model metadata).
    public static func export(_ graph: Graph, label: String) -> String {
        export(Model(graph: graph, opsetImports: []), label: label)
    }

    /// Node-data overlay (model form) for any per-node figure, e.g. estimated latency.
    /// Colours by a green-yellow-red gradient over the values' range.
    public static func nodeData(_ values: [NodeID: Double], name: String, graphID: String = mainGraphID) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.key(graphID)
        w.beginObject()
        w.field("name", name)
        w.key("results")
        w.beginObject()
        for (id, v) in values.sorted(by: { $0.key < $1.key }) where v.isFinite {
            w.key(nodeID(id))
            w.beginObject()
            w.key("value")
            w.number(v)
            w.endObject()
        }
        w.endObject()
        w.key("gradient")
        w.beginArray()
        for (stop, color) in [(0.0, "#e8f5e9"), (0.5, "#fff59d"), (1.0, "#e53935")] {
            w.beginObject()
            w.key("stop")
            w.number(stop)
            w.field("bgColor", color)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        w.endObject()
        return w.text
    }

    /// A namespace path for Model Explorer: segments joined by `/`, literal slashes escaped,
    /// empty segments dropped (they would make the node vanish in the UI).
    static func namespace(_ path: [String]) -> String {
        path.filter { !$0.isEmpty }.map { $0.replacingOccurrences(of: "/", with: "\\/") }.joined(separator: "/")
    }

    static func typeText(_ t: ValueType?) -> String? {
        guard let t = t else { return nil }
        switch t {
        case .tensor(let e, let s):
            let dims = s.map { "[" + $0.dims.map(\.description).joined(separator: ",") + "]" } ?? "[?]"
            return e.name + dims
        default: return t.description
        }
    }

    static func writeGraph(_ g: Graph, id graphID: String, graphAttributes: [(String, String)], into w: inout JSONWriter) {
        let hierarchy = Hierarchy(g)
        var pending: [(id: String, graph: Graph)] = []
        w.beginObject()
        w.field("id", graphID)
        w.key("groupNodeAttributes")
        w.beginObject()
        w.key("")
        w.beginObject()
        for (k, v) in graphAttributes { w.field(k, v) }
        w.field("nodes", String(g.nodes.count))
        w.endObject()
        for p in hierarchy.allPaths {
            w.key(namespace(p))
            w.beginObject()
            w.field("nodes", String(hierarchy.count(under: p)))
            w.endObject()
        }
        w.endObject()
        w.key("nodes")
        w.beginArray()
        // Graph inputs (not initializers) and outer-scope values as source nodes.
        func sourceNode(_ id: String, label: String, value: String) {
            w.beginObject()
            w.field("id", id)
            w.field("label", label)
            w.field("namespace", "")
            w.key("attrs"); w.beginArray(); w.beginObject(); w.field("key", "name"); w.field("value", value); w.endObject(); w.endArray()
            w.key("incomingEdges"); w.beginArray(); w.endArray()
            w.key("outputsMetadata")
            w.beginArray()
            w.beginObject()
            w.field("id", "0")
            w.key("attrs")
            w.beginArray()
            w.beginObject(); w.field("key", "tensor_name"); w.field("value", value); w.endObject()
            if let t = typeText(g.type(of: value)) { w.beginObject(); w.field("key", "tensor_shape"); w.field("value", t); w.endObject() }
            w.endArray()
            w.endObject()
            w.endArray()
            w.endObject()
        }
        for v in g.inputs where g.initializer(named: v.name) == nil { sourceNode("input:" + v.name, label: "Input", value: v.name) }
        for r in g.outerScopeReferences.sorted() { sourceNode("outer:" + r, label: "Outer", value: r) }

        func source(of name: String) -> (String, String)? {
            switch g.producer(of: name) {
            case .node(let pid, let k): return (nodeID(pid), String(k))
            case .graphInput: return g.initializer(named: name) == nil ? ("input:" + name, "0") : nil
            case .outerScope: return ("outer:" + name, "0")
            default: return nil
            }
        }

        for n in g.nodes {
            w.beginObject()
            w.field("id", nodeID(n.id))
            w.field("label", n.qualifiedOpType)
            w.field("namespace", namespace(hierarchy.path(of: n.id)))
            let subs = n.subgraphs
            if !subs.isEmpty {
                w.key("subgraphIds")
                w.beginArray()
                for (i, s) in subs.enumerated() {
                    let sid = "\(graphID)/\(nodeID(n.id))/\(s.attribute)" + (subs.filter { $0.attribute == s.attribute }.count > 1 ? "[\(i)]" : "")
                    w.string(sid)
                    pending.append((sid, s.graph))
                }
                w.endArray()
            }
            w.key("attrs")
            w.beginArray()
            func kv(_ k: String, _ v: String) { w.beginObject(); w.field("key", k); w.field("value", v); w.endObject() }
            kv("id", String(n.id.rawValue))
            if !n.name.isEmpty { kv("name", n.name) }
            if !n.domain.isEmpty { kv("domain", n.domain) }
            for a in n.attributes { kv(a.name, a.value.displayString) }
            for (k, v) in n.annotations.sorted(by: { $0.key < $1.key }) { kv("[annotation] " + k, v) }
            if !n.provenance.isEmpty { kv("[provenance]", n.provenance.description) }
            w.endArray()
            w.key("incomingEdges")
            w.beginArray()
            for (i, name) in n.inputs.enumerated() where !name.isEmpty {
                guard let (src, out) = source(of: name) else { continue }
                w.beginObject()
                w.field("sourceNodeId", src)
                w.field("sourceNodeOutputId", out)
                w.field("targetNodeInputId", String(i))
                w.endObject()
            }
            w.endArray()
            w.key("inputsMetadata")
            w.beginArray()
            for (i, name) in n.inputs.enumerated() where !name.isEmpty {
                w.beginObject()
                w.field("id", String(i))
                w.key("attrs")
                w.beginArray()
                kv("__tensor_tag", name)
                if let t = typeText(g.type(of: name)) { kv("tensor_shape", t) }
                if g.initializer(named: name) != nil { kv("initializer", "true") }
                w.endArray()
                w.endObject()
            }
            w.endArray()
            w.key("outputsMetadata")
            w.beginArray()
            for (k, name) in n.outputs.enumerated() where !name.isEmpty {
                w.beginObject()
                w.field("id", String(k))
                w.key("attrs")
                w.beginArray()
                kv("tensor_name", name)
                if let t = typeText(g.type(of: name)) { kv("tensor_shape", t) }
                w.endArray()
                w.endObject()
            }
            w.endArray()
            w.endObject()
        }
        // Graph outputs as sink nodes.
        for (i, o) in g.outputs.enumerated() {
            w.beginObject()
            w.field("id", "output:\(i):" + o.name)
            w.field("label", "Output")
            w.field("namespace", "")
            w.key("attrs"); w.beginArray(); w.beginObject(); w.field("key", "name"); w.field("value", o.name); w.endObject(); w.endArray()
            w.key("incomingEdges")
            w.beginArray()
            if let (src, out) = source(of: o.name) {
                w.beginObject()
                w.field("sourceNodeId", src)
                w.field("sourceNodeOutputId", out)
                w.field("targetNodeInputId", "0")
                w.endObject()
            }
            w.endArray()
            w.endObject()
        }
        w.endArray()
        w.endObject()
        for (sid, sg) in pending { writeGraph(sg, id: sid, graphAttributes: [], into: &w) }
    }
}
