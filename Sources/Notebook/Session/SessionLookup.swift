// What the session can name for completion and inspection: variables, graphs, nodes,
// hierarchy paths and op types of the current graph.

import GraphEstimation
import GraphIR

extension Session {
    /// Names of kind `kind` that start with `prefix`, for completion.
    func completions(for kind: ParameterKind, prefix: String, limit: Int = 200) -> [String] {
        switch kind {
        case .variable:
            return variables.keys.sorted().filter { $0.hasPrefix(prefix) }
        case .graphName:
            return graphs.entries.map(\.name).filter { $0.hasPrefix(prefix) }
        case .hardware:
            // The interpreter loads the registry before completing (see CellInterpreter.complete).
            // fragments complete as `hw=` resolves them: `h1` offers every id containing it
            return (hardwareRegistry?.candidates(prefix) ?? []).map(\.id)
        case .opType:
            guard let g = graphs.current else { return [] }
            return Set(g.graph.nodes.map(\.opType)).sorted().filter { $0.hasPrefix(prefix) }
        case .node:
            guard let g = graphs.current else { return [] }
            return Array(g.graph.nodes.lazy.map(\.name).filter { !$0.isEmpty && $0.hasPrefix(prefix) }.prefix(limit))
        case .nodeOrPath:
            guard let g = graphs.current else { return [] }
            // Complete one hierarchy level at a time: `/enc` -> `/encoder/`.
            let typed = prefix.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            let parent = Array(typed.dropFirst().dropLast())
            let last = typed.last ?? ""
            var out = g.hierarchy.children(of: parent).filter { $0.hasPrefix(last) }.map { child -> String in
                let path = "/" + (parent + [child]).joined(separator: "/")
                return g.hierarchy.children(of: parent + [child]).isEmpty ? path : path + "/"
            }
            if out.isEmpty || !prefix.hasPrefix("/") {
                out += g.graph.nodes.lazy.map(\.name).filter { !$0.isEmpty && $0.hasPrefix(prefix) }.prefix(limit)
            }
            return out
        default:
            return []
        }
    }

    /// A short description of `name` (a node, a hierarchy path or a graph), for Shift-Tab.
    func inspect(_ name: String) -> OutputBundle? {
        if let entry = graphs[name] {
            return GraphCommands.summaryBundle(entry)
        }
        guard let entry = graphs.current else { return nil }
        if let node = entry.node(named: name) {
            return GraphCommands.nodeBundle(node, entry)
        }
        if name.hasPrefix("/"), let path = entry.hierarchyPath(name) {
            return GraphCommands.treeBundle(entry, root: path, depth: 1)
        }
        return nil
    }
}
