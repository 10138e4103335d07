/// Overrides, as in TT-Explorer's compiler overrides: per node, a set of attribute values and
/// annotations that a user changed, kept in a JSON file and applied again to the same model
/// after a reload or re-export. Owns the override model, its JSON form, the diff of two
/// versions into overrides, finding each entry's node (stable id first, name as fallback) and
/// checking values against the op schema before anything is applied.
///
/// File format (`graphsmith-overrides`, version 1):
///
///     {"format": "graphsmith-overrides", "version": 1, "graph": "model",
///      "overrides": [{"node": "n12", "name": "conv1", "op": "Conv",
///                     "attributes": {"group": 2, "auto_pad": "SAME_UPPER", "old": null},
///                     "annotations": {"quantize": "int8", "note": null}}]}
///
/// `null` removes an attribute or annotation. An attribute value takes the kind of the
/// node's current attribute, else the op schema's kind, else (ops without a schema) the kind
/// its JSON spells: a whole number is an int, any other number a float.
import Foundation
import GraphIR
import GraphOps

/// One value of an override file, before it is typed for a node.
public enum OverrideValue: Sendable, Equatable {
    case int(Int64)
    case number(Double)
    case text(String)
    case list([OverrideValue])
    /// JSON `null`: remove the attribute or annotation.
    case remove

    /// The value as the file shows it (for messages).
    public var literal: String {
        switch self {
        case .int(let i): return String(i)
        case .number(let d): return String(d)
        case .text(let s): return "\"\(s)\""
        case .list(let items): return "[" + items.map(\.literal).joined(separator: ", ") + "]"
        case .remove: return "null"
        }
    }
}

/// The overrides of one node: how to find it and what to set.
public struct NodeOverride: Sendable, Equatable {
    /// The node's stable id when exported (`n12`); tried first.
    public var node: NodeID?
    /// The node's name; the fallback when the id names no node or another node.
    public var name: String
    /// The op type; a node found by id or name must have it (empty: not checked).
    public var opType: String
    /// Attribute values by name (`.remove`: remove it).
    public var attributes: [String: OverrideValue]
    /// Annotation values by key (nil: remove it).
    public var annotations: [String: String?]

    public init(node: NodeID?, name: String, opType: String, attributes: [String: OverrideValue] = [:],
                annotations: [String: String?] = [:]) {
        self.node = node
        self.name = name
        self.opType = opType
        self.attributes = attributes
        self.annotations = annotations
    }

    /// `n12 'conv1' (Conv)`, for messages.
    public var label: String {
        var parts: [String] = []
        if let node { parts.append(node.description) }
        if !name.isEmpty { parts.append("'\(name)'") }
        if !opType.isEmpty { parts.append("(\(opType))") }
        return parts.isEmpty ? "an entry without node, name or op" : parts.joined(separator: " ")
    }
}

/// Why an override file was refused: one line per problem, each naming the entry, node and
/// attribute.
public struct OverrideError: Error, Sendable, CustomStringConvertible, Equatable {
    public var problems: [String]
    public init(_ problems: [String]) { self.problems = problems }
    public init(_ problem: String) { self.problems = [problem] }
    public var description: String {
        var lines = problems.prefix(12).map { "  - " + $0 }
        if problems.count > 12 { lines.append("  ... and \(problems.count - 12) more") }
        return lines.joined(separator: "\n")
    }
}

/// A set of overrides (the content of one file).
public struct Overrides: Sendable, Equatable {
    public static let format = "graphsmith-overrides"
    public static let version = 1

    /// The graph the overrides were exported from (informational).
    public var graph: String
    /// One entry per node, in graph order.
    public var nodes: [NodeOverride]

    public init(graph: String, nodes: [NodeOverride]) {
        self.graph = graph
        self.nodes = nodes
    }

    /// Number of attribute and annotation values over all entries.
    public var valueCount: Int { nodes.reduce(0) { $0 + $1.attributes.count + $1.annotations.count } }
}

