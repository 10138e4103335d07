// Pairs the nodes of two graphs: stable id, then provenance, then structural signature.
//
// Signatures are hashes over (op, domain, attributes, paired producers) — the forward key —
// and over (op, domain, attributes, paired consumers) — the backward key, for nodes whose
// producers changed (the node after a fused group). A looser forward key without the
// attributes pairs a node whose attributes changed. Producers and consumers enter a key by the
// old graph's node index, so a new node's key is computable once its neighbours are paired;
// rounds repeat until nothing more pairs. Everything is index arrays and integer hashes: two
// 10k-node versions compare in a few milliseconds (Benchmarks/diff).

import GraphIR

/// One side of the comparison with the indexes the matcher needs.
struct DiffSide {
    let graph: Graph
    let nodes: [Node]
    /// Node index by id.
    let index: [NodeID: Int]
    /// Per node, per input slot: the producing node index and output slot, or -1 with the
    /// value's name for graph inputs, initializers and outer-scope values (`""`: omitted input).
    let producers: [[(node: Int, slot: Int)]]
    /// Per node: (consumer node index, input slot), plus graph outputs it feeds (by position).
    let consumers: [[(node: Int, slot: Int)]]
    let feedsOutputs: [[Int]]
    /// Per node: hash of its attributes.
    let attributeHash: [Int]

    init(_ graph: Graph) {
        self.graph = graph
        let nodes = graph.nodes
        self.nodes = nodes
        var index: [NodeID: Int] = [:]
        index.reserveCapacity(nodes.count)
        var producerOf: [String: (Int, Int)] = [:]
        producerOf.reserveCapacity(nodes.count * 2)
        for (i, n) in nodes.enumerated() {
            index[n.id] = i
            for (s, o) in n.outputs.enumerated() where !o.isEmpty { producerOf[o] = (i, s) }
        }
        var producers: [[(node: Int, slot: Int)]] = []
        producers.reserveCapacity(nodes.count)
        var consumers = [[(node: Int, slot: Int)]](repeating: [], count: nodes.count)
        for (i, n) in nodes.enumerated() {
            var row: [(node: Int, slot: Int)] = []
            row.reserveCapacity(n.inputs.count)
            for (k, name) in n.inputs.enumerated() {
                if let p = producerOf[name] {
                    row.append(p)
                    consumers[p.0].append((i, k))
                } else {
                    row.append((-1, 0))
                }
            }
            producers.append(row)
        }
        var feeds = [[Int]](repeating: [], count: nodes.count)
        for (k, o) in graph.outputs.enumerated() { if let p = producerOf[o.name] { feeds[p.0].append(k) } }
        self.index = index
        self.producers = producers
        self.consumers = consumers
        self.feedsOutputs = feeds
        self.attributeHash = nodes.map { NodeMatcher.hashAttributes($0.attributes) }
    }
}

/// The pairing state and its passes (see the file header).
struct NodeMatcher {
    let a: DiffSide
    let b: DiffSide
    let sharedIDs: Bool
    /// Partner index on the other side, or -1.
    var aPartner: [Int]
    var bPartner: [Int]
    var kind: [MatchKind?]  // per b node

    init(_ a: Graph, _ b: Graph, sharedIDs: Bool) {
        self.a = DiffSide(a)
        self.b = DiffSide(b)
        self.sharedIDs = sharedIDs
        aPartner = Array(repeating: -1, count: self.a.nodes.count)
        bPartner = Array(repeating: -1, count: self.b.nodes.count)
        kind = Array(repeating: nil, count: self.b.nodes.count)
    }

    mutating func pair(_ ai: Int, _ bi: Int, _ k: MatchKind) {
        aPartner[ai] = bi
        bPartner[bi] = ai
        kind[bi] = k
    }

    /// Same id on both sides; only meaningful when the graphs share an id space.
    mutating func matchByID() {
        guard sharedIDs else { return }
        for (bi, n) in b.nodes.enumerated() {
            if let ai = a.index[n.id], aPartner[ai] < 0 { pair(ai, bi, .id) }
        }
    }

    /// A new node whose sources (followed through `lineage`) are exactly one unpaired old node
    /// of the same op.
    mutating func matchByProvenance(lineage: [NodeID: Provenance]) {
        guard sharedIDs else { return }  // sources name ids of the model's own lineage
        for (bi, n) in b.nodes.enumerated() where bPartner[bi] < 0 && !n.provenance.sources.isEmpty {
            let sources = NodeMatcher.expand(n.provenance.sources, in: a.index, lineage: lineage)
            guard sources.count == 1, let ai = a.index[sources[0]], aPartner[ai] < 0,
                  a.nodes[ai].opType == n.opType, a.nodes[ai].domain == n.domain else { continue }
            pair(ai, bi, .provenance)
        }
    }

