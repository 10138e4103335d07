import Foundation
import GraphIR

/// Shape inference for the common ONNX ops, on `OpGraph`, after binding symbolic dims
/// (`batch=8 seq=512`). It also propagates small constant tensors (shape arithmetic:
/// Shape → Gather → Concat → Reshape, Resize scales, Slice bounds) because exported models
/// compute most shapes at run time. Nodes whose inputs are all constant are folded, as
/// ONNX Runtime and onnx-tool do; their outputs become constants (weights included: the
/// light models build every weight with ConstantOfShape).
///
/// When an op's rule cannot apply (unknown op, unknown input shape), declared output shapes
/// (value_info) are used if static; otherwise the output stays unknown and an issue is recorded.
///
/// Control flow (see `ControlRegion`): a body's inputs are bound when the pass reaches its
/// first node (Loop: iteration count, condition, the carried values' shapes; Scan: the states'
/// shapes and each scan input's shape without its scan axis), so shapes flow into bodies;
/// the owner's outputs then take the body outputs' shapes (If: the branch the condition
/// selects, Loop/Scan: carried values as is, scan outputs stacked along the trip count or
/// sequence length). A binding named after a scalar graph input gives it a value
/// (`sr=16000`), so conditions and trip counts computed from it become known.

/// Result of shape inference: per value index.
public struct ShapeTable: Sendable {
    /// Concrete shape per value (nil when unknown).
    public var shapes: [[Int]?]
    /// Known contents of small constant tensors.
    public var values: [[Double]?]
    /// Whether the value is a constant (initializer or folded).
    public var isConstant: [Bool]
    /// Bits per element per value.
    public var elementBits: [Int]
    /// Whether each value is floating point.
    public var isFloat: [Bool]
    /// Nodes that were folded (all inputs constant).
    public var folded: [Bool]
    /// Element count per value (-1 when the shape is unknown): saves re-multiplying shapes.
    public var elementCounts: [Int] = []
    /// Problems by node index, in node order.
    public var issues: [(node: Int, message: String)]
    /// What shape inference learnt about each If/Loop/Scan, by node index.
    public var controlFlow: [Int: ControlFlowFacts] = [:]
    /// What `batch=` did to the inputs (see `InputBinding.notes`).
    public var inputNotes: [String] = []
    /// Samples per run of the graph (see `InputBinding.batchSize`).
    public var batchSize = 1
}

/// What an If/Loop/Scan will do at run time, as far as constants and shapes tell.
public struct ControlFlowFacts: Sendable, Hashable {
    /// If: the condition's value when known.
    public var condition: Bool?
    /// Loop: iterations (constant `M`, or a binding; with a loop condition as well, `M` is an
    /// upper bound, since the body may stop early); Scan: the sequence length; nil when unknown.
    public var trips: Int?
    /// Where `trips` came from (`M`, a binding, the scan axis), for notes.
    public var tripSource = ""
}

/// Shape inference entry point and rules.
public enum ShapeInference {
    /// Binds symbols and infers every value's shape.
    /// - Parameters:
    ///   - bindings: symbol -> size (`batch` -> 8).
    ///   - inputShapes: full shapes for named graph inputs, overriding declarations.
    ///   - batch: binds the leading dimension of every graph input (see `InputBinding`).
    /// - Throws: `EstimationError.unboundSymbol` / `.badInput` when a graph input cannot get a
    ///   concrete shape, or an override names no input or has the wrong rank.
    public static func run(_ g: OpGraph, bindings userBindings: [String: Int] = [:], inputShapes: [String: [Int]] = [:],
                           batch: Int? = nil) throws -> ShapeTable {
        try run(g, inputs: InputBinding.resolve(g, batch: batch, bindings: userBindings, inputShapes: inputShapes))
    }

