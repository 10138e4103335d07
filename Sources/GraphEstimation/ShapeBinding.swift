/// Binding an `OpGraph`'s symbolic shapes to one estimate's inputs: symbols get sizes (from the
/// user's bindings and the inputs' concrete shapes), every value's shape is evaluated, constness
/// is propagated (nodes whose inputs are all constant are folded, as ONNX Runtime and onnx-tool
/// do; their outputs become constants, weights included: the light models build every weight
/// with ConstantOfShape), and what each If/Loop/Scan will do is read from the bound constants.
/// No shape rule lives here: shapes are GraphOps' (see `SymbolicShapes`).
import GraphIR
import GraphOps

/// Evaluation of a graph's shapes for one binding.
public enum ShapeBinding {
    /// Resolves the inputs (see `InputBinding.resolve`) and evaluates every value's shape.
    /// - Throws: `EstimationError.unboundSymbol` / `.badInput` when a graph input cannot get a
    ///   concrete shape, or an override names no input or has the wrong rank.
    public static func run(_ g: OpGraph, bindings: [String: Int] = [:], inputShapes: [String: [Int]] = [:],
                           batch: Int? = nil) throws -> ShapeTable {
        run(g, inputs: try InputBinding.resolve(g, batch: batch, bindings: bindings, inputShapes: inputShapes))
    }

    /// Evaluates every value's shape for resolved inputs.
    public static func run(_ g: OpGraph, inputs binding: InputBinding) -> ShapeTable {
        var sym = g.symbolicShapes
        var symbols = symbolBindings(g, sym, binding)
        let reinfer = symbols.needsBoundInference || (sym.incomplete && !symbols.bindings.isEmpty)
            || undecidedControlFlow(g, sym, symbols.bindings)
        if reinfer, let bound = g.boundShapes(binding) {
            sym = bound
            symbols = symbolBindings(g, sym, binding)
        }
        return table(g, sym, binding, symbols.bindings)
    }

    /// Symbol sizes: the user's bindings, plus each symbol of an input's inferred type at the size
    /// its concrete shape gives. `needsBoundInference` when substitution cannot give the bound
    /// inputs: a fixed dim the shape contradicts, a scalar input given a value.
    static func symbolBindings(_ g: OpGraph, _ sym: SymbolicShapes, _ binding: InputBinding)
        -> (bindings: [String: SymDim], needsBoundInference: Bool) {
        var out: [String: SymDim] = [:]
        for (k, v) in binding.bindings { out[k] = SymDim(Int64(v)) }
        var bound = false
        for (i, s) in binding.shapes where i >= 0 && i < sym.dims.count {
            if ShapeMath.volume(s) == 1, binding.bindings[g.values[i].name] != nil { bound = true }
            guard let dims = sym.dims[i], dims.count == s.count else { bound = true; continue }
            for (k, d) in dims.enumerated() {
                switch d {
                case .fixed(let f): if f != s[k] { bound = true }
                case .unknown: bound = true
                case .expr(let e):
                    if let name = sym.exprs[e].symbolName { if out[name] == nil { out[name] = SymDim(Int64(s[k])) } }
                    else if sym.exprs[e].substituting(out).intValue != Int64(s[k]) { bound = true }
                }
            }
        }
        return (out, bound)
    }

    /// Whether an If condition or a Loop trip count stays unknown after substitution (a concrete
    /// inference of the bound graph may decide it).
    static func undecidedControlFlow(_ g: OpGraph, _ sym: SymbolicShapes, _ b: [String: SymDim]) -> Bool {
        guard !g.regions.isEmpty else { return false }
        for n in g.nodes where n.traits.isControlFlow {
            switch n.opType {
            case "If": if sym.intValues(n.input(0), b)?.first == nil { return true }
            case "Loop":
                if n.input(0) >= 0, sym.intValues(n.input(0), b)?.first == nil, !hasTripBinding(g, n, b) { return true }
            default: break
            }
        }
        return false
    }

    static func hasTripBinding(_ g: OpGraph, _ n: OpNode, _ b: [String: SymDim]) -> Bool {
        (!n.name.isEmpty && b[n.name] != nil) || (n.input(0) >= 0 && b[g.values[n.input(0)].name] != nil)
    }

