/// The packed walk: inference of a main graph without bodies straight into `PackedFacts`.
/// Each node runs its op's packed rule (PackedRules.swift) when it has one and the node is in
/// the plain form that rule covers; every other node runs the general rule on decoded facts,
/// exactly as the general walk (InferenceEngine.swift) would. Either way the facts are the
/// same: a packed rule is the general rule's answer for the cases it takes, and it hands
/// every other case back (`onnx-tool infer --walk packed|general --known`,
/// `Tests/e2e/test_packed_walk.py` and `onnx-tool fuzz` compare both walks over the corpus, the
/// ONNX node tests and their mutants).
import GraphIR

extension InferenceEngine {
    /// Whether the packed walk can infer `graph`: no node holds a body (bodies read their
    /// enclosing scope as the general walk keeps it).
    static func packedWalkApplies(_ graph: Graph) -> Bool {
        graph.nodes.withUnsafeBufferPointer { buf in !buf.contains { $0.hasSubgraphs } }
    }

    /// Whether the packed walk is worth it for `graph`: at least nine in ten of a sample of its
    /// nodes (every eighth) have ops with packed rules. Measured (`Benchmarks/onnx/instructions.py
    /// --baseline-walk general`): the CNNs of the corpus, at 96-100%, take 23-55% fewer
    /// instructions packed; the transformer exports, at 69-86%, between 12% fewer (dynamo) and
    /// 15% more (legacy: their Shape/Gather/Concat chains take the general rules either way).
    func packedWalkPays(_ graph: Graph) -> Bool {
        graph.nodes.withUnsafeBufferPointer { buf -> Bool in
            guard let base = buf.baseAddress else { return true }
            var sampled = 0, covered = 0
            for i in stride(from: 0, to: buf.count, by: 8) {
                let op = binding(base + i)
                sampled += 1
                if op.packed != nil && !op.isFunction { covered += 1 }
            }
            return covered * 10 >= sampled * 9
        }
    }

