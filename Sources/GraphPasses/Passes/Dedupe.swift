/// Duplicate constants and common subexpressions merged. Constants (initializers that are no
/// graph input, and Constant nodes) with the same element type, dims and bytes become one: the
/// first in graph order (initializers first) stays, readers of the others read it. Then nodes
/// with the same op, domain, attributes and inputs (after that merge) compute the same thing:
/// the later one's readers read the earlier one's outputs. Graph outputs keep their names;
/// random ops and nodes with subgraphs or tensor attributes are never merged.
import Foundation  // memcmp
import GraphEditing
import GraphIR

public struct Dedupe: Pass {
    public init() {}
    public let name = "dedupe"
    public let doc = "Merge identical constants (dtype, shape, bytes) and common subexpressions (op, attributes, inputs)"

    public func run(_ ctx: inout PassContext) throws -> Bool {
        var changed = try mergeConstants(&ctx)
        if try mergeNodes(&ctx) { changed = true }
        return changed
    }

    /// Type, dims and a sample of the bytes: tensors with different keys differ; tensors with
    /// one key are compared byte for byte (so large weights are not copied or hashed whole).
    struct ConstantKey: Hashable {
        var type: ElementType
        var dims: [Int64]
        var sample: [UInt8]

        init?(_ t: Tensor) {
            guard t.elementType != .string, let sample = try? t.withUnsafeBytes({ b -> [UInt8] in
                let n = b.count, step = max(1, n / 64)
                return stride(from: 0, to: n, by: step).prefix(64).map { b[$0] } + (n > 0 ? [b[n - 1]] : [])
            }) else { return nil }
            type = t.elementType
            dims = t.dims
            self.sample = sample
        }
    }

    /// The first constant of `candidates` with exactly `t`'s bytes.
    static func same(_ t: Tensor, among candidates: [(name: String, tensor: Tensor)]) -> String? {
        for c in candidates {
            let equal = (try? t.withUnsafeBytes { a in
                try c.tensor.withUnsafeBytes { b in
                    guard a.count == b.count else { return false }
                    guard let pa = a.baseAddress, let pb = b.baseAddress else { return a.count == 0 }
                    // One buffer behind both (constants folded from identical nodes): equal unread.
                    return pa == pb || memcmp(pa, pb, a.count) == 0
                }
            }) ?? false
            if equal { return c.name }
        }
        return nil
    }

    func mergeConstants(_ ctx: inout PassContext) throws -> Bool {
        // Decide on a snapshot, then edit: a Graph held across edits would make each edit copy it.
        let (initializers, constantNodes) = Self.duplicates(ctx)
        var changed = false
        let legacy = ctx.model.irVersion < 4
        var inputs: [String] = []
        for (name, keep) in initializers {
            try ctx.tx.apply(.replaceUses(of: name, with: keep))
            // The input first: the initializer then goes as an unused, undeclared one (both
            // edits stay incremental).
            if legacy, case .graphInput = ctx.graph.producer(of: name) { inputs.append(name) }
            changed = true
        }
        try ctx.tx.apply(removingInputs: inputs)
        // In one batch: one pass over the initializer list.
        try ctx.tx.apply(removingInitializers: initializers.map(\.0))
        // Rewire every duplicate, then remove them in one batch (one pass over the node list).
        var gone: [NodeID] = []
        for (node, keep) in constantNodes {
            guard let n = ctx.graph.node(node), let out = n.outputs.first else { continue }
            try ctx.tx.apply(.replaceUses(of: out, with: keep))
            gone.append(node)
            ctx.record(removed: [n], created: [])
            changed = true
        }
        try ctx.tx.apply(removingNodes: gone)
        return changed
    }

    /// The duplicate initializers and Constant nodes, each with the constant that stays.
    static func duplicates(_ ctx: PassContext) -> (initializers: [(String, String)], nodes: [(NodeID, String)]) {
        let g = ctx.graph
        // Under IR version 3 and older every initializer is also an input and still a constant.
        let inputs = ctx.model.irVersion < 4 ? [] : Set(g.inputs.map(\.name))
        var first: [ConstantKey: [(name: String, tensor: Tensor)]] = [:]
        var initializers: [(String, String)] = []
        var nodes: [(NodeID, String)] = []
        for t in g.initializers where !inputs.contains(t.name) {
            guard let key = ConstantKey(t) else { continue }
            if let keep = same(t, among: first[key] ?? []) {
                if !ctx.isGraphOutput(t.name) && !g.outerScopeReferences.contains(t.name) && g.uses(of: t.name).allSatisfy({ ctx.inScope($0.node) }) {
                    initializers.append((t.name, keep))
                }
            } else {
                first[key, default: []].append((t.name, t))
            }
        }
        for n in g.nodes where n.opType == "Constant" && (n.domain.isEmpty || n.domain == "ai.onnx") {
            guard let out = n.outputs.first, let t = ConstantValues.tensor(of: n), let key = ConstantKey(t) else { continue }
            guard let keep = same(t, among: first[key] ?? []) else { first[key, default: []].append((out, t)); continue }
            if ctx.mayRemove(n.id) && !ctx.isGraphOutput(out) && !g.outerScopeReferences.contains(out) { nodes.append((n.id, keep)) }
        }
        return (initializers, nodes)
    }

    func mergeNodes(_ ctx: inout PassContext) throws -> Bool {
        var seen: [String: NodeID] = [:]
        var changed = false
        var gone: [NodeID] = []
        for id in ctx.graph.nodes.map(\.id) {
            guard let n = ctx.graph.node(id), let key = Self.signature(n) else { continue }
            guard let keepID = seen[key], let keep = ctx.graph.node(keepID) else { seen[key] = id; continue }
            guard ctx.mayRemove(id), keep.outputs.count == n.outputs.count,
                  !n.outputs.contains(where: { ctx.isGraphOutput($0) || ctx.graph.outerScopeReferences.contains($0) }) else { continue }
            for (o, k) in zip(n.outputs, keep.outputs) where !o.isEmpty {
                guard !k.isEmpty else { continue }
                try ctx.tx.apply(.replaceUses(of: o, with: k))
            }
            // An output the kept node leaves empty may still be read: then the node stays.
            if n.outputs.allSatisfy({ $0.isEmpty || ctx.graph.useCount(of: $0) == 0 }) {
                gone.append(id)
                ctx.record(removed: [n], created: [])
            }
            changed = true
        }
        // Removed together at the end (nothing reads them any more; one pass over the node list).
        try ctx.tx.apply(removingNodes: gone)
        return changed
    }

    /// What makes two nodes compute the same value: op, domain, attributes and inputs. Nil for
    /// nodes that must never merge (random, with subgraphs or tensor attributes, Constant).
    static func signature(_ n: Node) -> String? {
        guard !n.hasSubgraphs, !FoldConstants.nondeterministic.contains(n.opType), n.opType != "Constant",
              !n.inputs.isEmpty, !n.outputs.isEmpty else { return nil }
        var parts = [n.domain, n.opType, n.inputs.array.joined(separator: "\u{1}")]
        for a in n.attributes.sorted(by: { $0.name < $1.name }) {
            switch a.value {
            case .float, .int, .string, .floats, .ints, .strings: parts.append(a.name + "=" + a.value.displayString)
            default: return nil
            }
        }
        return parts.joined(separator: "\u{2}")
    }
}