    /// `expand` with the expansion of each intermediate id remembered (a chain of big fusions
    /// would otherwise expand the same sources once per new node).
    static func expand(_ sources: [NodeID], in present: [NodeID: Int], lineage: [NodeID: Provenance],
                       memo: inout [NodeID: [NodeID]]) -> [NodeID] {
        var out: [NodeID] = []
        var seen = Set<NodeID>()
        for s in sources {
            let list: [NodeID]
            if present[s] != nil { list = [s] } else if let m = memo[s] { list = m } else {
                list = expand(lineage[s]?.sources ?? [], in: present, lineage: lineage)
                memo[s] = list
            }
            for x in list where seen.insert(x).inserted { out.append(x) }
        }
        return out
    }

    /// `sources` followed back through `lineage` to ids present in `present`, deduplicated, in order.
    static func expand(_ sources: [NodeID], in present: [NodeID: Int], lineage: [NodeID: Provenance]) -> [NodeID] {
        var out: [NodeID] = []
        var seen = Set<NodeID>()
        var stack = Array(sources.reversed())
        while let s = stack.popLast() {
            guard seen.insert(s).inserted else { continue }
            if present[s] != nil { out.append(s); continue }
            if let p = lineage[s] { stack.append(contentsOf: p.sources.reversed()) }
        }
        return out
    }

    // MARK: Signatures

    /// The producer an input reads, as the forward keys see it: the producing node (index on
    /// that side) and output slot; with `skip`, unpaired single-input nodes in between are looked
    /// through (an Identity or Cast one side inserted or removed). nil: a value no node produces.
    func producer(_ side: DiffSide, _ partner: [Int], _ i: Int, _ k: Int, skip: Bool) -> (node: Int, slot: Int)? {
        var p = side.producers[i][k]
        guard p.node >= 0 else { return nil }
        guard skip else { return p }
        var depth = 0
        while partner[p.node] < 0, depth < 4 {
            let n = side.nodes[p.node]
            // One input that is not a weight: the node passes one value on.
            var through: (node: Int, slot: Int)?
            var count = 0
            for (j, q) in side.producers[p.node].enumerated() where !n.inputs[j].isEmpty && side.graph.initializer(named: n.inputs[j]) == nil
                && !(q.node >= 0 && isWeightNode(side.nodes[q.node])) {
                count += 1
                through = q
            }
            guard count == 1, let t = through, t.node >= 0 else { return p }
            p = t
            depth += 1
        }
        return p
    }

    /// The forward key of an old node.
    /// Without `weights`, inputs that are initializers (or omitted) are left out: a plugin that
    /// folded a BatchNormalization into a Conv gave it a bias and new weights.
    func forwardKeyA(_ i: Int, attributes: Bool, weights: Bool = true) -> Int {
        var h = Hasher()
        let n = a.nodes[i]
        h.combine(n.opType); h.combine(n.domain)
        if attributes { h.combine(a.attributeHash[i]) }
        for k in n.inputs.indices {
            let p = a.producers[i][k]
            if !weights && p.node >= 0 && isWeightNode(a.nodes[p.node]) { continue }
            if p.node >= 0 { h.combine(p.node); h.combine(p.slot) } else if weights || isValueInput(a.graph, n.inputs[k]) {
                h.combine(-1); combineValue(&h, a.graph, n.inputs[k])
            }
        }
        return h.finalize()
    }

    /// The forward key of an old node whose producers are looked through where they are
    /// unpaired pass-through nodes (ones the new side removed); see `producer`.
    func skipKeyA(_ i: Int, attributes: Bool) -> Int {
        var h = Hasher()
        let n = a.nodes[i]
        h.combine(n.opType); h.combine(n.domain)
        if attributes { h.combine(a.attributeHash[i]) }
        for k in n.inputs.indices {
            if let p = producer(a, aPartner, i, k, skip: true) { h.combine(p.node); h.combine(p.slot) } else {
                h.combine(-1); combineValue(&h, a.graph, n.inputs[k])
            }
        }
        return h.finalize()
    }