    /// Infers every value's shape from resolved inputs.
    public static func run(_ g: OpGraph, inputs binding: InputBinding) throws -> ShapeTable {
        let bindings = binding.bindings
        let n = g.values.count
        var t = ShapeTable(shapes: Array(repeating: nil, count: n), values: Array(repeating: nil, count: n),
                           isConstant: Array(repeating: false, count: n), elementBits: g.values.map(\.elementBits),
                           isFloat: g.values.map(\.isFloat), folded: Array(repeating: false, count: g.nodes.count), issues: [])
        t.inputNotes = binding.notes
        t.batchSize = binding.batchSize
        func resolve(_ dims: [Dim]?) -> [Int]? {
            guard let dims else { return nil }
            var out: [Int] = []; out.reserveCapacity(dims.count)
            for d in dims {
                switch d {
                case .known(let k): out.append(Int(clamping: k))
                case .symbolic(let s): guard let v = bindings[s] else { return nil }; out.append(v)
                case .unknown: return nil
                }
            }
            return out
        }
        for (i, v) in g.values.enumerated() where v.isConstant {
            t.isConstant[i] = true; t.shapes[i] = resolve(v.shape); t.values[i] = v.values
        }
        let inputSet = Set(g.inputs)
        for (i, s) in binding.shapes { t.shapes[i] = s }
        // a binding named after a scalar input is that input's value (not a constant: nothing folds on it)
        if !bindings.isEmpty {
            for i in g.inputs where !g.values[i].isConstant {
                if let s = t.shapes[i], ShapeInference.volume(s) == 1, let v = bindings[g.values[i].name] { t.values[i] = [Double(v)] }
            }
        }
        var regionsAt: [Int: [Int]] = [:], ownerRegions: [Int: [Int]] = [:]
        for (r, reg) in g.regions.enumerated() {
            regionsAt[reg.nodes.lowerBound, default: []].append(r)
            ownerRegions[reg.owner, default: []].append(r)
        }
        for ni in g.nodes.indices {
            let node = g.nodes[ni]
            if !regionsAt.isEmpty, let starting = regionsAt[ni] {
                for r in starting { bindBodyInputs(g.regions[r], g, &t) }
            }
            // most nodes have no constant-valued input: share one all-nil list instead of allocating
            let hasValues = node.inputs.contains { $0 >= 0 && t.values[$0] != nil }
            let vals = hasValues ? node.inputs.map { $0 >= 0 ? t.values[$0] : nil } : noValues(node.inputs.count)
            var anyPresent = false, allConst = true
            for v in node.inputs where v >= 0 { anyPresent = true; if !t.isConstant[v] { allConst = false; break } }
            allConst = allConst && anyPresent
            let firstKnown = node.inputs.first.map { $0 >= 0 && t.shapes[$0] != nil } ?? false
            if node.opType == "Constant" || (node.opType == "Shape" && firstKnown) { allConst = true }
            if node.traits.neverFolded { allConst = false }
            var r: NodeResult
            do {
                // the view shares `t.shapes`; it must be gone before `t.shapes` is written below, or
                // the write would copy the whole table
                let ins = ShapesView(ids: node.inputs, shapes: t.shapes)
                if node.traits.isControlFlow, let regs = ownerRegions[ni] {
                    r = inferControlFlow(node, ni, regs.map { g.regions[$0] }, ins: ins, vals: vals, bindings: bindings, g, &t)
                } else {
                    r = inferNode(node, ins: ins, vals: vals, bits: node.inputs.first.map { $0 >= 0 ? t.elementBits[$0] : 0 } ?? 0)
                }
            }
            for (k, o) in node.outputs.enumerated() where o >= 0 {
                var shape = k < r.shapes.count ? r.shapes[k] : nil
                if let s = shape, s.contains(where: { $0 < 0 }) {
                    r.issue = r.issue ?? "output \(k) would have a negative dimension \(s)"; shape = nil
                }
                if shape == nil, let declared = resolve(g.values[o].shape), !inputSet.contains(o), !declared.contains(where: { $0 < 0 }) {
                    shape = declared
                }
                t.shapes[o] = shape
                if k < r.values.count, let v = r.values[k], v.count <= OpGraph.maxConstElements { t.values[o] = v }
                if k < r.bits.count, let b = r.bits[k], t.elementBits[o] == 0 { t.elementBits[o] = b.0; t.isFloat[o] = b.1 }
                // otherwise the output has the type of its data input (input 1 for Where and CastLike)
                let src = (node.opType == "Where" || node.opType == "CastLike") ? 1 : 0
                if t.elementBits[o] == 0, src < node.inputs.count, node.inputs[src] >= 0 {
                    t.elementBits[o] = t.elementBits[node.inputs[src]]; t.isFloat[o] = t.isFloat[node.inputs[src]]
                }
                t.isConstant[o] = allConst
                if shape == nil { r.issue = r.issue ?? "output \(k) (\(g.values[o].name)) has unknown shape" }
            }
            t.folded[ni] = allConst
            if let m = r.issue { t.issues.append((ni, "\(node.opType) \"\(node.name)\": \(m)")) }
        }
        t.elementCounts = t.shapes.map { $0.map(volume) ?? -1 }
        return t
    }

    /// Binds a body's formal inputs from its owner's inputs (shapes and types; values stay unknown,
    /// since they change from one iteration to the next).
    static func bindBodyInputs(_ reg: ControlRegion, _ g: OpGraph, _ t: inout ShapeTable) {
        guard reg.owner >= 0 && reg.owner < g.nodes.count else { return }
        let owner = g.nodes[reg.owner]
        let count = t.shapes.count
        func bind(_ formal: Int, shape: [Int]?, from src: Int) {
            guard formal >= 0 && formal < count else { return }
            t.shapes[formal] = shape
            if src >= 0, t.elementBits[src] != 0 { t.elementBits[formal] = t.elementBits[src]; t.isFloat[formal] = t.isFloat[src] }
        }
        switch reg.kind {
        case .thenBranch, .elseBranch: break
        case .loopBody:
            for (k, v) in reg.inputs.enumerated() where v >= 0 && v < count {
                switch k {
                case 0: t.shapes[v] = []; t.elementBits[v] = 64; t.isFloat[v] = false       // iteration number
                case 1: t.shapes[v] = []; t.elementBits[v] = 8; t.isFloat[v] = false        // condition
                default:
                    let src = owner.input(k)
                    bind(v, shape: src >= 0 && src < count ? t.shapes[src] : nil, from: src < count ? src : -1)
                }
            }
        case .scanBody:
            let m = owner.int("num_scan_inputs") ?? 0
            let states = max(reg.inputs.count - m, 0)
            let axes = owner.ints("scan_input_axes") ?? []
            for (k, v) in reg.inputs.enumerated() where v >= 0 {
                let src = owner.input(k)
                guard src >= 0 && src < count, var s = t.shapes[src] else { bind(v, shape: nil, from: -1); continue }
                if k >= states {
                    let a = axis(axes[safe: k - states, 0], s.count)
                    if a >= 0 && a < s.count { s.remove(at: a) } else { bind(v, shape: nil, from: src); continue }
                }
                bind(v, shape: s, from: src)
            }
        }
    }

