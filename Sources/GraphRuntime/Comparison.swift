/// Comparing two runs of related graphs (two versions of one graph, or a graph and a rewrite
/// of it): the per-tensor metrics (max absolute and relative difference, cosine similarity,
/// Pearson correlation, pass/fail against a tolerance), the matching of A's values to B's
/// (same value name; else the same node id, which edits keep; else B's node whose provenance
/// lists A's node, as passes and fusions stamp it), and the first diverging node: the earliest
/// node of A in topological order whose output fails the tolerance while every input it read
/// passes it.
import GraphIR

/// When two tensors count as equal: |a - b| <= atol + rtol * |a| for every element (numpy's
/// `allclose` with A as the reference); NaN equals NaN at the same position.
public struct Tolerance: Sendable, Equatable {
    public var atol: Double
    public var rtol: Double
    public init(atol: Double = 1e-4, rtol: Double = 1e-3) {
        self.atol = atol
        self.rtol = rtol
    }
}

/// How far B's tensor is from A's.
public struct TensorDiff: Sendable, Equatable {
    public var shapeA: [Int]
    public var shapeB: [Int]
    /// Largest |a - b| (infinity where one side is NaN and the other is not).
    public var maxAbs: Double
    /// Largest |a - b| / max(|a|, |b|) (0 where both are 0): a symmetric relative difference.
    public var maxRel: Double
    /// Mean |a - b|.
    public var meanAbs: Double
    /// a·b / (|a| |b|); 1 when both are all zeros, nil when only one is.
    public var cosine: Double?
    /// Pearson correlation; nil when either side is constant (then `maxAbs` says all).
    public var pcc: Double?
    /// Elements outside the tolerance.
    public var failing: Int
    public var count: Int

    public var sameShape: Bool { shapeA == shapeB }
    /// Whether B matches A within the tolerance it was measured with.
    public var passes: Bool { sameShape && failing == 0 }

    /// Compares `b` against the reference `a`.
    public init(_ a: RuntimeTensor, _ b: RuntimeTensor, tolerance: Tolerance) {
        shapeA = a.shape
        shapeB = b.shape
        count = a.count
        guard a.shape == b.shape else {
            maxAbs = .infinity; maxRel = .infinity; meanAbs = .infinity; cosine = nil; pcc = nil
            failing = max(a.count, b.count)
            return
        }
        var maxAbs = 0.0, maxRel = 0.0, sumAbs = 0.0, failing = 0
        var dot = 0.0, na = 0.0, nb = 0.0, sa = 0.0, sb = 0.0, saa = 0.0, sbb = 0.0, sab = 0.0
        var finite = 0
        for i in 0..<a.count {
            let x = a.double(at: i), y = b.double(at: i)
            if x.isNaN || y.isNaN {
                if !(x.isNaN && y.isNaN) { maxAbs = .infinity; maxRel = .infinity; failing += 1 }
                continue
            }
            if x == y { finite += x.isFinite ? 1 : 0 } else {
                let d = abs(x - y)
                maxAbs = max(maxAbs, d)
                sumAbs += d.isFinite ? d : 0
                let m = max(abs(x), abs(y))
                maxRel = max(maxRel, m > 0 ? d / m : 0)
                if !(d <= tolerance.atol + tolerance.rtol * abs(x)) { failing += 1 }
                finite += x.isFinite && y.isFinite ? 1 : 0
            }
            guard x.isFinite && y.isFinite else { continue }
            dot += x * y; na += x * x; nb += y * y
            sa += x; sb += y; saa += x * x; sbb += y * y; sab += x * y
        }
        self.maxAbs = maxAbs
        self.maxRel = maxRel
        self.failing = failing
        meanAbs = a.count > 0 ? sumAbs / Double(a.count) : 0
        if na == 0 && nb == 0 { cosine = 1 } else if na == 0 || nb == 0 { cosine = nil } else {
            cosine = dot / (na.squareRoot() * nb.squareRoot())
        }
        let n = Double(finite)
        let va = saa - sa * sa / max(n, 1), vb = sbb - sb * sb / max(n, 1)
        if n < 2 || va <= 1e-30 * max(saa, 1e-300) || vb <= 1e-30 * max(sbb, 1e-300) { pcc = nil } else {
            pcc = min(1, max(-1, (sab - sa * sb / n) / (va.squareRoot() * vb.squareRoot())))
        }
    }
}

/// How a value of A was found in B.
public enum MatchKind: String, Sendable {
    /// B has a value of the same name.
    case name
    /// B's node with the same id (edits keep ids) has the same output position.
    case node
    /// B's node lists A's node among its provenance sources (a pass's fusion or rewrite).
    case provenance
}