    /// The forward key of a new node, in old indices; nil while a producer is unpaired.
    func forwardKeyB(_ i: Int, attributes: Bool, skip: Bool = false, weights: Bool = true) -> Int? {
        var h = Hasher()
        let n = b.nodes[i]
        h.combine(n.opType); h.combine(n.domain)
        if attributes { h.combine(b.attributeHash[i]) }
        for k in n.inputs.indices {
            if let p = producer(b, bPartner, i, k, skip: skip) {
                if !weights && isWeightNode(b.nodes[p.node]) { continue }
                let partner = bPartner[p.node]
                guard partner >= 0 else { return nil }
                h.combine(partner); h.combine(p.slot)
            } else if weights || isValueInput(b.graph, n.inputs[k]) { h.combine(-1); combineValue(&h, b.graph, n.inputs[k]) }
        }
        return h.finalize()
    }

    /// A Constant node: a weight written as a node (plugins turn them into initializers).
    func isWeightNode(_ n: Node) -> Bool { n.opType == "Constant" && n.domain.isEmpty && n.inputs.isEmpty }

    /// A graph input or outer value (not a weight, not omitted).
    func isValueInput(_ g: Graph, _ name: String) -> Bool { !name.isEmpty && g.initializer(named: name) == nil }

    /// A value that no node produces: a graph input by name, an initializer by type and shape
    /// (plugins rename folded weights; contents are compared when the pair is checked).
    func combineValue(_ h: inout Hasher, _ g: Graph, _ name: String) {
        if name.isEmpty { h.combine(0); return }
        if let t = g.initializer(named: name) {
            h.combine(1); h.combine(t.elementType.rawValue); h.combine(t.dims)
        } else {
            h.combine(2); h.combine(name)
        }
    }

    /// The backward key: op, attributes and paired consumers (old indices) plus graph outputs
    /// fed; nil for a new node with an unpaired consumer or none at all.
    func backwardKeyA(_ i: Int, attributes: Bool) -> Int? {
        if a.consumers[i].isEmpty && a.feedsOutputs[i].isEmpty { return nil }
        var h = Hasher()
        let n = a.nodes[i]
        h.combine(n.opType); h.combine(n.domain)
        if attributes { h.combine(a.attributeHash[i]) }
        for c in a.consumers[i].sorted(by: { ($0.node, $0.slot) < ($1.node, $1.slot) }) { h.combine(c.node); h.combine(c.slot) }
        for k in a.feedsOutputs[i] { h.combine(-1); h.combine(a.graph.outputs[k].name) }
        return h.finalize()
    }

    func backwardKeyB(_ i: Int, attributes: Bool) -> Int? {
        if b.consumers[i].isEmpty && b.feedsOutputs[i].isEmpty { return nil }
        var h = Hasher()
        let n = b.nodes[i]
        h.combine(n.opType); h.combine(n.domain)
        if attributes { h.combine(b.attributeHash[i]) }
        var mapped: [(Int, Int)] = []
        for c in b.consumers[i] {
            let partner = bPartner[c.node]
            guard partner >= 0 else { return nil }
            mapped.append((partner, c.slot))
        }
        for c in mapped.sorted(by: { $0 < $1 }) { h.combine(c.0); h.combine(c.1) }
        for k in b.feedsOutputs[i] { h.combine(-1); h.combine(b.graph.outputs[k].name) }
        return h.finalize()
    }

    /// Candidate old nodes per key, in old order.
    func table(_ key: (Int) -> Int?) -> [Int: [Int]] {
        var t: [Int: [Int]] = [:]
        for ai in a.nodes.indices where aPartner[ai] < 0 {
            if let k = key(ai) { t[k, default: []].append(ai) }
        }
        for k in t.keys { t[k]?.reverse() }  // popLast takes the first in old order
        return t
    }

    /// Takes the first unpaired candidate under `key`.
    mutating func take(_ t: inout [Int: [Int]], _ key: Int) -> Int? {
        while var list = t[key], let ai = list.popLast() {
            t[key] = list
            if aPartner[ai] < 0 { return ai }
        }
        return nil
    }