// MARK: - Diff

/// What `Overrides.diff` found besides the overrides: changes an override cannot carry.
public struct OverrideDiff: Sendable, Equatable {
    public var overrides: Overrides
    /// Nodes added or removed since the base version (`history export` replays those).
    public var addedNodes: Int
    public var removedNodes: Int
    /// `n12.value (tensor)`: changed attributes of kinds an override does not carry.
    public var notCarried: [String]
}

extension Overrides {
    /// The attribute and annotation values of `current` that differ from `base`, per node
    /// present in both (matched by stable id, If/Loop/Scan bodies included), in `current`'s
    /// node order. Attributes whose value is a tensor or graph are listed in `notCarried`.
    public static func diff(from base: Model, to current: Model, graph name: String) -> OverrideDiff {
        var before: [NodeID: Node] = [:]
        for (_, n) in base.graph.allNodes() where before[n.id] == nil { before[n.id] = n }
        var entries: [NodeOverride] = []
        var notCarried: [String] = []
        var seen = Set<NodeID>()
        var added = 0
        for (_, n) in current.graph.allNodes() {
            seen.insert(n.id)
            guard let old = before[n.id] else { added += 1; continue }
            var entry = NodeOverride(node: n.id, name: n.name, opType: n.opType)
            var names = n.attributes.map(\.name)
            for a in old.attributes where n.attribute(a.name) == nil { names.append(a.name) }
            for a in names {
                let now = n.attribute(a), was = old.attribute(a)
                guard now != was else { continue }
                guard let now else { entry.attributes[a] = .remove; continue }
                if let v = OverrideValue(now) { entry.attributes[a] = v } else { notCarried.append("\(n.id).\(a) (\(now.kindName))") }
            }
            for k in Set(n.annotations.keys).union(old.annotations.keys) where n.annotations[k] != old.annotations[k] {
                entry.annotations[k] = .some(n.annotations[k])
            }
            if !entry.attributes.isEmpty || !entry.annotations.isEmpty { entries.append(entry) }
        }
        let removed = before.keys.filter { !seen.contains($0) }.count
        return OverrideDiff(overrides: Overrides(graph: name, nodes: entries), addedNodes: added, removedNodes: removed,
                            notCarried: notCarried)
    }
}

extension OverrideValue {
    /// The override form of an attribute value; nil for kinds overrides do not carry.
    public init?(_ value: AttributeValue) {
        switch value {
        case .int(let i): self = .int(i)
        case .float(let f): self = .number(Double(f).overrideRounded(f))
        case .string: self = .text(value.stringValue ?? "")
        case .ints(let v): self = .list(v.map { .int($0) })
        case .floats(let v): self = .list(v.map { .number(Double($0).overrideRounded($0)) })
        case .strings(let v): self = .list(v.map { .text(String(decoding: $0, as: UTF8.self)) })
        default: return nil
        }
    }
}

extension Double {
    /// The shortest decimal that reads back as `f` (0.1, not 0.10000000149011612), so files
    /// stay readable and a float goes through JSON unchanged.
    func overrideRounded(_ f: Float) -> Double {
        guard f.isFinite, let d = Double(String(f)) else { return self }
        return d
    }
}

extension AttributeValue {
    /// The ONNX kind name (`int`, `floats`, `tensor`), for messages.
    var kindName: String {
        switch self {
        case .float: return "float"
        case .int: return "int"
        case .string: return "string"
        case .tensor: return "tensor"
        case .graph: return "graph"
        case .sparseTensor: return "sparse_tensor"
        case .typeProto: return "type_proto"
        case .floats: return "floats"
        case .ints: return "ints"
        case .strings: return "strings"
        case .tensors: return "tensors"
        case .graphs: return "graphs"
        case .sparseTensors: return "sparse_tensors"
        case .typeProtos: return "type_protos"
        }
    }
}
