/// Turning an override file into edits for one model: each entry's node is found by stable id
/// (when the id names a node of the recorded op and name) or else by its unique name, every
/// value is typed and checked against the op schema (attribute known, kind right, value
/// legal, required attributes kept), and values that already hold are skipped. Every problem
/// is collected, so one refusal lists them all; nothing is applied unless all entries pass.
import GraphIR
import GraphOps

/// The edits an override file makes on one model.
public struct OverridePlan: Sendable, Equatable {
    /// The edits, one per changed attribute or annotation, in entry order.
    public var edits: [ScopedEdit]
    /// Nodes that get at least one edit.
    public var changedNodes: Int
    /// Entries whose every value already holds.
    public var unchanged: Int
    /// `n12 'conv1' (Conv) → n40`: entries found by name because their id no longer fits.
    public var matchedByName: [String]
}

extension Overrides {
    /// The edits that make every override hold in `model`; throws `OverrideError` listing
    /// each entry that names no node (or several) and each value the op schema refuses.
    public func plan(for model: Model) throws -> OverridePlan {
        let catalog = NodeCatalog(model.graph)
        var byID: [NodeID: Int] = [:]
        var byName: [String: [Int]] = [:]
        for (i, e) in catalog.entries.enumerated() {
            if byID[e.id] == nil { byID[e.id] = i }
            if !e.name.isEmpty { byName[e.name, default: []].append(i) }
        }
        var plan = OverridePlan(edits: [], changedNodes: 0, unchanged: 0, matchedByName: [])
        var problems: [String] = []
        for (k, entry) in nodes.enumerated() {
            let at = "override \(k + 1) (\(entry.label))"
            let found: Int
            switch locate(entry, catalog, byID, byName) {
            case .found(let i, let byNameNote):
                found = i
                if byNameNote { plan.matchedByName.append("\(entry.label) → \(catalog.entries[i].id)") }
            case .problem(let p):
                problems.append("\(at): \(p)")
                continue
            }
            guard let node = catalog.node(found) else { problems.append("\(at): its node is gone"); continue }
            let scope = catalog.entries[found].body.map { catalog.bodies[$0].steps } ?? []
            let schema = Overrides.schema(of: node, in: model)
            let where_ = "override \(k + 1): node \(node.id) '\(node.displayName)' (\(node.opType))"
            var edits: [ScopedEdit] = []
            for name in entry.attributes.keys.sorted() {
                guard let value = entry.attributes[name] else { continue }
                switch Overrides.typed(name, value, node: node, schema: schema) {
                case .problem(let p): problems.append("\(where_): \(p)")
                case .value(let v):
                    if !Overrides.holds(node.attribute(name), v) { edits.append(ScopedEdit(.setAttribute(node: node.id, name: name, value: v), in: scope)) }
                }
            }
            for key in entry.annotations.keys.sorted() {
                guard let value = entry.annotations[key] else { continue }
                if key.isEmpty { problems.append("\(where_): an annotation key is empty"); continue }
                if node.annotations[key] != value { edits.append(ScopedEdit(.annotate(node.id, key: key, value: value), in: scope)) }
            }
            if edits.isEmpty { plan.unchanged += 1 } else { plan.changedNodes += 1 }
            plan.edits += edits
        }
        if !problems.isEmpty { throw OverrideError(problems) }
        return plan
    }

    enum Located {
        case found(Int, byName: Bool)
        case problem(String)
    }

    /// The catalog index of the node `entry` means: its id when that node has the recorded
    /// op and name, else the one node of that name (and op).
    func locate(_ entry: NodeOverride, _ catalog: NodeCatalog, _ byID: [NodeID: Int], _ byName: [String: [Int]]) -> Located {
        func fits(_ i: Int) -> Bool {
            let e = catalog.entries[i]
            return (entry.opType.isEmpty || e.opType == entry.opType) && (entry.name.isEmpty || e.name == entry.name)
        }
        var idNote = ""
        if let id = entry.node {
            if let i = byID[id] {
                if fits(i) { return .found(i, byName: false) }
                let e = catalog.entries[i]
                idNote = "; \(id) is now \(e.name.isEmpty ? "an unnamed node" : "'\(e.name)'") (\(e.opType))"
            } else {
                idNote = "; there is no node \(id)"
            }
        }
        guard !entry.name.isEmpty else {
            return .problem(entry.node == nil ? "gives neither a node id nor a name" : "no node fits\(idNote), and the entry has no name to fall back on")
        }
        let hits = (byName[entry.name] ?? []).filter(fits)
        if hits.count == 1 { return .found(hits[0], byName: entry.node != nil) }
        if hits.count > 1 {
            return .problem("\(hits.count) nodes are named '\(entry.name)' (\(hits.map { catalog.entries[$0].id.description }.joined(separator: ", "))); "
                + "give the id of one")
        }
        let near = closestNames(to: entry.name, among: Array(byName.keys))
        return .problem("no node named '\(entry.name)'\(entry.opType.isEmpty ? "" : " of op \(entry.opType)")\(idNote)"
            + (near.isEmpty ? "" : "; did you mean " + near.map { "'\($0)'" }.joined(separator: ", ") + "?"))
    }

