/// The pattern rewriter: patterns with a root op and a benefit match a small subgraph from its
/// root and rewrite it through the transaction. Matching records what it matched and, when it
/// stops, the condition that failed and the node it failed on (a near miss `explain=true` and
/// `why NODE` show). Rewriting checks the annotations (`fuse=false`, `keep=true`), the scope,
/// and that no removed value is read outside the match, and gives every new node provenance:
/// the original nodes it stands for (flattened through earlier passes) and the pass name.
import GraphEditing
import GraphIR
import GraphOps

/// One rewrite pattern. `matchAndRewrite` matches first (reading only) and rewrites at the
/// end with `PatternRewriter.replace`; it returns false, after `fail`, when the match fails.
public protocol RewritePattern: Sendable {
    var name: String { get }
    /// Op types (default domain unless `rootDomain`) a match may start from.
    var rootOps: Set<String> { get }
    var rootDomain: String { get }
    /// Patterns of higher benefit are tried first on the same root.
    var benefit: Int { get }
    func matchAndRewrite(_ root: Node, _ r: inout PatternRewriter) throws -> Bool
}

extension RewritePattern {
    public var rootDomain: String { "" }
    public var benefit: Int { 1 }
}

/// Matching state and rewriting helpers for one candidate root.
public struct PatternRewriter {
    public var context: PassContext
    public let pattern: String
    public let root: NodeID
    /// Nodes matched so far, in match order.
    public private(set) var matched: [NodeID] = []
    public private(set) var failure: (condition: String, node: NodeID?)?

    init(context: PassContext, pattern: String, root: NodeID) {
        self.context = context
        self.pattern = pattern
        self.root = root
    }

    /// Runs `body` with a rewriter that owns `context` while it runs (moved in, moved back out,
    /// also when `body` throws), so the rewriter's edits find the graph uniquely referenced and
    /// edit it in place: a copy would make each rewrite cost the whole graph, and a pass over a
    /// 10k-node model quadratic. Returns what `body` returned and the failure it recorded.
    static func with(_ context: inout PassContext, pattern: String, root: NodeID,
                     _ body: (inout PatternRewriter) throws -> Bool) throws -> (applied: Bool, failure: (condition: String, node: NodeID?)?, matched: [NodeID]) {
        var r = PatternRewriter(context: consume context, pattern: pattern, root: root)
        let applied: Bool
        do { applied = try body(&r) } catch {
            context = r.context
            throw error
        }
        context = r.context
        return (applied, r.failure, r.matched)
    }

    public var graph: Graph { context.graph }

    /// Adds `node` to the match.
    public mutating func take(_ node: Node) { if !matched.contains(node.id) { matched.append(node.id) } }

    /// Records why the match stopped; returns false for `return r.fail(...)`.
    @discardableResult
    public mutating func fail(_ condition: String, at node: NodeID? = nil) -> Bool {
        failure = (condition, node)
        return false
    }

    /// The node producing `value` when it is `op` (any of `ops`); records the failure otherwise.
    public mutating func producer(of value: String, _ ops: Set<String>, from node: NodeID?) -> Node? {
        guard let p = graph.producerNode(of: value) else {
            fail("'\(value)' is not made by a node (expected \(ops.sorted().joined(separator: "|")))", at: node)
            return nil
        }
        guard ops.contains(p.opType), p.domain.isEmpty || p.domain == "ai.onnx" else {
            fail("'\(value)' is made by \(p.opType), expected \(ops.sorted().joined(separator: "|"))", at: p.id)
            return nil
        }
        return p
    }

    /// The single consumer of `value` when it is `op` (any of `ops`); records the failure otherwise.
    public mutating func consumer(of value: String, _ ops: Set<String>, from node: NodeID) -> Node? {
        let uses = graph.uses(of: value)
        guard uses.count == 1, !context.isGraphOutput(value), let c = graph.node(uses[0].node) else {
            fail(uses.isEmpty ? "'\(value)' has no consumer" : "'\(value)' has a second consumer or is a graph output", at: node)
            return nil
        }
        guard ops.contains(c.opType), c.domain.isEmpty || c.domain == "ai.onnx" else {
            fail("'\(value)' is read by \(c.opType), expected \(ops.sorted().joined(separator: "|"))", at: c.id)
            return nil
        }
        return c
    }

    /// For a binary op `n` with one input `value`, the other input.
    public func other(_ n: Node, than value: String) -> String? {
        guard n.inputs.count == 2 else { return nil }
        if n.inputs[0] == value { return n.inputs[1] }
        if n.inputs[1] == value { return n.inputs[0] }
        return nil
    }

    /// A constant scalar input, or a failure naming the node.
    public mutating func scalar(_ value: String, of node: Node, _ what: String) -> Double? {
        guard let s = context.scalar(value) else {
            fail("\(what) of \(node.opType) is not a constant scalar", at: node.id)
            return nil
        }
        return s
    }

    /// Checks the match condition `ok`, recording `condition` when it fails.
    public mutating func require(_ ok: Bool, _ condition: @autoclosure () -> String, at node: NodeID?) -> Bool {
        if !ok { fail(condition(), at: node) }
        return ok
    }

    /// An initializer with a fresh name (added when `replace` runs).
    public mutating func initializer(_ base: String, _ tensor: Tensor) -> String {
        var t = tensor
        t.name = freshValue(base)
        pendingInitializers.append(t)
        return t.name
    }

    /// A fresh value name no graph value and no name handed out in this match uses.
    public mutating func freshValue(_ base: String) -> String {
        var name = context.tx.freshValueName(base)
        var k = 1
        while reserved.contains(name) { name = context.tx.freshValueName("\(base)_\(k)"); k += 1 }
        reserved.insert(name)
        return name
    }