    /// Output shapes (and, for an If with a known condition, values) of a control-flow node from
    /// its bodies; records the trip count or condition in `t.controlFlow`.
    static func inferControlFlow(_ n: OpNode, _ ni: Int, _ regs: [ControlRegion], ins: ShapesView, vals: [[Double]?],
                                 bindings: [String: Int], _ g: OpGraph, _ t: inout ShapeTable) -> NodeResult {
        var r = NodeResult()
        var facts = ControlFlowFacts()
        // a body output index, or -1 (also for indices outside the value table: hand-built regions)
        func out(_ reg: ControlRegion?, _ k: Int) -> Int {
            guard let reg, k < reg.outputs.count, reg.outputs[k] < t.shapes.count else { return -1 }
            return reg.outputs[k]
        }
        func bitsOf(_ v: Int) -> (Int, Bool)? { v >= 0 && t.elementBits[v] != 0 ? (t.elementBits[v], t.isFloat[v]) : nil }
        switch n.opType {
        case "If":
            let thenR = regs.first { $0.kind == .thenBranch }, elseR = regs.first { $0.kind == .elseBranch }
            if let c = vals.first ?? nil, let first = c.first { facts.condition = first != 0 }
            for k in n.outputs.indices {
                let a = out(thenR, k), b = out(elseR, k)
                let chosen: Int
                switch facts.condition {
                case true?: chosen = a
                case false?: chosen = b
                case nil:
                    let sa = a >= 0 ? t.shapes[a] : nil, sb = b >= 0 ? t.shapes[b] : nil
                    chosen = sa != nil ? a : b
                    if let sa, let sb, sa != sb {
                        r.issue = r.issue ?? "condition unknown and the branches' output \(k) shapes differ (\(sa) vs \(sb)); the then_branch shape is used"
                    }
                }
                r.shapes.append(chosen >= 0 ? t.shapes[chosen] : nil)
                r.values.append(facts.condition != nil && chosen >= 0 ? t.values[chosen] : nil)
                r.bits.append(bitsOf(chosen) ?? bitsOf(a) ?? bitsOf(b))
            }
        case "Loop":
            let body = regs.first { $0.kind == .loopBody }
            if n.input(0) >= 0, let m = vals.first ?? nil, let v = m.first { facts.trips = max(toInt(v), 0); facts.tripSource = "M" }
            else if let b = bindings[n.name], !n.name.isEmpty { facts.trips = b; facts.tripSource = "binding \(n.name)" }
            else if n.input(0) >= 0, let b = bindings[g.values[n.input(0)].name] { facts.trips = b; facts.tripSource = "binding \(g.values[n.input(0)].name)" }
            // a constant false condition runs no iteration
            if n.input(1) >= 0, vals.count > 1, let c = vals[1]?.first, c == 0 { facts.trips = 0; facts.tripSource = "cond is false" }
            let carried = max(n.inputs.count - 2, 0)
            for k in n.outputs.indices {
                let bo = out(body, 1 + k)
                if k < carried {
                    let src = n.input(2 + k)
                    let s = (bo >= 0 ? t.shapes[bo] : nil) ?? (src >= 0 ? t.shapes[src] : nil)
                    if let s, src >= 0, let s0 = t.shapes[src], s0 != s {
                        r.issue = r.issue ?? "carried value \(k) changes shape in the body (\(s0) -> \(s)); the body is costed at the first iteration's shapes"
                    }
                    r.shapes.append(s); r.bits.append(bitsOf(bo) ?? bitsOf(src))
                } else {
                    let s = bo >= 0 ? t.shapes[bo] : nil
                    r.shapes.append(s.map { [facts.trips ?? 1] + $0 }); r.bits.append(bitsOf(bo))
                }
            }
        case "Scan":
            let body = regs.first { $0.kind == .scanBody }
            let m = n.int("num_scan_inputs") ?? 0
            let states = max(n.inputs.count - m, 0)
            if m > 0, states < ins.count, let s = ins[states] {
                let a = axis((n.ints("scan_input_axes") ?? [])[safe: 0, 0], s.count)
                if a >= 0 && a < s.count { facts.trips = s[a]; facts.tripSource = "scan input axis \(a)" }
            }
            let outAxes = n.ints("scan_output_axes") ?? []
            for k in n.outputs.indices {
                let bo = out(body, k)
                let s = bo >= 0 ? t.shapes[bo] : nil
                if k < states { r.shapes.append(s ?? ins[safe: k]); r.bits.append(bitsOf(bo) ?? bitsOf(n.input(k))); continue }
                guard var st = s, let len = facts.trips else { r.shapes.append(nil); r.bits.append(bitsOf(bo)); continue }
                let a = axis(outAxes[safe: k - states, 0], st.count + 1)
                st.insert(len, at: min(max(a, 0), st.count))
                r.shapes.append(st); r.bits.append(bitsOf(bo))
            }
        default: break
        }
        t.controlFlow[ni] = facts
        return r
    }

    static let nilLists: [[[Double]?]] = (0...16).map { Array(repeating: nil, count: $0) }
    static func noValues(_ n: Int) -> [[Double]?] { n < nilLists.count ? nilLists[n] : Array(repeating: nil, count: n) }

    static let neverFolded: Set<String> = ["RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
                                           "Multinomial", "If", "Loop", "Scan", "Bernoulli"]
    static let comparisonOps: Set<String> = ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor"]

    struct NodeResult {
        var shapes: [[Int]?] = []
        var values: [[Double]?] = []
        var bits: [(Int, Bool)?] = []
        var issue: String?
    }

    static func volume(_ s: [Int]) -> Int { s.reduce(1) { satMul($0, $1) } }

    static func broadcast<S: Sequence>(_ shapes: S) -> [Int]? where S.Element == [Int]? {
        var out: [Int] = []
        for s in shapes {
            guard let s else { return nil }
            if s.count > out.count { out = Array(repeating: 1, count: s.count - out.count) + out }
            let off = out.count - s.count
            for (i, d) in s.enumerated() {
                let o = out[off + i]
                if o == 1 { out[off + i] = d } else if d != 1 && d != o { return nil }
            }
        }
        return out
    }

    static func axis(_ a: Int, _ rank: Int) -> Int { a < 0 ? a + rank : a }