    /// The schema of a node's op at the model's opset.
    static func schema(of node: Node, in model: Model) -> OpSchema? {
        let domain = node.domain == "ai.onnx" ? "" : node.domain
        let version = model.opsetVersion(for: domain) ?? (domain.isEmpty ? 21 : 1)
        return OpRegistry.builtIn.schema(domain: domain, opType: node.opType, opsetVersion: Int(version))
    }

    enum Typed {
        case value(AttributeValue?)
        case problem(String)
    }

    /// `value` as an attribute of `node`, typed by the node's current attribute, else the
    /// schema, else the JSON; refused when the schema does not know the attribute, the kind
    /// does not fit, the value is not legal, or a required attribute would be removed.
    static func typed(_ name: String, _ value: OverrideValue, node: Node, schema: OpSchema?) -> Typed {
        let spec = schema?.attribute(name)
        let current = node.attribute(name)
        if let schema, spec == nil, current == nil {
            let names = schema.attributes.map(\.name)
            let near = closestNames(to: name, among: names)
            return .problem("\(node.opType) has no attribute '\(name)'"
                + (near.isEmpty ? (names.isEmpty ? "; it takes no attributes" : "; its attributes: \(names.joined(separator: ", "))")
                   : "; did you mean " + near.map { "'\($0)'" }.joined(separator: ", ") + "?"))
        }
        if value == .remove {
            if spec?.isRequired == true { return .problem("attribute '\(name)' is required by \(node.opType) and cannot be removed") }
            return .value(nil)
        }
        let kind = current.flatMap { AttributeKind(rawValue: $0.kindName) } ?? spec?.kind
        guard let v = attributeValue(value, kind: kind) else {
            let expected = kind.map { "\(article($0)) \($0.rawValue)" } ?? "an int, float, string or a non-empty list of one of them"
            if let kind, ![.int, .float, .string, .ints, .floats, .strings].contains(kind) {
                return .problem("attribute '\(name)' is \(expected); overrides carry ints, floats, strings and lists of them")
            }
            return .problem("attribute '\(name)' is \(expected); got \(value.literal)")
        }
        if let legal = spec?.legalValues {
            let text: String? = v.stringValue ?? v.intValue.map { String($0) }
            if let text, !legal.contains(text) {
                return .problem("\(name)=\(value.literal) is not legal; \(node.opType)'s \(name) takes \(legal.joined(separator: ", "))")
            }
        }
        return .value(v)
    }

    /// Whether an attribute already has the value (any NaN matches any NaN, which JSON
    /// writes as "NaN"), so a file applied again finds nothing to change.
    static func holds(_ current: AttributeValue?, _ value: AttributeValue?) -> Bool {
        func same(_ a: Float, _ b: Float) -> Bool { a == b || (a.isNaN && b.isNaN) }
        switch (current, value) {
        case (.float(let a)?, .float(let b)?): return same(a, b)
        case (.floats(let a)?, .floats(let b)?): return a.count == b.count && zip(a, b).allSatisfy(same)
        default: return current == value
        }
    }

    static func article(_ kind: AttributeKind) -> String { kind.rawValue.first.map { "aeiou".contains($0) } == true ? "an" : "a" }

    /// The attribute value `value` spells for `kind` (nil kind: the kind the JSON shows).
    static func attributeValue(_ value: OverrideValue, kind: AttributeKind?) -> AttributeValue? {
        func int(_ v: OverrideValue) -> Int64? {
            switch v {
            case .int(let i): return i
            case .number(let d): return d.rounded() == d && abs(d) < 9.0e15 ? Int64(d) : nil
            case .text("true"): return 1
            case .text("false"): return 0
            default: return nil
            }
        }
        func float(_ v: OverrideValue) -> Float? {
            switch v {
            case .int(let i): return Float(i)
            case .number(let d): return Float(d)
            case .text("NaN"): return .nan
            case .text("Infinity"): return .infinity
            case .text("-Infinity"): return -.infinity
            default: return nil
            }
        }
        func text(_ v: OverrideValue) -> [UInt8]? { if case .text(let s) = v { return Array(s.utf8) }; return nil }
        func all<T>(_ f: (OverrideValue) -> T?) -> [T]? {
            guard case .list(let items) = value else { return nil }
            let out = items.compactMap(f)
            return out.count == items.count ? out : nil
        }
        switch kind {
        case .int?: return int(value).map { .int($0) }
        case .float?: return float(value).map { .float($0) }
        case .string?: return text(value).map { .string($0) }
        case .ints?: return all(int).map { .ints($0) }
        case .floats?: return all(float).map { .floats($0) }
        case .strings?: return all(text).map { .strings($0) }
        case nil:
            switch value {
            case .int(let i): return .int(i)
            case .number(let d): return .float(Float(d))
            case .text(let s): return .string(Array(s.utf8))
            case .list(let items) where items.isEmpty: return nil
            case .list(let items) where items.allSatisfy({ if case .int = $0 { return true }; return false }): return all(int).map { .ints($0) }
            case .list: return all(float).map { .floats($0) } ?? all(text).map { .strings($0) }
            case .remove: return nil
            }
        default: return nil
        }
    }
}