    private var pendingInitializers: [Tensor] = []
    private var reserved: Set<String> = []

    /// Needs the default-domain opset to be at least `version` (raising it when the ops in the
    /// model allow, as `OpsetUpgrade` decides); records the failure otherwise.
    public mutating func requireOpset(_ version: Int64, for op: String) -> Bool {
        if context.onnxOpset >= version { return true }
        if let reason = OpsetUpgrade.obstacle(context.model, to: version, inference: context.inference) {
            return fail("\(op) needs opset \(version); the model imports \(context.onnxOpset) and cannot be raised: \(reason)", at: root)
        }
        needsOpset = max(needsOpset ?? 0, version)
        return true
    }

    private var needsOpset: Int64?

    /// Replaces the nodes `removing` with `adding` (in order; their outputs may reuse the names
    /// of removed outputs, so consumers and graph outputs keep reading the same names). Checks
    /// annotations, scope and outside readers first; returns false (a near miss) when they forbid it.
    public mutating func replace(_ removing: [NodeID], with adding: [NewNode]) throws -> Bool {
        let gone = Set(removing)
        var removedNodes: [Node] = []
        let order: [Node]
        let scope: [String]?
        let inherited: (values: [String: String], conflicts: [String: [String]])
        do {
            // Read the graph in this block only: a Graph value alive across the edits below
            // would make the first edit copy the whole graph.
            let g = graph
            for id in removing {
                guard let n = g.node(id) else { return fail("node \(id) is gone", at: id) }
                if n.annotations["fuse"] == "false" { return fail("annotation fuse=false", at: id) }
                if n.annotations["keep"] == "true" { return fail("annotation keep=true", at: id) }
                if !context.inScope(id) { return fail("outside scope=\(context.options.scope?.joined(separator: "/") ?? "")", at: id) }
                removedNodes.append(n)
            }
            let remade = Set(adding.flatMap(\.outputs))
            for n in removedNodes {
                for o in n.outputs where !o.isEmpty && !remade.contains(o) {
                    if context.isGraphOutput(o) { return fail("'\(o)' is a graph output", at: n.id) }
                    if let u = g.uses(of: o).first(where: { !gone.contains($0.node) }) {
                        return fail("'\(o)' has a second consumer (\(u.node))", at: n.id)
                    }
                }
            }
            order = removedNodes.sorted { (g.position(of: $0.id) ?? 0) > (g.position(of: $1.id) ?? 0) }
            // Sources first: the new node sits in their common scope and inherits their annotations
            // (read from the nodes being replaced, while they are still in the graph: their own
            // provenance may name nodes an earlier pass already removed).
            scope = commonScope(removing, in: g)
            inherited = inheritedAnnotations(removing, in: g)
        }
        // Provenance: the original nodes, through any earlier pass.
        var sources: [NodeID] = []
        var seen = Set<NodeID>()
        for n in removedNodes {
            for s in (n.provenance.sources.isEmpty ? [n.id] : n.provenance.sources) where seen.insert(s).inserted { sources.append(s) }
        }
        if let v = needsOpset { try OpsetUpgrade.raise(&context.tx, to: v, inference: context.inference) }
        for t in pendingInitializers {
            try context.tx.apply(.setInitializer(t))
            // IR version 3 and older list every initializer as a graph input.
            if context.model.irVersion < 4 { try context.tx.apply(.addInput(name: t.name, type: t.valueType)) }
        }
        let dangling = context.tx.allowDangling
        context.tx.allowDangling = true
        defer { context.tx.allowDangling = dangling }
        var created: [NodeID] = []
        var pending = adding
        for k in pending.indices {
            pending[k].sources = sources
            if pending[k].hierarchyPath == nil { pending[k].hierarchyPath = scope }
            for (key, v) in inherited.values where pending[k].annotations[key] == nil { pending[k].annotations[key] = v }
        }
        try context.tx.apply(removingNodes: order.map(\.id))
        for spec in pending {
            if let id = try context.tx.apply(.addNode(spec)).addedNodes.first {
                created.append(id)
                context.tx.recordAnnotationConflicts(inherited.conflicts, on: id)
            }
        }
        context.record(removed: removedNodes, created: created)
        return true
    }
}

/// A pass made of patterns: every node, in graph order, is tried as the root of each pattern
/// (higher benefit first) until one applies.
public struct PatternPass: Pass {
    public let name: String
    public let doc: String
    public let patterns: [any RewritePattern]

    public init(name: String, doc: String, patterns: [any RewritePattern]) {
        self.name = name
        self.doc = doc
        self.patterns = patterns.sorted { $0.benefit > $1.benefit }
    }

    public func run(_ context: inout PassContext) throws -> Bool {
        var changed = false
        let ids = context.graph.nodes.map(\.id)
        var byOp: [String: [any RewritePattern]] = [:]
        for p in patterns { for op in p.rootOps { byOp[op, default: []].append(p) } }
        for id in ids {
            guard let node = context.graph.node(id), let candidates = byOp[node.opType] else { continue }
            for p in candidates where OpRegistry.normalize(domain: node.domain) == p.rootDomain {
                let result = try PatternRewriter.with(&context, pattern: p.name, root: id) { r in
                    r.take(node)
                    return try p.matchAndRewrite(node, &r)
                }
                if result.applied {
                    changed = true
                    break
                }
                // Nothing edited (a failed match never calls replace's edits); keep the near miss.
                if let f = result.failure {
                    context.nearMiss(pattern: p.name, root: id, condition: f.condition, at: f.node, matched: result.matched)
                }
            }
        }
        return changed
    }
}