    /// Element-wise evaluation with numpy broadcasting on small constants.
    static func evalBinary(_ a: [Double], _ sa: [Int], _ b: [Double], _ sb: [Int], _ f: (Double, Double) -> Double) -> [Double]? {
        guard let out = broadcast([sa, sb]) else { return nil }
        let n = volume(out)
        guard n <= OpGraph.maxConstElements, a.count == volume(sa), b.count == volume(sb) else { return nil }
        func index(_ flat: Int, _ s: [Int]) -> Int {
            var rem = flat, idx = 0, step = 1
            var coords = Array(repeating: 0, count: out.count)
            for d in stride(from: out.count - 1, through: 0, by: -1) { coords[d] = rem % out[d]; rem /= out[d] }
            let off = out.count - s.count
            for d in stride(from: s.count - 1, through: 0, by: -1) {
                let c = s[d] == 1 ? 0 : coords[d + off]; idx += c * step; step *= s[d]
            }
            return idx
        }
        return (0..<n).map { f(a[index($0, sa)], b[index($0, sb)]) }
    }

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    /// - Parameter bits: element bits of the first input (0 if unknown).
    static func inferNode(_ n: OpNode, ins: ShapesView, vals: [[Double]?], bits: Int) -> NodeResult {
        var r = NodeResult()
        let x = ins.first ?? nil
        // the two big families first, by a precomputed group (string switches compare one case at a time)
        switch n.traits.shapeGroup {
        case .sameShape: inferSameShape(n, x, vals, &r); return r
        case .broadcast: inferBroadcast(n, ins, vals, bits, &r); return r
        case .other: break
        }
        switch n.opType {   // most frequent ops first: a string switch tests cases in order
        case "MatMul", "MatMulInteger", "QLinearMatMul", "FusedMatMul":
            let bi = n.opType == "QLinearMatMul" ? 3 : 1
            guard let a = x, bi < ins.count, let b = ins[bi], !a.isEmpty, !b.isEmpty else { r.issue = "needs both operand shapes"; break }
            let a2 = a.count == 1 ? [1] + a : a, b2 = b.count == 1 ? b + [1] : b
            guard a2[a2.count - 1] == b2[b2.count - 2] || n.opType == "FusedMatMul" else { r.issue = "inner dims differ: \(a) x \(b)"; break }
            guard let batch = broadcast([Array(a2.dropLast(2)), Array(b2.dropLast(2))]) else { r.issue = "batch dims do not broadcast"; break }
            var out = batch + [a2[a2.count - 2], b2[b2.count - 1]]
            if a.count == 1 { out.remove(at: out.count - 2) }
            if b.count == 1 { out.removeLast() }
            r.shapes = [out]
            if n.opType == "MatMulInteger" { r.bits = [(32, false)] }
        case "Reshape":
            guard let x, ins.count > 1, let spec = vals[1] else { r.issue = "shape input is not a known constant"; break }
            let allowZero = (n.int("allowzero") ?? 0) != 0
            var out = spec.map { toInt($0) }
            for i in out.indices where out[i] == 0 && !allowZero { out[i] = i < x.count ? x[i] : 0 }
            if let m = out.firstIndex(of: -1) {
                let known = out.enumerated().filter { $0.offset != m }.reduce(1) { satMul($0, $1.element) }
                out[m] = known <= 0 ? 0 : volume(x) / known
            }
            guard volume(out) == volume(x) else { r.issue = "cannot reshape \(x) to \(spec.map { toInt($0) })"; break }
            r.shapes = [out]; r.values = [vals[0]]
        case "Transpose":
            guard let x else { break }
            let perm = n.ints("perm") ?? Array((0..<x.count).reversed())
            guard perm.count == x.count, perm.allSatisfy({ $0 >= 0 && $0 < x.count }) else { r.issue = "bad perm"; break }
            let outShape = perm.map { x[$0] }
            r.shapes = [outShape]
            if let v = vals[0], v.count == volume(x) {
                r.values = [gatherValues(v, inShape: x, outShape: outShape) { o in
                    var c = Array(repeating: 0, count: o.count); for (i, p) in perm.enumerated() { c[p] = o[i] }; return c }]
            }
        case "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum",
             "ReduceLogSumExp", "ReduceSumSquare", "ArgMax", "ArgMin":
            guard let x else { break }
            let keep = (n.int("keepdims") ?? 1) != 0
            var axes: [Int]?
            if n.opType.hasPrefix("Arg") { axes = [n.int("axis") ?? 0] } else { axes = n.ints("axes") ?? (ins.count > 1 ? vals[1]?.map { toInt($0) } : nil) }
            if axes == nil && ins.count > 1 && n.inputs[1] >= 0 { r.issue = "reduction axes unknown"; break }
            let noop = (n.int("noop_with_empty_axes") ?? 0) != 0
            let set = Set((axes ?? (noop ? [] : Array(0..<x.count))).map { axis($0, x.count) })
            r.shapes = [x.enumerated().compactMap { set.contains($0.offset) ? (keep ? 1 : nil) : $0.element }]
            if n.opType.hasPrefix("Arg") { r.bits = [(64, false)] }
            if n.opType == "ReduceProd", let v = vals[0], x.count == 1, !keep || true { r.values = [[v.reduce(1, *)]] }
        case "Gather":
            guard let x, ins.count > 1, let idx = ins[1] else { r.issue = "needs data and indices shapes"; break }
            let a = axis(n.int("axis") ?? 0, x.count)
            guard a >= 0 && a < x.count else { r.issue = "bad axis"; break }
            r.shapes = [Array(x[..<a]) + idx + Array(x[(a + 1)...])]
            if let v = vals[0], let iv = vals[1], x.count == 1 {
                r.values = [iv.map { i in let k = toInt(i) < 0 ? toInt(i) &+ v.count : toInt(i); return k >= 0 && k < v.count ? v[k] : 0 }]
            }
        case "Conv", "ConvInteger", "QLinearConv", "NhwcConv":
            let wi = n.opType == "QLinearConv" ? 3 : 1
            guard let x, wi < ins.count, let w = ins[wi], x.count >= 3, w.count == x.count else { r.issue = "needs input and weight shapes"; break }
            let sp = x.count - 2
            let k = n.ints("kernel_shape") ?? Array(w.suffix(sp))
            let out = convOutput(Array(x.suffix(sp)), kernel: k, node: n)
            r.shapes = [[x[0], w[0]] + out]
            if n.opType == "ConvInteger" { r.bits = [(32, false)] }
        case "Unsqueeze":
            guard let x, let axesRaw = n.ints("axes") ?? (ins.count > 1 ? vals[1]?.map({ toInt($0) }) : nil) else { r.issue = "axes unknown"; break }
            let rank = x.count + axesRaw.count
            let axes = Set(axesRaw.map { axis($0, rank) })
            var out: [Int] = [], j = 0
            for i in 0..<rank { if axes.contains(i) { out.append(1) } else if j < x.count { out.append(x[j]); j += 1 } }
            r.shapes = [out]; r.values = [vals[0]]
        case "Concat":
            guard ins.allSatisfy({ $0 != nil }), let first = x else { r.issue = "an input shape is unknown"; break }
            let a = axis(n.int("axis") ?? 0, first.count)
            guard a >= 0 && a < first.count else { r.issue = "bad axis"; break }
            var out = first; out[a] = ins.reduce(0) { $0 &+ ($1?[safe: a, 0] ?? 0) }
            r.shapes = [out]
            if vals.allSatisfy({ $0 != nil }) && first.count == 1 { r.values = [vals.flatMap { $0 ?? [] }] }
        case "Shape":
            guard let x else { break }
            let start = min(max(axis(n.int("start") ?? 0, x.count), 0), x.count)
            let end = min(max(axis(n.int("end") ?? x.count, x.count), start), x.count)
            let s = Array(x[start..<end])
            r.shapes = [[s.count]]; r.values = [s.map(Double.init)]; r.bits = [(64, false)]
        case "Constant":
            if let t = n.tensor("value") { r.shapes = [t.shape]; r.values = [t.values]; r.bits = [(t.elementBits, t.isFloat)] }
            else if let v = n.float("value_float") { r.shapes = [[]]; r.values = [[v]]; r.bits = [(32, true)] }
            else if let v = n.floats("value_floats") { r.shapes = [[v.count]]; r.values = [v]; r.bits = [(32, true)] }
            else if let v = n.int("value_int") { r.shapes = [[]]; r.values = [[Double(v)]]; r.bits = [(64, false)] }
            else if let v = n.ints("value_ints") { r.shapes = [[v.count]]; r.values = [v.map(Double.init)]; r.bits = [(64, false)] }
            else { r.issue = "Constant without a readable value" }
        case "Slice":
            guard let x else { break }
            let starts = n.ints("starts") ?? (ins.count > 1 ? vals[1]?.map { toInt($0) } : nil)
            let ends = n.ints("ends") ?? (ins.count > 2 ? vals[2]?.map { toInt($0) } : nil)
            guard let starts, let ends else { r.issue = "slice bounds unknown"; break }
            let axes = (n.ints("axes") ?? (ins.count > 3 ? vals[3]?.map { toInt($0) } : nil)) ?? Array(0..<starts.count)
            let steps = (ins.count > 4 ? vals[4]?.map { toInt($0) } : nil) ?? Array(repeating: 1, count: starts.count)
            var out = x
            var ok = true
            var begin = Array(repeating: 0, count: x.count), stepPerAxis = Array(repeating: 1, count: x.count)
            for (i, a0) in axes.enumerated() {
                let a = axis(a0, x.count)
                guard a >= 0 && a < x.count, i < starts.count, i < ends.count else { ok = false; break }
                let dim = x[a], st = steps[safe: i, 1]
                guard st != 0 else { ok = false; break }
                func clampIndex(_ v: Int, _ lo: Int, _ hi: Int) -> Int { min(max(v < 0 ? v + dim : v, lo), hi) }
                if st > 0 {
                    let s = clampIndex(starts[i], 0, dim), e = clampIndex(ends[i], 0, dim)
                    out[a] = max(0, (e - s + st - 1) / st); begin[a] = s
                } else {
                    let s = clampIndex(starts[i], -1, dim - 1), e = clampIndex(ends[i], -1, dim - 1)
                    out[a] = max(0, (s - e + (-st) - 1) / (-st)); begin[a] = s
                }
                stepPerAxis[a] = st
            }
            guard ok else { r.issue = "bad slice axes"; break }
            r.shapes = [out]
            if let v = vals[0], v.count == volume(x) {
                r.values = [gatherValues(v, inShape: x, outShape: out) { o in zip(o.indices, o).map { begin[$0] + $1 * stepPerAxis[$0] } }]
            }
        case "Squeeze":
            guard let x else { break }
            let axes = (n.ints("axes") ?? (ins.count > 1 ? vals[1]?.map { toInt($0) } : nil))?.map { axis($0, x.count) }
            var kept: [Int] = []
            for (i, d) in x.enumerated() where axes.map({ !$0.contains(i) }) ?? (d != 1) { kept.append(d) }
            r.shapes = [kept]
            r.values = [vals[0]]
        case "Cast", "CastLike":
            r.shapes = [x]
            if let to = n.int("to") {
                let info = onnxTypeInfo(to); r.bits = [info]
                if let v = vals.first ?? nil { r.values = [info.1 ? v : (to == 9 ? v.map { $0 != 0 ? 1 : 0 } : v.map { $0.rounded(.towardZero) })] }
            } else if n.opType == "CastLike", ins.count > 1 { r.values = [vals.first ?? nil] }
        case "Gemm":
            guard let a = x, ins.count > 1, let b = ins[1], a.count == 2, b.count == 2 else { r.issue = "needs 2-D operand shapes"; break }
            let m = (n.int("transA") ?? 0) != 0 ? a[1] : a[0]
            let nn = (n.int("transB") ?? 0) != 0 ? b[0] : b[1]
            r.shapes = [[m, nn]]
        case "MaxPool", "AveragePool", "LpPool":
            guard let x, x.count >= 3, let k = n.ints("kernel_shape") else { r.issue = "needs input shape and kernel_shape"; break }
            let out = convOutput(Array(x.suffix(x.count - 2)), kernel: k, node: n)
            r.shapes = [[x[0], x[1]] + out, [x[0], x[1]] + out]
            r.bits = [nil, (64, false)]
        case "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool":
            guard let x, x.count >= 2 else { break }
            r.shapes = [[x[0], x[1]] + Array(repeating: 1, count: x.count - 2)]
        case "Where":
            r.shapes = [broadcast(ins)]
            if ins.count == 3, let c = vals[0], let a = vals[1], let b = vals[2], let sc = ins[0], let sa = ins[1], let sb = ins[2],
               let ca = evalBinary(c, sc, a, sa, { $0 != 0 ? $1 : .nan }), let cs = broadcast([sc, sa]) {
                r.values = [evalBinary(ca, cs, b, sb, { $0.isNaN ? $1 : $0 })]
            }
        case "Split":
            guard let x else { break }
            let a = axis(n.int("axis") ?? 0, x.count)
            guard a >= 0 && a < x.count else { break }
            var parts = n.ints("split") ?? (ins.count > 1 ? vals[1]?.map { toInt($0) } : nil)
            if parts == nil {
                let k = max(n.outputs.count, 1), size = (x[a] + k - 1) / k
                parts = (0..<k).map { min(size, max(x[a] - $0 * size, 0)) }
            }
            r.shapes = (parts ?? []).map { var s = x; s[a] = $0; return s }
        case "Expand":
            guard let x, ins.count > 1, let s = vals[1] else { r.issue = "target shape unknown"; break }
            r.shapes = [broadcast([x, s.map { toInt($0) }])]
        case "Resize", "Upsample":
            guard let x else { break }
            if n.opType == "Upsample" {
                guard let sc = n.floats("scales") ?? (ins.count > 1 ? vals[1] : nil), sc.count == x.count else { r.issue = "scales unknown"; break }
                r.shapes = [zip(x, sc).map { toInt((Double($0) * $1).rounded(.down)) }]; break
            }
            if ins.count > 3, let sizes = vals[3], !sizes.isEmpty {
                if sizes.count == x.count { r.shapes = [sizes.map { toInt($0) }] }
                else if let axes = n.ints("axes") {
                    var o = x
                    for (i, a) in axes.enumerated() where i < sizes.count && axis(a, x.count) >= 0 && axis(a, x.count) < x.count {
                        o[axis(a, x.count)] = toInt(sizes[i])
                    }
                    r.shapes = [o]
                }
            } else if ins.count > 2, let sc = vals[2], !sc.isEmpty {
                if sc.count == x.count { r.shapes = [zip(x, sc).map { toInt((Double($0) * $1).rounded(.down)) }] }
                else if let axes = n.ints("axes") {
                    var o = x
                    for (i, a) in axes.enumerated() where i < sc.count && axis(a, x.count) >= 0 && axis(a, x.count) < x.count {
                        o[axis(a, x.count)] = toInt((Double(o[axis(a, x.count)]) * sc[i]).rounded(.down))
                    }
                    r.shapes = [o]
                }
            } else if ins.count == 2, let sc = vals[1], sc.count == x.count {
                r.shapes = [zip(x, sc).map { toInt((Double($0) * $1).rounded(.down)) }]
            } else { r.issue = "scales/sizes unknown" }
        case "Flatten":
            guard let x else { break }
            let a = min(max(axis(n.int("axis") ?? 1, x.count), 0), x.count)
            r.shapes = [[volume(Array(x.prefix(a))), volume(Array(x.dropFirst(a)))]]; r.values = [vals[0]]
        case "LayerNormalization", "SimplifiedLayerNormalization", "RMSNormalization", "SkipLayerNormalization",
             "SkipSimplifiedLayerNormalization":
            guard let x else { break }
            let ax = axis(n.int("axis") ?? -1, x.count)
            let stat = Array(x.prefix(max(ax, 0))) + Array(repeating: 1, count: max(x.count - ax, 0))
            r.shapes = [x, stat, stat]
        case "DynamicQuantizeLinear":
            r.shapes = [x, [], []]; r.bits = [(8, false), (32, true), (8, false)]
        case "Dropout":
            r.shapes = [x, x]; r.bits = [nil, (8, false)]
        case "ConvTranspose":
            guard let x, ins.count > 1, let w = ins[1], x.count >= 3, w.count == x.count else { r.issue = "needs input and weight shapes"; break }
            let sp = x.count - 2
            let g = n.int("group") ?? 1
            let k = n.ints("kernel_shape") ?? Array(w.suffix(sp))
            if let os = n.ints("output_shape"), os.count >= sp { r.shapes = [[x[0], w[1] &* g] + Array(os.suffix(sp))]; break }
            let s = n.ints("strides") ?? Array(repeating: 1, count: sp)
            let d = n.ints("dilations") ?? Array(repeating: 1, count: sp)
            let op = n.ints("output_padding") ?? Array(repeating: 0, count: sp)
            let p = n.ints("pads") ?? Array(repeating: 0, count: 2 * sp)
            let autoPad = n.string("auto_pad") ?? "NOTSET"
            var out: [Int] = []
            for i in 0..<sp {
                let inI = x[2 + i]
                if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" { out.append(inI &* s[safe: i, 1]) }
                else {
                    out.append(s[safe: i, 1] &* (inI &- 1) &+ op[safe: i, 0] &+ ((k[safe: i, 1] &- 1) &* d[safe: i, 1] &+ 1) &- p[safe: i, 0] &- p[safe: i + sp, 0])
                }
            }
            r.shapes = [[x[0], w[1] &* g] + out]
        case "Einsum":
            guard let eq = n.string("equation"), let spec = EinsumSpec(eq), ins.allSatisfy({ $0 != nil }) else { r.issue = "cannot read einsum"; break }
            r.shapes = [spec.outputShape(ins.compactMap { $0 })]
        case "Attention", "MultiHeadAttention", "GroupQueryAttention":
            r.shapes = [x]
        case "Size":
            guard let x else { break }
            r.shapes = [[]]; r.values = [[Double(volume(x))]]; r.bits = [(64, false)]
        case "GatherElements":
            r.shapes = [ins.count > 1 ? ins[1] : nil]
        case "GatherND":
            guard let x, ins.count > 1, let idx = ins[1], let last = idx.last else { break }
            let b = n.int("batch_dims") ?? 0
            r.shapes = [Array(idx.dropLast()) + Array(x.dropFirst(min(max(b &+ last, 0), x.count)))]
        case "ScatterND", "ScatterElements", "Scatter":
            r.shapes = [x]
        case "Tile":
            guard let x, ins.count > 1, let rep = vals[1], rep.count == x.count else { r.issue = "repeats unknown"; break }
            r.shapes = [zip(x, rep).map { satMul($0, toInt($1)) }]
        case "Pad":
            guard let x else { break }
            guard let pads = n.ints("pads") ?? (ins.count > 1 ? vals[1]?.map({ toInt($0) }) : nil) else { r.issue = "pads unknown"; break }
            if let axesV = ins.count > 3 ? vals[3]?.map({ toInt($0) }) : nil {
                var out = x
                for (i, a0) in axesV.enumerated() { let a = axis(a0, x.count); if a >= 0 && a < x.count { out[a] = out[a] &+ pads[safe: i, 0] &+ pads[safe: i + axesV.count, 0] } }
                r.shapes = [out]
            } else {
                guard pads.count == 2 * x.count else { r.issue = "pads length \(pads.count) for rank \(x.count)"; break }
                r.shapes = [x.enumerated().map { $0.element &+ pads[$0.offset] &+ pads[$0.offset + x.count] }]
            }
        case "ConstantOfShape":
            guard let s = vals.first ?? nil else { r.issue = "shape input unknown"; break }
            let shape = s.map { toInt($0) }
            r.shapes = [shape]
            let t = n.tensor("value")
            r.bits = [(t?.elementBits ?? 32, t?.isFloat ?? true)]
            if volume(shape) >= 0 && volume(shape) <= OpGraph.maxConstElements { r.values = [Array(repeating: t?.values?.first ?? 0, count: volume(shape))] }
        case "Range":
            guard vals.count == 3, let s = vals[0]?.first, let l = vals[1]?.first, let d = vals[2]?.first, d != 0 else { r.issue = "range bounds unknown"; break }
            let count = max(toInt(((l - s) / d).rounded(.up)), 0)
            r.shapes = [[count]]
            if count <= OpGraph.maxConstElements { r.values = [(0..<count).map { s + Double($0) * d }] }
        case "TopK":
            guard let x, ins.count > 1, let k = vals[1]?.first else { r.issue = "k unknown"; break }
            let a = axis(n.int("axis") ?? -1, x.count)
            var o = x; if a >= 0 && a < x.count { o[a] = toInt(k) }
            r.shapes = [o, o]; r.bits = [nil, (64, false)]
        case "LSTM", "GRU", "RNN":
            guard let x, x.count == 3, ins.count > 2, let w = ins[1], w.count == 3 else { r.issue = "needs X and W shapes"; break }
            let gates = n.opType == "LSTM" ? 4 : (n.opType == "GRU" ? 3 : 1)
            let h = n.int("hidden_size") ?? (w[1] / gates)
            let layout = n.int("layout") ?? 0
            let (seq, batch) = layout == 0 ? (x[0], x[1]) : (x[1], x[0])
            let dirs = w[0]
            r.shapes = layout == 0 ? [[seq, dirs, batch, h], [dirs, batch, h], [dirs, batch, h]]
                                   : [[batch, seq, dirs, h], [batch, dirs, h], [batch, dirs, h]]
        case "DepthToSpace":
            guard let x, x.count == 4, let b = n.int("blocksize"), b > 0 else { break }
            r.shapes = [[x[0], x[1] / satMul(b, b), x[2] &* b, x[3] &* b]]
        case "SpaceToDepth":
            guard let x, x.count == 4, let b = n.int("blocksize"), b > 0 else { break }
            r.shapes = [[x[0], satMul(satMul(x[1], b), b), x[2] / b, x[3] / b]]
        case "OneHot":
            guard let idx = x, ins.count > 1, let depth = vals[1]?.first else { break }
            let a = n.int("axis") ?? -1
            var o = idx; let pos = a < 0 ? idx.count + 1 + a : a
            o.insert(toInt(depth), at: min(max(pos, 0), o.count)); r.shapes = [o]
        default:
            r.issue = "no shape rule for \(n.domain.isEmpty ? "" : n.domain + "::")\(n.opType)"
        }
        return r
    }