    /// Infers a main graph (no bodies: see `packedWalkApplies`) into packed records.
    func runPacked(_ graph: Graph) -> PackedFacts {
        let nodeCount = graph.nodes.count
        let capacity = graph.inputs.count + graph.initializers.count + graph.sparseInitializers.count + nodeCount
            + nodeCount / 16
        let table = PackedFacts(capacity: capacity, initializers: graph.initializers)
        let declared = Declarations(graph)
        let declaredHashes = DeclaredHashes(graph, table)
        // The same order as the general walk: initializers, sparse ones, then inputs last to
        // first where nothing is defined yet.
        graph.initializers.withUnsafeBufferPointer { buf in
            // Through the element pointer: the buffer's subscript would copy each tensor.
            guard let base = buf.baseAddress else { return }
            for i in buf.indices where !base[i].name.isEmpty {
                let p = base + i
                table.set(table.intern(p.pointee.name), Self.packedInitializer(p, index: i, table))
            }
        }
        for sp in graph.sparseInitializers {
            table.set(table.intern(sp.name), table.encode(.tensor(sp.values.elementType, Shapes.dims(sp.dims))))
        }
        graph.inputs.withUnsafeBufferPointer { buf in
            for i in buf.indices.reversed() where !buf[i].name.isEmpty {
                guard table.slot(of: buf[i].name) == nil, let t = buf[i].type else { continue }
                table.set(table.intern(buf[i].name), table.encode(ValueFacts(type: Self.naming(SymType(t), input: buf[i].name))))
            }
        }
        let context = PackedContext(table: table)
        var inputs: [ValueFacts?] = []  // the general rules' inputs, reused
        inputs.reserveCapacity(8)
        graph.nodes.withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress else { return }
            for i in buf.indices {
                let ptr = base + i
                let op = binding(ptr)
                let loaded = op.packed != nil && !op.isFunction && context.load(ptr, op)
                if loaded, let rule = op.packed, rule(context),
                   finishPacked(context, declared: declared, declaredHashes: declaredHashes) {
                    continue
                }
                generalNode(ptr, table: table, declared: declared, inputs: &inputs, loaded: loaded ? context : nil)
            }
        }
        return table
    }

    /// An initializer's record: its dims inline, its contents decoded on first read. (Its
    /// fields are read through the pointer: passing the tensor itself copied it.)
    static func packedInitializer(_ p: UnsafePointer<Tensor>, index: Int, _ table: PackedFacts) -> PackedFact {
        let dims = p.pointee.dims
        let e = p.pointee.elementType
        guard dims.count <= PackedFact.maxRank, dims.allSatisfy(PackedDim.isSize) else { return table.encode(facts(of: p.pointee)) }
        var f = PackedFact.tensor(e, rank: dims.count)
        for i in dims.indices { f[dim: i] = dims[i] }
        if mayHaveContents(e, dims) { f.known = PackedFacts.lazyInitializer(index) }
        return f
    }

    /// Whether `facts(of:)` may give a tensor of this type and shape known contents (it may
    /// still give none, when the bytes are not there).
    static func mayHaveContents(_ e: ElementType, _ dims: [Int64]) -> Bool {
        guard let n = Tensor.elementCount(dims: dims), n <= maxKnownElements else { return false }
        return Shapes.isIntegral(e) || (Shapes.isFloating(e) && n <= maxKnownFloats)
    }

    /// A node the general rule infers: its inputs decoded, `node(...)` as the general walk
    /// calls it, its outputs encoded.
    /// `loaded`: the context holding this node's input slots already (a packed rule passed).
    func generalNode(_ ptr: UnsafePointer<Node>, table: PackedFacts, declared: Declarations,
                     inputs: inout [ValueFacts?], loaded: PackedContext?) {
        while !inputs.isEmpty { inputs.removeLast() }  // in place, capacity kept
        var given = InputPresence()
        if let c = loaded {
            given = c.given
            for i in 0..<c.inputCount {
                let s = c.inputSlot(i)
                inputs.append(s < 0 ? nil : table.memoizedFacts(slot: Int(s)))
            }
        } else {
            for name in ptr.pointee.inputs {
                if name.isEmpty { given.append(false); inputs.append(nil); continue }
                given.append(true)
                inputs.append(table.slot(of: name).map { table.memoizedFacts(slot: $0) })
            }
        }
        let names = ptr.pointee.outputs
        var outs = node(ptr, outputs: names, inputs: inputs, given: given, declared: declared, scopeChain: [], scope: [],
                        keyPrefix: "")
        for k in names.indices where !names[k].isEmpty {
            table.set(table.intern(names[k]), table.keep(outs[k].take() ?? ValueFacts(type: nil)))
        }
    }

    /// Stores a packed rule's outputs. Where a declared type would fill or contradict one, or a
    /// size is negative, the outputs go through `complete` as the general walk's do.
    func finishPacked(_ c: PackedContext, declared: Declarations, declaredHashes: DeclaredHashes) -> Bool {
        guard let ptr = c.node else { return false }
        let table = c.table
        let names = ptr.pointee.outputs
        if names.count == 1, !names[0].isEmpty {
            // The common case, each name hashed once for the declarations and the index.
            let name = names[0]
            let f = c.output(0)
            let h = table.hash(name)
            if !f.hasNegativeSize, !declaredHashes.mayContain(h) || declared[name].map({ Self.agrees(f, declared: $0) }) ?? true {
                table.set(table.intern(name, hash: h), f)
                return true
            }
        } else {
            var plain = true
            for k in names.indices where !names[k].isEmpty {
                let f = c.output(k)
                if f.hasNegativeSize { plain = false }
                if let d = declared[names[k]], !Self.agrees(f, declared: d) { plain = false }
            }
            if plain {
                for k in names.indices where !names[k].isEmpty {
                    table.set(table.intern(names[k]), c.output(k))
                }
                return true
            }
        }
        var outs: [ValueFacts?] = c.outputs.map { table.decode($0) }
        complete(&outs, ptr, names: names, declared: declared, scope: [])
        for k in names.indices where !names[k].isEmpty {
            table.set(table.intern(names[k]), table.keep(outs[k].take() ?? ValueFacts(type: nil)))
        }
        return true
    }

    /// Whether `reconcile` would keep `f` as it is against `declared`: same element type (or
    /// none declared), and every declared size agreeing with a known one. Anything else (a
    /// dim to fill, a contradiction to report) takes `reconcile` itself.
    static func agrees(_ f: PackedFact, declared: ValueType) -> Bool {
        guard f.kind == .tensor, case .tensor(let de, let shape) = declared else { return false }
        if de != .undefined, de != f.element { return false }
        guard let ddims = shape?.dims else { return true }
        guard f.rank >= 0, Int(f.rank) == ddims.count else { return false }
        for i in ddims.indices {
            let v = f[dim: i]
            if v == PackedDim.unknown { return false }
            guard PackedDim.isSize(v) else { continue }  // symbolic: reconcile leaves it
            switch ddims[i] {
            case .known(let b): if b != v { return false }
            case .unknown: break
            case .symbolic: return false
            }
        }
        return true
    }
}

