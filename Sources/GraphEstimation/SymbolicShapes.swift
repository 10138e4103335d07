/// GraphOps' symbolic inference result laid out on an `OpGraph`'s value indices, and its
/// evaluation for one binding. Inference runs once per graph, symbolically (`batch`, `seq`,
/// `x_d2` for unnamed input dims); a binding (`batch=8 seq=512`, `shape=x:1x3x224x224`) is
/// substitution of sizes for those symbols: each distinct dim expression is evaluated once.
///
/// Substitution cannot decide what the symbolic result leaves open, so the bound graph is
/// inferred again, concretely (input types set to the bound shapes, cached per binding), only
/// when: a binding gives a scalar graph input a value (`sr=16000`, which a condition reads), a
/// `shape=` contradicts a fixed declared dim, or an If condition / Loop trip count is not known
/// after substitution (silero_vad's Ifs compare sizes). Graphs without those (LLMs, CNNs)
/// never infer twice, whatever a sweep binds.
import Foundation
import GraphIR
import GraphOps

/// Symbolic shapes, element types and small known contents per value of an `OpGraph`.
public struct SymbolicShapes: Sendable {
    /// One dimension: a fixed size, a symbolic expression (index into `exprs`), or unknown.
    enum DimRef: Sendable, Hashable { case fixed(Int), expr(Int), unknown }
    /// Dims per value index (nil: rank unknown, or not a tensor).
    var dims: [[DimRef]?]
    /// The graph's distinct symbolic dims (`batch`, `batch*seq`, `(H-3)/2+1`).
    var exprs: [SymDim]
    /// Known contents of the values control flow reads (If conditions, Loop trip counts and
    /// conditions), by value index; entries may be symbolic.
    var values: [Int: KnownValue]
    /// Inferred element type per value.
    var elementTypes: [ElementType?]
    /// Why inference could not give a node's outputs, by node index (first problem per node).
    var problems: [Int: String]
    /// Whether some node output has an unknown type, rank or dim: sizes the symbols cannot
    /// express (paddle's `(H+31)/32*2` against `(H+15)/16`, equal for every H a model takes,
    /// merge to unknown), which only a concrete inference of the bound graph recovers.
    var incomplete = false

    /// The result of `ShapeInference.infer` on the graph `g` was built from: main-graph values by
    /// name, body values from their body's facts (`OpGraph.regionKeys`).
    init(_ g: OpGraph, _ r: InferenceResult) {
        var table = Table()
        dims = []; dims.reserveCapacity(g.values.count)
        elementTypes = []; elementTypes.reserveCapacity(g.values.count)
        for v in g.values.indices {
            if case .tensor(let e, let d)? = Self.facts(g, r, v)?.type {
                dims.append(d.map { $0.map { table.ref($0) } })
                elementTypes.append(e)
            } else {
                dims.append(nil); elementTypes.append(nil)
            }
        }
        values = [:]
        for n in g.nodes where n.traits.isControlFlow {
            for v in [n.input(0), n.input(1)] where v >= 0 && v < g.values.count { values[v] = Self.facts(g, r, v)?.value }
        }
        exprs = table.exprs
        for n in g.nodes {
            for o in n.outputs where o >= 0 && o < dims.count {
                if let d = dims[o] {
                    if d.contains(.unknown) { incomplete = true; break }
                    continue
                }
                switch Self.facts(g, r, o)?.type {
                case .tensor?, nil: incomplete = true        // unknown rank, or unknown type
                default: break                               // sequences, optionals: no shape to cost
                }
            }
            if incomplete { break }
        }
        problems = [:]
        guard !r.problems.isEmpty else { return }
        var index: [NodeID: Int] = [:]
        index.reserveCapacity(g.nodes.count)
        for (i, n) in g.nodes.enumerated() { if let id = n.id { index[id] = i } }
        for p in r.problems { if let i = index[p.node], problems[i] == nil { problems[i] = p.reason } }
    }

    /// The facts of value `v`: main-graph values by name, body values from their body's facts.
    static func facts(_ g: OpGraph, _ r: InferenceResult, _ v: Int) -> ValueFacts? {
        let name = g.values[v].name
        if !g.bodyValueRegion.isEmpty, let region = g.bodyValueRegion[v] {
            return region < g.regionKeys.count ? r.bodies[g.regionKeys[region]]?[name] : nil
        }
        return r.values[name]
    }

    /// Declared shapes only (a hand-built `OpGraph` with no GraphIR source).
    init(declaredIn g: OpGraph) {
        var table = Table()
        dims = g.values.map { v in v.shape.map { $0.map { d in
            switch d {
            case .known(let k): return k >= 0 ? .fixed(Int(clamping: k)) : .unknown
            case .symbolic(let s): return s.isEmpty ? .unknown : table.ref(.symbol(s))
            case .unknown: return .unknown
            }
        } } }
        exprs = table.exprs
        values = [:]
        elementTypes = Array(repeating: nil, count: g.values.count)
        problems = [:]
    }

    /// Interns expressions so each distinct one is evaluated once per binding.
    struct Table {
        var exprs: [SymDim] = []
        var index: [SymDim: Int] = [:]
        /// The last few expressions met: neighbouring values share dims (often the same storage,
        /// which `==` compares first), so most lookups skip hashing a polynomial.
        var recent: [(SymDim, Int)] = []
        var next = 0
        mutating func ref(_ d: SymDim?) -> DimRef {
            guard let d else { return .unknown }
            if let k = d.intValue { return k >= 0 ? .fixed(Int(clamping: k)) : .unknown }
            for (e, i) in recent where e == d { return .expr(i) }
            let i: Int
            if let known = index[d] { i = known } else { i = exprs.count; index[d] = i; exprs.append(d) }
            if recent.count < 8 { recent.append((d, i)) } else { recent[next] = (d, i); next = (next + 1) % 8 }
            return .expr(i)
        }
    }