    /// Builds a small constant by mapping each output coordinate to an input coordinate.
    static func gatherValues(_ v: [Double], inShape: [Int], outShape: [Int], _ source: ([Int]) -> [Int]) -> [Double]? {
        let n = volume(outShape)
        guard n <= OpGraph.maxConstElements else { return nil }
        var strides = Array(repeating: 1, count: inShape.count)
        for d in stride(from: inShape.count - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * inShape[d + 1] }
        var out: [Double] = []; out.reserveCapacity(n)
        var coord = Array(repeating: 0, count: outShape.count)
        for _ in 0..<n {
            let src = source(coord)
            var flat = 0
            for d in src.indices { guard src[d] >= 0 && src[d] < inShape[d] else { return nil }; flat += src[d] * strides[d] }
            out.append(v[flat])
            var d = outShape.count - 1
            while d >= 0 { coord[d] += 1; if coord[d] < outShape[d] { break }; coord[d] = 0; d -= 1 }
        }
        return out
    }

    static func isIntegerBits(_ b: Int) -> Bool { b == 64 || b == 32 } // only used with known-int shape math

    /// Ops whose output has the input's shape (unary element-wise, activations, normalizations).
    static let sameShapeOps: Set<String> = ["Identity", "Relu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Abs", "Neg", "Reciprocal", "Erf", "Gelu",
             "HardSigmoid", "HardSwish", "LeakyRelu", "Elu", "Selu", "Celu", "Softplus", "Softsign", "Mish", "Floor", "Ceil",
             "Round", "Sign", "Not", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh",
             "Softmax", "LogSoftmax", "Hardmax", "LRN", "BatchNormalization", "InstanceNormalization", "GroupNormalization",
             "CumSum", "IsNaN", "IsInf", "QuantizeLinear", "DequantizeLinear", "Trilu", "Shrink", "ThresholdedRelu",
             "Swish", "FastGelu", "QuickGelu", "BiasGelu", "MeanVarianceNormalization", "LpNormalization", "Clip", "PRelu",
             "RotaryEmbedding", "CumProd", "BitwiseNot"]
    /// Element-wise ops with numpy broadcasting.
    static let broadcastOps: Set<String> = ["Add", "Sub", "Mul", "Div", "Pow", "Mod", "Max", "Min", "Sum", "Mean", "Equal", "Less", "Greater",
             "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor"]

