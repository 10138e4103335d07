// What the session can name for completion and inspection: variables now, and the
// graphs, nodes, hierarchy paths and hardware targets as those families register them.

extension Session {
    /// Names of kind `kind` that start with `prefix`, for completion.
    func completions(for kind: ParameterKind, prefix: String) -> [String] {
        switch kind {
        case .variable:
            return variables.keys.sorted().filter { $0.hasPrefix(prefix) }
        default:
            return []
        }
    }

    /// A short description of `name` (a node, a path, a graph), for Shift-Tab.
    func inspect(_ name: String) -> OutputBundle? {
        nil
    }
}