    /// Rounds of pairing until nothing more pairs. Each round sweeps the new graph in order,
    /// trying per node the forward key with attributes, without (a changed attribute), and
    /// looking through pass-through nodes the new side inserted, or the old side had; then sweeps it backward
    /// (paired consumers) with and without attributes. One sweep carries pairing down a whole
    /// chain; candidate tables hold unpaired old nodes and are rebuilt per round.
    mutating func matchBySignature() {
        for _ in 0..<8 {
            guard bPartner.contains(where: { $0 < 0 }), aPartner.contains(where: { $0 < 0 }) else { return }
            var progress = false
            var strict = table { forwardKeyA($0, attributes: true) }
            var loose = table { forwardKeyA($0, attributes: false) }
            var skipped = table { skipKeyA($0, attributes: true) }
            var skippedLoose = table { skipKeyA($0, attributes: false) }
            var unweighted = table { forwardKeyA($0, attributes: false, weights: false) }
            for bi in b.nodes.indices where bPartner[bi] < 0 {
                if let k = forwardKeyB(bi, attributes: true), let ai = take(&strict, k) {
                    pair(ai, bi, .signature); progress = true
                } else if let k = forwardKeyB(bi, attributes: false), let ai = take(&loose, k) {
                    pair(ai, bi, .signature); progress = true
                } else if let k = forwardKeyB(bi, attributes: true, skip: true), let ai = take(&strict, k) {
                    pair(ai, bi, .signature); progress = true  // the new side inserted a node before it
                } else if let k = forwardKeyB(bi, attributes: true), let ai = take(&skipped, k) {
                    pair(ai, bi, .signature); progress = true  // the new side removed one
                } else if let k = forwardKeyB(bi, attributes: false, skip: true), let ai = take(&loose, k) {
                    pair(ai, bi, .signature); progress = true  // inserted before it, and attributes changed
                } else if let k = forwardKeyB(bi, attributes: false), let ai = take(&skippedLoose, k) {
                    pair(ai, bi, .signature); progress = true
                } else if let k = forwardKeyB(bi, attributes: false, weights: false), let ai = take(&unweighted, k) {
                    pair(ai, bi, .signature); progress = true  // weights folded in or added (a bias)
                }
            }
            var backward = table { backwardKeyA($0, attributes: true) }
            var backwardLoose = table { backwardKeyA($0, attributes: false) }
            for bi in b.nodes.indices.reversed() where bPartner[bi] < 0 {
                if let k = backwardKeyB(bi, attributes: true), let ai = take(&backward, k) {
                    pair(ai, bi, .signature); progress = true
                } else if let k = backwardKeyB(bi, attributes: false), let ai = take(&backwardLoose, k) {
                    pair(ai, bi, .signature); progress = true
                }
            }
            if !progress { break }
        }
    }

    /// The last resort, for graphs without shared ids once signatures stop pairing: an
    /// unpaired new node and an unpaired old node of the same op and domain whose first outputs
    /// have the same value name. Compilers that fold weights and fuse neighbours (onnxruntime,
    /// onnxslim) keep the names of the tensors they did not replace; without this a chain
    /// breaks at the first fused node and nothing after it pairs. Returns whether any paired.
    mutating func matchByValueName() -> Bool {
        guard !sharedIDs else { return false }
        var byOutput: [String: Int] = [:]
        for ai in a.nodes.indices where aPartner[ai] < 0 {
            if let o = a.nodes[ai].outputs.first, !o.isEmpty { byOutput[o] = ai }
        }
        var any = false
        for bi in b.nodes.indices where bPartner[bi] < 0 {
            let n = b.nodes[bi]
            guard let o = n.outputs.first, !o.isEmpty, let ai = byOutput[o], aPartner[ai] < 0,
                  a.nodes[ai].opType == n.opType, a.nodes[ai].domain == n.domain else { continue }
            pair(ai, bi, .value)
            any = true
        }
        return any
    }

    // MARK: Result

    /// The pairs with what changed on each, and the unpaired nodes of each side.
    func finish() -> (pairs: [MatchedNode], removed: [NodeID], added: [NodeID]) {
        var pairs: [MatchedNode] = []
        pairs.reserveCapacity(b.nodes.count)
        var added: [NodeID] = []
        for bi in b.nodes.indices {
            let ai = bPartner[bi]
            guard ai >= 0, let k = kind[bi] else { added.append(b.nodes[bi].id); continue }
            pairs.append(MatchedNode(a: a.nodes[ai].id, b: b.nodes[bi].id, kind: k, change: change(ai, bi)))
        }
        let removed = a.nodes.indices.filter { aPartner[$0] < 0 }.map { a.nodes[$0].id }
        return (pairs, removed, added)
    }