    /// Every expression's size under `bindings` (nil where a symbol stays unbound or the size is negative).
    func evaluate(_ bindings: [String: SymDim]) -> [Int?] {
        exprs.map { e in e.substituting(bindings).intValue.flatMap { $0 >= 0 ? Int(clamping: $0) : nil } }
    }

    /// The concrete shape of value `v` from evaluated expressions.
    @inline(__always)
    func shape(_ v: Int, _ sizes: [Int?]) -> [Int]? {
        guard let d = dims[v] else { return nil }
        var out: [Int] = []
        out.reserveCapacity(d.count)
        for r in d {
            switch r {
            case .fixed(let k): out.append(k)
            case .expr(let i): guard let k = sizes[i] else { return nil }; out.append(k)
            case .unknown: return nil
            }
        }
        return out
    }

    /// The symbols value `v`'s dims mention that `bindings` leaves unbound, sorted.
    func unboundSymbols(_ v: Int, _ bindings: [String: SymDim]) -> [String] {
        var s = Set<String>()
        for case .expr(let i) in dims[v] ?? [] { s.formUnion(exprs[i].symbols) }
        return s.subtracting(bindings.keys).sorted()
    }

    /// The known value of `v` under `bindings`, as integers (nil when unknown or still symbolic).
    func intValues(_ v: Int, _ bindings: [String: SymDim]) -> [Int64]? {
        guard let k = values[v] else { return nil }
        if case .ints(let d) = k, !bindings.isEmpty {
            var out: [Int64] = []
            for x in d { guard let n = x.substituting(bindings).intValue else { return nil }; out.append(n) }
            return out
        }
        return k.constantInts
    }
}

/// Concrete re-inferences of an `OpGraph`'s source per binding (see the file header), shared by
/// copies of the graph; a sweep over a control-flow graph infers each distinct binding once.
final class BoundInferenceCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [InputBinding: SymbolicShapes] = [:]
    private static let capacity = 64

    /// Bindings inferred concretely so far (what tests check substitution against).
    var count: Int { lock.lock(); defer { lock.unlock() }; return entries.count }

    func value(for key: InputBinding, _ make: () -> SymbolicShapes) -> SymbolicShapes {
        lock.lock()
        if let hit = entries[key] { lock.unlock(); return hit }
        lock.unlock()
        let made = make()
        lock.lock()
        if entries.count >= Self.capacity { entries.removeAll() }
        entries[key] = made
        lock.unlock()
        return made
    }
}

extension OpGraph {
    /// The graph's symbolic shapes: GraphOps' result when built from GraphIR, else declared shapes.
    var symbolicShapes: SymbolicShapes { symbolic ?? SymbolicShapes(declaredIn: self) }

    /// The source graph inferred with `binding`'s input shapes fixed and scalar-input values given
    /// (nil without a GraphIR source).
    func boundShapes(_ binding: InputBinding) -> SymbolicShapes? {
        guard let graph = source else { return nil }
        return boundCache.value(for: binding) {
            var inputs = graph.inputs, extra: [Tensor] = []
            for (j, vi) in inputs.enumerated() {
                guard let i = valueIndex(ofInput: vi.name), let s = binding.shapes[i] else { continue }
                let e = vi.type?.elementType ?? .float
                let dims = s.map { Int64($0) }
                inputs[j] = ValueInfo(name: vi.name, type: .tensor(e, TensorShape(static: dims)))
                // a binding named after a scalar input is its value (`sr=16000`)
                if ShapeMath.volume(s) == 1, let value = binding.bindings[vi.name],
                   !graph.initializers.contains(where: { $0.name == vi.name }), let t = Self.scalar(vi.name, value, e, dims) {
                    extra.append(t)
                }
            }
            // node ids are kept (unique and non-negative), so body keys and problems still map
            let bound = Graph(name: graph.name, nodes: graph.nodes, inputs: inputs, outputs: graph.outputs,
                              initializers: graph.initializers + extra, sparseInitializers: graph.sparseInitializers,
                              valueInfo: graph.valueInfo)
            return SymbolicShapes(self, ShapeInference.infer(bound, opsets: opsets, functions: functions))
        }
    }

    /// A one-element tensor holding `value` (nil for element types a binding cannot give).
    static func scalar(_ name: String, _ value: Int, _ e: ElementType, _ dims: [Int64]) -> Tensor? {
        func bytes<T: FixedWidthInteger>(_ x: T) -> [UInt8] { withUnsafeBytes(of: x.littleEndian) { Array($0) } }
        let raw: [UInt8]
        switch e {
        case .float: return Tensor(name: name, floats: [Float(value)], dims: dims)
        case .double: raw = bytes(Double(value).bitPattern)
        case .int64: return Tensor(name: name, int64s: [Int64(value)], dims: dims)
        case .int32: raw = bytes(Int32(clamping: value))
        case .int16: raw = bytes(Int16(clamping: value))
        case .int8: raw = bytes(Int8(clamping: value))
        case .uint8: raw = bytes(UInt8(clamping: value))
        case .bool: raw = [value != 0 ? 1 : 0]
        default: return nil
        }
        return Tensor(name: name, elementType: e, dims: dims, data: .raw(ByteSlice(copying: raw)))
    }

    /// The value index of main-graph input `name`.
    func valueIndex(ofInput name: String) -> Int? {
        inputs.first { $0 >= 0 && $0 < values.count && values[$0].name == name }
    }
}