    static func inferSameShape(_ n: OpNode, _ x: [Int]?, _ vals: [[Double]?], _ r: inout NodeResult) {
        r.shapes = [x]
        if let v = vals.first ?? nil {
            switch n.opType {
            case "Identity": r.values = [v]
            case "Neg": r.values = [v.map { -$0 }]
            case "Abs": r.values = [v.map { abs($0) }]
            case "Floor": r.values = [v.map { $0.rounded(.down) }]
            case "Ceil": r.values = [v.map { $0.rounded(.up) }]
            case "Sqrt": r.values = [v.map { $0.squareRoot() }]
            case "Not": r.values = [v.map { $0 == 0 ? 1 : 0 }]      // If conditions are often negated shape tests
            default: break
            }
        }
        if n.traits.producesBool || n.opType == "QuantizeLinear" { r.bits = [(8, false)] }
        else if n.opType == "DequantizeLinear" { r.bits = [(32, true)] }
    }

    static func inferBroadcast(_ n: OpNode, _ ins: ShapesView, _ vals: [[Double]?], _ bits: Int, _ r: inout NodeResult) {
        r.shapes = [broadcast(ins)]
        if n.traits.producesBool { r.bits = [(8, false)] }
        if ins.count == 2, let a = vals[0], let b = vals[1], let sa = ins[0], let sb = ins[1] {
            let f: ((Double, Double) -> Double)?
            switch n.opType {
            case "Add": f = { $0 + $1 }
            case "Sub": f = { $0 - $1 }
            case "Mul": f = { $0 * $1 }
            case "Div": f = { b in { a, c in c == 0 ? 0 : (b ? (a / c).rounded(.towardZero) : a / c) } }(isIntegerBits(bits) && n.opType == "Div")
            case "Max": f = { max($0, $1) }
            case "Min": f = { min($0, $1) }
            case "Equal": f = { $0 == $1 ? 1 : 0 }
            case "Less": f = { $0 < $1 ? 1 : 0 }
            case "Greater": f = { $0 > $1 ? 1 : 0 }
            case "LessOrEqual": f = { $0 <= $1 ? 1 : 0 }
            case "GreaterOrEqual": f = { $0 >= $1 ? 1 : 0 }
            case "And": f = { $0 != 0 && $1 != 0 ? 1 : 0 }
            case "Or": f = { $0 != 0 || $1 != 0 ? 1 : 0 }
            case "Xor": f = { ($0 != 0) != ($1 != 0) ? 1 : 0 }
            case "Pow": f = { pow($0, $1) }
            case "Mod": f = { $1 == 0 ? 0 : $0.truncatingRemainder(dividingBy: $1) }
            default: f = nil
            }
            if let f { r.values = [evalBinary(a, sa, b, sb, f)] }
        }
    }