/// One value of A and the value of B it is compared with.
public struct ValueMatch: Sendable, Equatable {
    public var aNode: NodeID
    public var aValue: String
    public var bNode: NodeID?
    public var bValue: String
    public var how: MatchKind
}

public enum GraphComparison {
    /// Every node output of A (top level, topological order) that B still computes, with its
    /// B counterpart; outputs with none are left out (`unmatched` lists them).
    public static func match(_ a: Graph, _ b: Graph) -> (matches: [ValueMatch], unmatched: [String]) {
        var producerB: [String: NodeID] = [:]
        var nodeB: [NodeID: Node] = [:]
        for n in b.nodes {
            nodeB[n.id] = n
            for o in n.outputs where !o.isEmpty { producerB[o] = n.id }
        }
        // A node's latest source (in A's order) is what its outputs stand for.
        var position: [NodeID: Int] = [:]
        for (i, n) in a.nodes.enumerated() { position[n.id] = i }
        var standsFor: [NodeID: [Node]] = [:]
        for n in b.nodes {
            guard let latest = n.provenance.sources.compactMap({ s in position[s].map { (s, $0) } }).max(by: { $0.1 < $1.1 })?.0 else { continue }
            standsFor[latest, default: []].append(n)
        }
        var matches: [ValueMatch] = [], unmatched: [String] = []
        for n in a.nodes where !(n.opType == "Constant" && n.domain.isEmpty) {
            for (j, out) in n.outputs.array.enumerated() where !out.isEmpty {
                if let p = producerB[out] {
                    matches.append(ValueMatch(aNode: n.id, aValue: out, bNode: p, bValue: out, how: .name))
                } else if let same = nodeB[n.id], same.opType == n.opType, j < same.outputs.count, !same.outputs[j].isEmpty {
                    matches.append(ValueMatch(aNode: n.id, aValue: out, bNode: same.id, bValue: same.outputs[j], how: .node))
                } else if let c = standsFor[n.id]?.first(where: { j < $0.outputs.count && !$0.outputs[j].isEmpty }) {
                    matches.append(ValueMatch(aNode: n.id, aValue: out, bNode: c.id, bValue: c.outputs[j], how: .provenance))
                } else {
                    unmatched.append(out)
                }
            }
        }
        return (matches, unmatched)
    }

    /// Every value of A matched in B (`match`) that both runs kept, compared: what `compare`
    /// tabulates and what the precision passes turn into their `error` overlay, so both read
    /// the same figures.
    public static func compareValues(_ a: Graph, _ b: Graph, valuesA: [String: RuntimeTensor], valuesB: [String: RuntimeTensor],
                                     tolerance: Tolerance) -> (nodes: [(match: ValueMatch, diff: TensorDiff)], unmatched: [String]) {
        let (matches, unmatched) = match(a, b)
        var nodes: [(match: ValueMatch, diff: TensorDiff)] = []
        for m in matches {
            guard let x = valuesA[m.aValue], let y = valuesB[m.bValue] else { continue }
            nodes.append((m, TensorDiff(x, y, tolerance: tolerance)))
        }
        return (nodes, unmatched)
    }

    /// Per-node overlay figures of compared values, keyed by A's node ids (`bSide` false) or
    /// B's: the largest max-abs difference of a node's outputs (`error`) and the smallest PCC.
    public static func nodeFields(_ nodes: [(match: ValueMatch, diff: TensorDiff)], bSide: Bool) -> (error: [NodeID: Double], pcc: [NodeID: Double]) {
        var error: [NodeID: Double] = [:], pcc: [NodeID: Double] = [:]
        for (m, d) in nodes {
            guard let id = bSide ? m.bNode : m.aNode else { continue }
            if d.maxAbs.isFinite { error[id] = max(error[id] ?? 0, d.maxAbs) }
            if let p = d.pcc { pcc[id] = min(pcc[id] ?? 1, p) }
        }
        return (error, pcc)
    }

    /// A node of A that diverges while its inputs do not.
    public struct Divergence: Sendable, Equatable {
        public var node: NodeID
        public var name: String
        public var opType: String
        /// Its first failing output.
        public var value: String
    }

    /// The nodes of A, in topological order, whose compared outputs fail while every compared
    /// input passes (`passing[value]`: whether that value was within tolerance; values not in it
    /// were not compared: graph inputs, weights and folded constants are the same on both sides,
    /// and a value B dropped says nothing either way). The first is where the divergence starts.
    public static func divergenceRoots(_ a: Graph, passing: [String: Bool]) -> [Divergence] {
        var roots: [Divergence] = []
        for n in a.nodes {
            guard let bad = n.outputs.first(where: { passing[$0] == false }) else { continue }
            if n.inputs.allSatisfy({ passing[$0] != false }) {
                roots.append(Divergence(node: n.id, name: n.displayName, opType: n.opType, value: bad))
            }
        }
        return roots
    }
}
