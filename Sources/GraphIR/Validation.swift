/// Structural validation that needs no operator knowledge: dangling inputs, duplicate
/// definitions, cycles, missing graph outputs, initializers whose declared type disagrees,
/// recursively through subgraphs, each with a message that names the node and value.
/// Checks against operator schemas live in GraphOps (`SchemaValidator`).

/// One problem found by `Graph.validate()`.
public struct ValidationIssue: Sendable, Equatable, CustomStringConvertible {
    /// The kind of problem.
    public enum Kind: String, Sendable {
        case danglingInput, duplicateDefinition, duplicateOutputName, cycle, missingGraphOutput,
             typeMismatch, emptyGraphOutputName
    }
    /// The kind.
    public var kind: Kind
    /// The node concerned, if any.
    public var node: NodeID?
    /// The value concerned, if any.
    public var value: String?
    /// Path of (node id) through subgraphs to the graph where it was found; empty at top level.
    public var subgraphPath: [NodeID]
    /// Human-readable explanation.
    public var message: String
    public var description: String {
        let where_ = subgraphPath.isEmpty ? "" : " (in subgraph of " + subgraphPath.map(\.description).joined(separator: "/") + ")"
        return message + where_
    }
}

extension Graph {
    /// Checks the graph's structure and returns every problem found (empty when valid).
    /// Names available from enclosing graphs are passed as `outerNames` when validating a
    /// subgraph on its own.
    public func validate(outerNames: Set<String> = []) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        validate(outerNames: outerNames, path: [], into: &issues)
        return issues
    }

    /// The issues `validate()` reports for the given top-level nodes (inputs nothing defines,
    /// initializer types) and for the graph outputs, without walking the rest of the graph:
    /// what an edit of those nodes can have changed. Duplicate definitions and cycles cannot
    /// arise through the edit API, which refuses them.
    public func validateLocally(nodes ids: Set<NodeID>) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        for id in ids.sorted(by: { (position(of: $0) ?? 0) < (position(of: $1) ?? 0) }) {
            guard let n = node(id) else { continue }
            for (i, name) in n.inputs.enumerated() where !name.isEmpty && storage.values[producer: name] == nil {
                issues.append(ValidationIssue(kind: .danglingInput, node: n.id, value: name, subgraphPath: [],
                                              message: "\(describe(n)) input \(i) reads '\(name)', which nothing defines"))
            }
            checkTypes(n, path: [], into: &issues)
        }
        return issues + validateOutputs()
    }

    /// The graph-output part of `validate()`: empty, repeated or undefined output names.
    public func validateOutputs(outerNames: Set<String> = []) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        var seenOutputs = Set<String>()
        for (i, o) in storage.outputs.enumerated() {
            if o.name.isEmpty {
                issues.append(ValidationIssue(kind: .emptyGraphOutputName, node: nil, value: nil, subgraphPath: [],
                                              message: "graph output \(i) has an empty name"))
                continue
            }
            if !seenOutputs.insert(o.name).inserted {
                issues.append(ValidationIssue(kind: .duplicateOutputName, node: nil, value: o.name, subgraphPath: [],
                                              message: "graph output '\(o.name)' is listed more than once"))
            }
            if storage.values[producer: o.name] == nil && !outerNames.contains(o.name) {
                issues.append(ValidationIssue(kind: .missingGraphOutput, node: nil, value: o.name, subgraphPath: [],
                                              message: "graph output '\(o.name)' is not produced by any node, input or initializer"))
            }
        }
        return issues
    }

    private func describe(_ n: Node) -> String {
        "node \(n.id) (\(n.opType)\(n.name.isEmpty ? "" : " '\(n.name)'"))"
    }

    private func validate(outerNames: Set<String>, path: [NodeID], into issues: inout [ValidationIssue]) {
        let s = storage
        var defined = Set<String>()
        var definedBy: [String: String] = [:]
        func define(_ name: String, _ by: String, node: NodeID?) {
            if name.isEmpty { return }
            if let prev = definedBy[name] {
                issues.append(ValidationIssue(kind: .duplicateDefinition, node: node, value: name, subgraphPath: path,
                                              message: "value '\(name)' is defined by \(by) and already by \(prev)"))
            }
            definedBy[name] = by
            defined.insert(name)
        }
        for v in s.inputs { define(v.name, "graph input", node: nil) }
        for t in s.initializers where !s.inputs.contains(where: { $0.name == t.name }) {
            define(t.name, "initializer", node: nil)
        }
        for t in s.sparseInitializers { define(t.name, "sparse initializer", node: nil) }
        for n in s.nodes { for o in n.outputs { define(o, describe(n), node: n.id) } }

        let available = defined.union(outerNames)
        // Dangling inputs and order (cycles): walk in order; a name produced later is a cycle
        // if a topological order does not exist.
        let acyclic = topologicalOrder() != nil
        if !acyclic {
            issues.append(ValidationIssue(kind: .cycle, node: nil, value: nil, subgraphPath: path,
                                          message: "the graph has a cycle: no topological order exists"))
        }
        for n in s.nodes {
            for (i, name) in n.inputs.enumerated() where !name.isEmpty && !available.contains(name) {
                issues.append(ValidationIssue(kind: .danglingInput, node: n.id, value: name, subgraphPath: path,
                                              message: "\(describe(n)) input \(i) reads '\(name)', which nothing defines"))
            }
            for (attr, g) in n.subgraphs {
                let _ = attr
                g.validate(outerNames: available, path: path + [n.id], into: &issues)
            }
            checkTypes(n, path: path, into: &issues)
        }
        var seenOutputs = Set<String>()
        for (i, o) in s.outputs.enumerated() {
            if o.name.isEmpty {
                issues.append(ValidationIssue(kind: .emptyGraphOutputName, node: nil, value: nil, subgraphPath: path,
                                              message: "graph output \(i) has an empty name"))
                continue
            }
            if !seenOutputs.insert(o.name).inserted {
                issues.append(ValidationIssue(kind: .duplicateOutputName, node: nil, value: o.name, subgraphPath: path,
                                              message: "graph output '\(o.name)' is listed more than once"))
            }
            if !available.contains(o.name) {
                issues.append(ValidationIssue(kind: .missingGraphOutput, node: nil, value: o.name, subgraphPath: path,
                                              message: "graph output '\(o.name)' is not produced by any node, input or initializer"))
            }
        }
    }

    /// The one type check that needs no operator schema: an initializer's declared type must
    /// agree with the tensor. Element types against each op's constraints are checked by
    /// GraphOps' `SchemaValidator`, which knows the schemas.
    private func checkTypes(_ n: Node, path: [NodeID], into issues: inout [ValidationIssue]) {
        for name in n.inputs where !name.isEmpty {
            if let t = initializer(named: name), let declared = storage.values[declaredType: name],
               let de = declared.elementType, de != t.elementType {
                issues.append(ValidationIssue(kind: .typeMismatch, node: n.id, value: name, subgraphPath: path,
                    message: "'\(name)' is declared \(declared) but its initializer is \(t.elementType.name)"))
            }
        }
    }
}
