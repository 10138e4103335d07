// What every edit command shares: resolving the node an argument names (with its body), turning
// cell values into attribute values by the op's schema, and committing a transaction as one
// history step — checked first, refused with the list of what it broke unless `--force`.

import Foundation
import GraphEditing
import GraphIR
import GraphOps

/// A node an edit argument named: its id and the body it sits in (no steps: the main graph).
struct EditTarget {
    var id: NodeID
    var scope: [BodyStep]
    var node: Node
    var graph: Graph
}

enum EditSupport {
    /// The node `parameter` names: an id (`n12`) always means the id; a name several nodes
    /// share is an error listing them.
    static func target(_ parameter: String, _ entry: GraphEntry, _ inv: Invocation) throws -> EditTarget {
        let text = try inv.requiredString(parameter)
        return try target(text: text, entry, inv, at: parameter)
    }

    static func target(text: String, _ entry: GraphEntry, _ inv: Invocation, at parameter: String) throws -> EditTarget {
        let c = entry.catalog
        let i = try GraphCommands.nodeIndex(text, in: entry, inv, at: parameter)
        let scope = c.entries[i].body.map { c.bodies[$0].steps } ?? []
        let g = c.graph(holding: i)
        guard let node = c.node(i) else { throw inv.error(.lookup, "node \(c.entries[i].id) is gone", at: parameter) }
        return EditTarget(id: node.id, scope: scope, node: node, graph: g)
    }

    /// An attribute value from a cell value, typed by the schema when the op has one (`alpha=1`
    /// is a float for LeakyRelu), else by the value itself. Unknown attributes are refused with
    /// the closest names; `None` means "remove".
    static func attributeValue(_ name: String, _ value: CellValue, schema: OpSchema?, op: String,
                               _ inv: Invocation) throws -> AttributeValue? {
        if case .none = value { return nil }
        // A bare `None` reaches here as text (`set n5 axis=None`); it removes, as the help says.
        if case .string("None") = value { return nil }
        let attr = schema?.attribute(name)
        if let schema, attr == nil {
            let names = schema.attributes.map(\.name)
            let near = closestNames(to: name, among: names)
            let hint = !near.isEmpty ? "; did you mean " + near.map { "'\($0)'" }.joined(separator: ", ") + "?"
                : (names.isEmpty ? "; it takes no attributes" : "; its attributes: \(names.joined(separator: ", "))")
            throw inv.error(.value, "\(op) has no attribute '\(name)'\(hint)", at: name)
        }
        // A bare word reaches here as text (`axis=7`): read it as the number it spells.
        var value = value
        if case .string(let s) = value, attr?.kind != .string, attr?.kind != .strings {
            if let i = Int(s) { value = .int(i) } else if let d = Double(s) { value = .float(d) }
        }
        func bad(_ expected: String) -> CellError {
            inv.error(.type, "attribute '\(name)' of \(op) is \(expected); got \(value.typeName) \(value.literal)", at: name)
        }
        func ints(_ items: [CellValue]) throws -> [Int64] {
            try items.map { if case .int(let i) = $0 { return Int64(i) }; throw bad("a list of ints") }
        }
        func floats(_ items: [CellValue]) throws -> [Float] {
            try items.map { guard let d = $0.numericValue else { throw bad("a list of floats") }; return Float(d) }
        }
        func strings(_ items: [CellValue]) throws -> [[UInt8]] {
            try items.map { if case .string(let s) = $0 { return Array(s.utf8) }; throw bad("a list of strings") }
        }
        switch attr?.kind {
        case .int?:
            switch value {
            case .int(let i): return .int(Int64(i))
            case .bool(let b): return .int(b ? 1 : 0)
            default: throw bad("an int")
            }
        case .float?:
            guard let d = value.numericValue else { throw bad("a float") }
            return .float(Float(d))
        case .string?:
            guard case .string(let s) = value else { throw bad("a string") }
            return .text(s)
        case .ints?:
            if case .int(let i) = value { return .ints([Int64(i)]) }
            guard case .list(let items) = value else { throw bad("a list of ints") }
            return .ints(try ints(items))
        case .floats?:
            guard case .list(let items) = value else { throw bad("a list of floats") }
            return .floats(try floats(items))
        case .strings?:
            guard case .list(let items) = value else { throw bad("a list of strings") }
            return .strings(try strings(items))
        case .tensor?:
            return .tensor(try LiteralTensor.tensor(from: value, name: "", elementType: nil, inv, at: name))
        case let kind?:
            throw inv.error(.value, "attribute '\(name)' of \(op) is a \(kind.rawValue); the cell language cannot write one", at: name)
        case nil:
            switch value {
            case .int(let i): return .int(Int64(i))
            case .bool(let b): return .int(b ? 1 : 0)
            case .float(let d): return .float(Float(d))
            case .string(let s): return .text(s)
            case .list(let items) where items.allSatisfy({ if case .int = $0 { return true }; return false }): return .ints(try ints(items))
            case .list(let items) where items.allSatisfy({ $0.numericValue != nil }): return .floats(try floats(items))
            case .list(let items): return .strings(try strings(items))
            default: throw bad("a number, string or list")
            }
        }
    }