/// The hashes (under the packed table's seed) of every name a graph that declares few types
/// declares one for (most graphs type only their outputs): there, most node outputs are not
/// declared, and the hash the walk computes for the index says so without a lookup of its own.
/// A graph that declares many (exporters that write value_info for everything) looks each
/// name up.
struct DeclaredHashes {
    private var slots: [UInt64]
    private let mask: Int
    private let everything: Bool

    init(_ graph: Graph, _ table: PackedFacts) {
        var names: [String] = []
        everything = graph.valueInfo.count + graph.outputs.count > 16
        if !everything {
            for v in graph.valueInfo where v.type != nil { names.append(v.name) }
            for v in graph.outputs where v.type != nil { names.append(v.name) }
        }
        var size = 8
        while size < names.count * 2 { size <<= 1 }
        slots = [UInt64](repeating: 0, count: size)
        mask = size - 1
        for n in names {
            let h = table.hash(n) | 1  // never 0, which marks an empty slot
            var b = Int(truncatingIfNeeded: h >> 7) & mask
            while slots[b] != 0 && slots[b] != h { b = (b + 1) & mask }
            slots[b] = h
        }
    }

    /// False when no declared name has hash `h`.
    @inline(__always)
    func mayContain(_ h: UInt64) -> Bool {
        if everything { return true }
        let key = h | 1
        var b = Int(truncatingIfNeeded: key >> 7) & mask
        return slots.withUnsafeBufferPointer { s in
            while true {
                let e = s[b]
                if e == 0 { return false }
                if e == key { return true }
                b = (b + 1) & mask
            }
        }
    }
}

/// A packed rule: writes the node's outputs into the context and says true, or says false
/// (writing nothing that counts) when the node is not in the form it covers.
typealias PackedRule = (PackedContext) -> Bool

/// What a packed rule sees: the node, its inputs' records, and where its outputs go. One per
/// inference call, reused for every node: its buffers are fixed, so a node allocates nothing.
/// (Unchecked exclusivity as in `PackedFacts`.)
final class PackedContext {
    let table: PackedFacts
    @exclusivity(unchecked) private(set) var node: UnsafePointer<Node>?
    @exclusivity(unchecked) private(set) var op: OpBinding?
    /// Each input's slot; -1 for an omitted input.
    private let inputSlots = UnsafeMutablePointer<Int32>.allocate(capacity: PackedContext.maxInputs)
    @exclusivity(unchecked) private(set) var inputCount = 0
    @exclusivity(unchecked) private(set) var given = InputPresence()
    /// The outputs' records, in output order.
    private let outputSlots = UnsafeMutablePointer<PackedFact>.allocate(capacity: PackedContext.maxOutputs)
    @exclusivity(unchecked) private(set) var producedCount = 0

    /// Nodes with more inputs take the general rules (InputPresence tracks 64).
    static let maxInputs = 63
    /// No packed rule writes more outputs.
    static let maxOutputs = 4

    init(table: PackedFacts) { self.table = table }

    deinit {
        inputSlots.deallocate()
        outputSlots.deallocate()
    }