    /// The table: shapes evaluated, constants and folding propagated in node order, control flow read.
    static func table(_ g: OpGraph, _ sym: SymbolicShapes, _ binding: InputBinding, _ b: [String: SymDim]) -> ShapeTable {
        let n = g.values.count
        let sizes = sym.evaluate(b)
        var t = ShapeTable(shapes: Array(repeating: nil, count: n), isConstant: Array(repeating: false, count: n),
                           elementBits: g.values.map(\.elementBits), isFloat: g.values.map(\.isFloat),
                           folded: Array(repeating: false, count: g.nodes.count), issues: [])
        t.inputNotes = binding.notes
        t.batchSize = binding.batchSize
        for v in 0..<n {
            t.shapes[v] = v < sym.dims.count ? sym.shape(v, sizes) : nil
            if t.elementBits[v] == 0, v < sym.elementTypes.count, let e = sym.elementTypes[v], let bits = e.bitWidth {
                t.elementBits[v] = bits; t.isFloat[v] = e.isFloatingPoint
            }
            if g.values[v].isConstant {
                t.isConstant[v] = true
                if t.shapes[v] == nil { t.shapes[v] = g.values[v].shape.flatMap(knownDims) }
            }
        }
        for (i, s) in binding.shapes where i >= 0 && i < n { t.shapes[i] = s }
        var ownerRegions: [Int: [Int]] = [:]
        for (r, reg) in g.regions.enumerated() { ownerRegions[reg.owner, default: []].append(r) }
        for ni in g.nodes.indices {
            let node = g.nodes[ni]
            var anyPresent = false, allConst = true
            for v in node.inputs where v >= 0 { anyPresent = true; if !t.isConstant[v] { allConst = false; break } }
            allConst = allConst && anyPresent
            let firstKnown = node.inputs.first.map { $0 >= 0 && t.shapes[$0] != nil } ?? false
            if node.opType == "Constant" || (node.opType == "Shape" && firstKnown) { allConst = true }
            if node.traits.neverFolded { allConst = false }
            if node.traits.isControlFlow {
                controlFlow(node, ni, (ownerRegions[ni] ?? []).map { g.regions[$0] }, g, sym, b, &t)
            }
            var issue: String?
            for (k, o) in node.outputs.enumerated() where o >= 0 {
                t.isConstant[o] = allConst
                guard t.shapes[o] == nil else { continue }
                let unbound = o < sym.dims.count ? sym.unboundSymbols(o, b) : []
                if let p = sym.problems[ni] { issue = issue ?? p }
                else if !unbound.isEmpty {
                    issue = issue ?? "output \(k) (\(g.values[o].name)) has dims over \(unbound.map { "`\($0)`" }.joined(separator: ", ")), "
                        + "which no binding sets at estimate time; bind \(unbound.map { "\($0)=N" }.joined(separator: " "))"
                } else { issue = issue ?? "output \(k) (\(g.values[o].name)) has unknown shape" }
            }
            t.folded[ni] = allConst
            if let m = issue { t.issues.append((ni, "\(node.opType) \"\(node.name)\": \(m)")) }
        }
        t.elementCounts = t.shapes.map { $0.map(ShapeMath.volume) ?? -1 }
        return t
    }

    /// Declared dims when all are fixed sizes.
    static func knownDims(_ dims: [Dim]) -> [Int]? {
        var out: [Int] = []
        for d in dims { guard case .known(let k) = d, k >= 0 else { return nil }; out.append(Int(clamping: k)) }
        return out
    }

    /// What an If/Loop/Scan will do under this binding (`t.controlFlow`). A Loop whose trip count
    /// only a binding gives (`loop=5`) stacks its scan outputs that many times.
    static func controlFlow(_ n: OpNode, _ ni: Int, _ regs: [ControlRegion], _ g: OpGraph, _ sym: SymbolicShapes,
                            _ b: [String: SymDim], _ t: inout ShapeTable) {
        var facts = ControlFlowFacts()
        switch n.opType {
        case "If":
            if let c = sym.intValues(n.input(0), b)?.first { facts.condition = c != 0 }
        case "Loop":
            if n.input(0) >= 0, let m = sym.intValues(n.input(0), b)?.first {
                facts.trips = Int(clamping: max(m, 0)); facts.tripSource = "M"
            } else if !n.name.isEmpty, let v = b[n.name]?.intValue {
                facts.trips = Int(clamping: v); facts.tripSource = "binding \(n.name)"
            } else if n.input(0) >= 0, let v = b[g.values[n.input(0)].name]?.intValue {
                facts.trips = Int(clamping: v); facts.tripSource = "binding \(g.values[n.input(0)].name)"
            }
            // a constant false condition runs no iteration
            if n.input(1) >= 0, sym.intValues(n.input(1), b)?.first == 0 { facts.trips = 0; facts.tripSource = "cond is false" }
            let carried = max(n.inputs.count - 2, 0)
            if let body = regs.first(where: { $0.kind == .loopBody }) {
                for (k, o) in n.outputs.enumerated() where k >= carried && o >= 0 && t.shapes[o] == nil {
                    let bo = 1 + k < body.outputs.count ? body.outputs[1 + k] : -1
                    if bo >= 0 && bo < t.shapes.count, let s = t.shapes[bo] { t.shapes[o] = [facts.trips ?? 1] + s }
                }
            }
        case "Scan":
            let m = n.int("num_scan_inputs") ?? 0
            let states = max(n.inputs.count - m, 0)
            let first = n.input(states)
            if m > 0, first >= 0, let s = t.shapes[first] {
                let a = ShapeMath.axis((n.ints("scan_input_axes") ?? [])[safe: 0, 0], s.count)
                if a >= 0 && a < s.count { facts.trips = s[a]; facts.tripSource = "scan input axis \(a)" }
            }
        default: break
        }
        t.controlFlow[ni] = facts
    }
}