    /// Spatial output size for Conv/Pool (explicit pads, auto_pad, ceil_mode, dilations).
    static func convOutput(_ input: [Int], kernel k: [Int], node n: OpNode) -> [Int] {
        let sp = input.count
        let s = n.ints("strides") ?? Array(repeating: 1, count: sp)
        let d = n.ints("dilations") ?? Array(repeating: 1, count: sp)
        let p = n.ints("pads") ?? Array(repeating: 0, count: 2 * sp)
        let ceilMode = (n.int("ceil_mode") ?? 0) != 0
        let autoPad = n.string("auto_pad") ?? "NOTSET"
        var out: [Int] = []
        for i in 0..<sp {
            let st = max(s[safe: i, 1], 1), ke = (k[safe: i, 1] - 1) * d[safe: i, 1] + 1
            switch autoPad {
            case "SAME_UPPER", "SAME_LOWER": out.append((input[i] + st - 1) / st)
            case "VALID": out.append(max(0, (input[i] - ke) / st + 1))
            default:
                let num = input[i] + p[safe: i, 0] + p[safe: i + sp, 0] - ke
                var o = (ceilMode ? (num + st - 1) / st : num / st) + 1
                // ceil mode: the last window must start inside the input or left padding
                if ceilMode && (o - 1) * st >= input[i] + p[safe: i, 0] { o -= 1 }
                out.append(max(o, 0))
            }
        }
        return out
    }