    /// Takes `ptr` as the current node; false when an input names no known value (the
    /// general rule reports that) or there are too many inputs to track.
    func load(_ ptr: UnsafePointer<Node>, _ op: OpBinding) -> Bool {
        node = ptr
        self.op = op
        producedCount = 0
        var n = 0
        var presence = InputPresence()
        let names = ptr.pointee.inputs
        guard names.count <= Self.maxInputs else { return false }
        for name in names {
            if name.isEmpty {
                inputSlots[n] = -1
                presence.append(false)
            } else {
                guard let s = table.slot(of: name) else { return false }
                inputSlots[n] = Int32(truncatingIfNeeded: s)
                presence.append(true)
            }
            n += 1
        }
        inputCount = n
        given = presence
        return true
    }

    /// The slot of input `i` (-1: omitted).
    @inline(__always)
    func inputSlot(_ i: Int) -> Int32 { inputSlots[i] }

    /// The record of input `i`; nil when omitted or past the end.
    @inline(__always)
    func input(_ i: Int) -> PackedFact? {
        guard i < inputCount, inputSlots[i] >= 0 else { return nil }
        let f = table.fact(slot: Int(inputSlots[i]))
        return f.kind == .general ? table.packedForm(slot: Int(inputSlots[i])) : f
    }

    /// Input `i` when it is a tensor (rank known or not).
    @inline(__always)
    func tensor(_ i: Int) -> PackedFact? {
        guard let f = input(i), f.kind == .tensor else { return nil }
        return f
    }

    /// Input `i` when it is a tensor of known rank.
    @inline(__always)
    func ranked(_ i: Int) -> PackedFact? {
        guard let f = input(i), f.isRankedTensor else { return nil }
        return f
    }

    /// Adds the next output's record.
    @inline(__always)
    func emit(_ f: PackedFact) {
        guard producedCount < Self.maxOutputs else { return }
        var f = f
        // A rule's tensor output is made from its own dims, never the facts an input kept.
        if f.kind == .tensor { f.reference = -1 }
        outputSlots[producedCount] = f
        producedCount += 1
    }

    /// Output `k`'s record (unknown past those produced).
    @inline(__always)
    func output(_ k: Int) -> PackedFact { k < producedCount ? outputSlots[k] : .unknownType }

    /// The outputs produced, in order.
    var outputs: [PackedFact] { (0..<producedCount).map { outputSlots[$0] } }

    /// Where the node's attribute list is stored, with the op's binding: what a rule read from
    /// the attributes holds for every node with this key. The ONNX reader shares one list
    /// between the nodes whose attributes are the same (the weights ConstantOfShape makes, the
    /// 3x3 convs of a stage), and the graph does not change during the walk.
    struct AttributeKey: Equatable {
        let list: UnsafeRawPointer?
        let op: ObjectIdentifier
    }

    var attributeKey: AttributeKey? {
        guard let node, let op else { return nil }
        let list = node.pointee.attributes.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
        return AttributeKey(list: list, op: ObjectIdentifier(op))
    }

    /// The last few Conv and pool windows read (a network's convs cycle through a few
    /// attribute lists), and the last ConstantOfShape fill type, by attribute key.
    @exclusivity(unchecked) var windowMemo: [(key: AttributeKey, value: PackedRules.WindowAttributes?)] = []
    @exclusivity(unchecked) var windowMemoNext = 0
    @exclusivity(unchecked) var fillMemo: (key: AttributeKey, value: ElementType?)?
    static let windowMemoSize = 8

    /// The node's attributes, defaults and opset as the general rules read them.
    var attributes: RuleContext? {
        guard let node, let op else { return nil }
        return RuleContext(nodePointer: node, inputs: [], given: given, opset: op.opset, op: op, bodyInference: nil)
    }

    /// The node's op type.
    var opType: String { node?.pointee.opType ?? "" }

    /// The number of outputs the node names.
    var outputCount: Int { node?.pointee.outputs.count ?? 0 }

    /// A stored dim of a `SymDim` result (nil when it cannot be stored inline).
    func encode(_ d: SymDim?) -> Int64? { table.storedDim(d) }
}
