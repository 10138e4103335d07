// What the session can name for completion and inspection: variables, graphs, nodes,
// hierarchy paths (If/Loop/Scan bodies included) and op types (the current graph's, else the registry's).

import GraphEstimation
import GraphIR
import GraphOps

extension Session {
    /// Names of kind `kind` that start with `prefix`, for completion.
    func completions(for kind: ParameterKind, prefix: String, limit: Int = 200) -> [String] {
        switch kind {
        case .variable:
            return variables.keys.sorted().filter { $0.hasPrefix(prefix) }
        case .graphName:
            return graphs.entries.map(\.name).filter { $0.hasPrefix(prefix) }
        case .version:
            // Steps of the current graph first (@0 ... @N), then graphs and their steps.
            var out = (graphs.current.map { Array($0.history.steps.indices) } ?? []).map { "@\($0)" }
            for e in graphs.entries { out.append(e.name); if prefix.hasPrefix(e.name + "@") { out += e.history.steps.indices.map { "\(e.name)@\($0)" } } }
            return out.filter { $0.hasPrefix(prefix) }
        case .plugin:
            return PluginCommands.catalog().plugins.map(\.name).filter { $0.hasPrefix(prefix) }
        case .hardware:
            // The interpreter loads the registry before completing (see CellInterpreter.complete).
            // fragments complete as `hw=` resolves them: `h1` offers every id containing it
            return (hardwareRegistry?.candidates(prefix) ?? []).map(\.id)
        case .opType:
            // The current graph's op types first; when none matches (or no graph is loaded),
            // every op type the schema registry knows.
            let inGraph = graphs.current.map { Set($0.catalog.entries.map(\.opType)).sorted().filter { $0.hasPrefix(prefix) } } ?? []
            if !inGraph.isEmpty { return inGraph }
            return OpRegistry.builtIn.allOpTypes.filter { $0.hasPrefix(prefix) }
        case .node:
            guard let g = graphs.current else { return [] }
            return g.catalog.nodeNames(startingWith: prefix, limit: limit)
        case .nodeOrPath:
            guard let g = graphs.current else { return [] }
            // Complete one scope level at a time (`/enc` -> `/encoder/`, `If_0/t` -> `If_0/then_branch`),
            // then node names as drawn, body nodes by their qualified names.
            var out = g.catalog.scopeNames(startingWith: prefix)
            if out.isEmpty || !prefix.hasPrefix("/") {
                out += g.catalog.nodeNames(startingWith: prefix, limit: limit)
            }
            // Sections the last drawing cut a long flat level into (`s03_conv1..relu5`), which `show` opens.
            if let sections = g.renderState?.renderer.sectionPaths(), !sections.isEmpty {
                let bare = prefix.hasPrefix("/") ? String(prefix.dropFirst()) : prefix
                out += sections.filter { $0.hasPrefix(bare) }.map { prefix.hasPrefix("/") ? "/" + $0 : $0 }.prefix(limit)
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
        if case .node(let i) = entry.catalog.lookup(name) {
            return GraphCommands.nodeBundle(i, entry)
        }
        if name.contains("/"), let path = entry.hierarchyPath(name) {
            return GraphCommands.treeBundle(entry, root: path, depth: 1)
        }
        return nil
    }
}