    /// What differs between a paired old and new node.
    func change(_ ai: Int, _ bi: Int) -> NodeChange {
        let x = a.nodes[ai], y = b.nodes[bi]
        var c = NodeChange()
        c.op = x.opType != y.opType || x.domain != y.domain
        c.outputs = x.outputs.count != y.outputs.count
        if a.attributeHash[ai] != b.attributeHash[bi] || x.attributes.count != y.attributes.count {
            var names = Set<String>()
            for at in x.attributes where y.attribute(at.name) != at.value { names.insert(at.name) }
            for at in y.attributes where x.attribute(at.name) == nil { names.insert(at.name) }
            c.attributes = names.sorted()
        }
        let count = max(x.inputs.count, y.inputs.count)
        for k in 0..<count {
            guard k < x.inputs.count, k < y.inputs.count else { c.inputs.append(k); continue }
            let pa = a.producers[ai][k], pb = b.producers[bi][k]
            // A weight written as a Constant node on one side and an initializer on the other
            // (plugins turn one into the other) is unchanged when the contents are.
            if let ta = constant(a, ai, k), let tb = constant(b, bi, k), (pa.node >= 0) != (pb.node >= 0)
                || (pa.node >= 0 && pb.node >= 0 && bPartner[pb.node] < 0 && isWeightNode(a.nodes[pa.node])) {
                if !NodeMatcher.sameContents(ta, tb) { c.inputs.append(k) }
                continue
            }
            if pa.node >= 0 || pb.node >= 0 {
                if pa.node < 0 || pb.node < 0 || bPartner[pb.node] != pa.node || pa.slot != pb.slot { c.inputs.append(k) }
                continue
            }
            let na = x.inputs[k], nb = y.inputs[k]
            if na.isEmpty != nb.isEmpty { c.inputs.append(k); continue }
            let ta = a.graph.initializer(named: na), tb = b.graph.initializer(named: nb)
            switch (ta, tb) {
            case (nil, nil): if na != nb { c.inputs.append(k) }
            case (let t?, let u?): if !NodeMatcher.sameContents(t, u) { c.inputs.append(k) }
            default: c.inputs.append(k)
            }
        }
        return c
    }

    /// The tensor an input reads when it is a weight: an initializer or a Constant node's `value`.
    func constant(_ side: DiffSide, _ i: Int, _ k: Int) -> Tensor? {
        let name = side.nodes[i].inputs[k]
        guard !name.isEmpty else { return nil }
        let p = side.producers[i][k]
        if p.node < 0 { return side.graph.initializer(named: name) }
        let n = side.nodes[p.node]
        guard isWeightNode(n), case .tensor(let t)? = n.attribute("value") else { return nil }
        return t
    }

    /// Tensors equal but for their names (a plugin may rename a weight it kept).
    static func sameContents(_ t: Tensor, _ u: Tensor) -> Bool {
        guard t.elementType == u.elementType, t.dims == u.dims else { return false }
        var v = u
        v.name = t.name
        v.docString = t.docString
        v.metadataProps = t.metadataProps
        return t == v
    }

    // MARK: Attribute hashing

    /// A hash of a node's attributes (name, type and value; large tensors by size, type and a
    /// sample of their bytes, so hashing never reads whole weights; pairs are compared exactly).
    static func hashAttributes(_ attributes: [Attribute]) -> Int {
        if attributes.isEmpty { return 0 }
        var h = Hasher()
        for at in attributes.sorted(by: { $0.name < $1.name }) {
            h.combine(at.name)
            h.combine(at.value.typeCode)
            switch at.value {
            case .float(let f): h.combine(f.bitPattern)
            case .int(let i): h.combine(i)
            case .string(let s): h.combine(s)
            case .floats(let fs): for f in fs { h.combine(f.bitPattern) }
            case .ints(let is_): h.combine(is_)
            case .strings(let ss): h.combine(ss)
            case .tensor(let t): combineTensor(&h, t)
            case .tensors(let ts): for t in ts { combineTensor(&h, t) }
            case .graph(let g): combineGraph(&h, g)
            case .graphs(let gs): for g in gs { combineGraph(&h, g) }
            case .sparseTensor(let s): h.combine(s.dims); combineTensor(&h, s.values)
            case .sparseTensors(let ss): for s in ss { h.combine(s.dims) }
            case .typeProto(let t): h.combine(String(describing: t))
            case .typeProtos(let ts): for t in ts { h.combine(String(describing: t)) }
            }
        }
        return h.finalize()
    }

    static func combineTensor(_ h: inout Hasher, _ t: Tensor) {
        h.combine(t.elementType.rawValue)
        h.combine(t.dims)
        _ = try? t.withUnsafeBytes { raw in
            h.combine(raw.count)
            if raw.count <= 4096 {
                h.combine(bytes: raw)
            } else {
                h.combine(bytes: UnsafeRawBufferPointer(rebasing: raw[0..<1024]))
                h.combine(bytes: UnsafeRawBufferPointer(rebasing: raw[(raw.count - 1024)...]))
            }
        }
    }

    static func combineGraph(_ h: inout Hasher, _ g: Graph) {
        h.combine(g.nodes.count)
        for n in g.nodes { h.combine(n.opType); h.combine(hashAttributes(n.attributes)) }
    }
}