    /// Attribute completion for `set NODE` and `add OP`: the schema's attribute names (`alpha=`)
    /// or one attribute's legal values (quoted strings for string attributes, the default first).
    static func attributeCompletion(opFrom word: @escaping @Sendable (Session, String) -> (op: String, domain: String)?)
        -> @Sendable (Session, [String], String?) -> [String] {
        { session, words, key in
            guard words.count >= 2, let model = session.graphs.current?.model, let (op, domain) = word(session, words[1]),
                  let schema = schema(op, domain: domain, model) else { return [] }
            guard let key else { return schema.attributes.map { $0.name + "=" } }
            guard let attr = schema.attribute(key) else { return [] }
            if let legal = attr.legalValues { return legal.map { attr.kind == .string ? "\"\($0)\"" : $0 } }
            return attr.defaultValue.map { [$0.description] } ?? []
        }
    }

    /// The schema of `opType` at the model's opset for `domain`.
    static func schema(_ opType: String, domain: String, _ model: Model) -> OpSchema? {
        let version = model.opsetVersion(for: domain) ?? (domain.isEmpty ? 21 : 1)
        return OpRegistry.builtIn.schema(domain: domain, opType: opType, opsetVersion: Int(version))
    }

    /// Runs `build` in a transaction on the current graph and, when the result breaks nothing
    /// (or `--force` is given), commits it as one history step. What the edit broke, and with
    /// `--force` what stays open, is reported by node and input. Returns the new step number.
    @discardableResult
    static func commit(_ session: inout Session, _ inv: Invocation, _ out: CommandOutput, origin: String = "edit",
                       command: String? = nil,
                       _ build: (inout Transaction, GraphEntry) throws -> String) throws -> Int {
        let entry = try session.currentGraph(for: inv.name)
        let force = inv.has("force")
        let firstID = entry.graph.nextNodeID.rawValue  // before the transaction allocates any
        var tx = Transaction(entry.model, origin: origin, allowDangling: force)
        let message: String
        do {
            message = try build(&tx, entry)
        } catch let e as GraphEditError {
            throw inv.error(.value, "\(inv.name): \(e)")
        } catch let e as EditError {
            throw inv.error(.value, "\(inv.name): \(e)")
        }
        guard !tx.applied.isEmpty else { throw inv.error(.value, "\(inv.name): nothing to change") }
        // Re-check only what the edit touched, from the current version's results.
        let checked = IncrementalCheck.check(tx.model, after: tx.effect, from: entry.current.checkBaseline)
        let version = GraphVersion(model: tx.model, origin: origin, checked: checked)
        let introduced = checked.introduced
        let broken = introduced.filter { $0.severity == .error }
        if !broken.isEmpty && !force {
            throw inv.error(.value, "\(inv.name) refused: it would break the graph (\(broken.count) problem\(broken.count == 1 ? "" : "s")):\n"
                + problemLines(broken) + "\nFix the edit, or give --force to keep the broken state (`check` then lists it).")
        }
        var step = 0
        let now = session.now
        session.graphs.modify(entry.name) { e in
            step = e.history.commit(version, counts: version.counts, origin: origin, command: command ?? inv.canonicalText,
                                    edits: tx.applied, time: now, firstNodeID: firstID)
        }
        let delta = version.counts
        let before = entry.current.counts
        out.print("\(message) — @\(step) (\(signed(delta.nodes - before.nodes)) nodes, \(signed(delta.edges - before.edges)) edges"
            + (delta.parameters != before.parameters ? ", \(signed(Int(delta.parameters - before.parameters))) parameters" : "") + ")")
        if !broken.isEmpty {
            out.print("Kept with --force; \(broken.count) problem\(broken.count == 1 ? "" : "s") open (`check` lists them, `undo` reverts):\n"
                + problemLines(broken))
        }
        for c in tx.annotationConflicts {
            out.print("Annotation conflict on \(c.node): its sources say \(c.key)=\(c.values.joined(separator: " and \(c.key)=")); "
                + "left unset (set it with `annotate \(c.node) \(c.key)=...`)")
        }
        let warnings = introduced.filter { $0.severity != .error }
        if !warnings.isEmpty {
            out.print("Note: \(warnings.count) value\(warnings.count == 1 ? "" : "s") can no longer be inferred:\n" + problemLines(warnings))
        }
        // Annotations change no structure: their table, not a drawing, shows them.
        if origin != "annotate" { EditRegionDrawing.show(&session, graph: entry.name, effect: tx.effect, out: out) }
        return step
    }

    static func problemLines(_ problems: [GraphProblem], limit: Int = 8) -> String {
        var lines = problems.prefix(limit).map { "  - " + $0.message
            + ($0.suggestions.isEmpty ? "" : "; did you mean \($0.suggestions.prefix(3).joined(separator: ", "))?") }
        if problems.count > limit { lines.append("  ... and \(problems.count - limit) more") }
        return lines.joined(separator: "\n")
    }

    static func signed(_ n: Int) -> String { n > 0 ? "+\(n)" : "\(n)" }
}