    /// (bits, isFloat) of an ONNX TensorProto.DataType code.
    public static func onnxTypeInfo(_ code: Int) -> (Int, Bool) {
        switch code {
        case 1: return (32, true); case 2, 3: return (8, false); case 4, 5: return (16, false); case 6, 12: return (32, false)
        case 7, 13: return (64, false); case 9: return (8, false); case 10, 16: return (16, true); case 11: return (64, true)
        case 14: return (64, true); case 15: return (128, true); case 17, 18, 19, 20, 24: return (8, true)
        case 21, 22: return (4, false); case 23: return (4, true); case 25, 26: return (2, false)
        default: return (32, true)
        }
    }
}

/// A parsed einsum equation (explicit `->` form, or implicit output in alphabetical order).
struct EinsumSpec {
    var inputs: [[Character]]
    var output: [Character]
    init?(_ equation: String) {
        let eq = equation.replacingOccurrences(of: " ", with: "")
        if eq.contains("...") { return nil }
        let parts = eq.components(separatedBy: "->")
        inputs = parts[0].split(separator: ",", omittingEmptySubsequences: false).map { Array($0) }
        if parts.count > 1 { output = Array(parts[1]) } else {
            var counts: [Character: Int] = [:]
            for s in inputs { for c in s { counts[c, default: 0] += 1 } }
            output = counts.filter { $0.value == 1 }.keys.sorted()
        }
    }
    func sizes(_ shapes: [[Int]]) -> [Character: Int] {
        var m: [Character: Int] = [:]
        for (s, sh) in zip(inputs, shapes) { for (c, d) in zip(s, sh) { m[c] = max(m[c] ?? 1, d) } }
        return m
    }
    func outputShape(_ shapes: [[Int]]) -> [Int] { let m = sizes(shapes); return output.map { m[$0] ?? 1 } }
    /// Product of every distinct index size: the multiply count of a direct evaluation.
    func macs(_ shapes: [[Int]]) -> Int { sizes(shapes).values.reduce(1) { satMul($0, $1) } }
}

/// A constant's value as an Int: NaN → 0, out-of-range values clamped (constants come from
/// files, and `Int(Double)` traps on those).
@inline(__always) func toInt(_ d: Double) -> Int {
    if d.isNaN { return 0 }
    if d >= 9.2e18 { return Int.max }
    if d <= -9.2e18 { return Int.min }
    return Int(d)
}

/// Saturating multiply: shapes come from user files, so overflow must not trap.
@inline(__always) func satMul(_ a: Int, _ b: Int) -> Int {
    let (r, o) = a.multipliedReportingOverflow(by: b)
    return o ? Int.max : r
}

extension Array where Element == Int {
    subscript(safe i: Int, fallback: Int) -> Int { i >= 0 && i < count ? self[i] : fallback }
}

/// The shapes of a node's inputs or outputs read in place from the shape table, so no array
/// is built per node.
struct ShapesView: RandomAccessCollection {
    let ids: [Int]
    let shapes: [[Int]?]
    var startIndex: Int { 0 }
    var endIndex: Int { ids.count }
    subscript(i: Int) -> [Int]? { let v = ids[i]; return v >= 0 ? shapes[v] : nil }
    subscript(safe i: Int) -> [Int]? { i >= 0 && i < ids.count ? self[i] : nil }
}
