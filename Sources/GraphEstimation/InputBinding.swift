// How a user's `batch=`, dimension bindings (`seq=512`) and `shape=` overrides apply to a
// graph's inputs, checked before any shape is inferred: every input gets a concrete shape or
// the estimate fails with a message that names the input and suggests a syntax that works.
// Nothing the user gives is silently ignored: an override naming no input, an override of the
// wrong rank, a `batch=` that binds no dimension, are all errors.

import GraphIR

/// The concrete input shapes and symbol bindings of one estimate.
public struct InputBinding: Sendable, Hashable {
    /// Symbol bindings in effect: the user's, plus the leading-dimension symbols `batch=` bound.
    public var bindings: [String: Int]
    /// Concrete shape per non-constant graph input, by value index.
    public var shapes: [Int: [Int]]
    /// What `batch=` did that a reader might not expect (a leading dim with another name bound,
    /// an input whose fixed leading dim it left alone), one line each.
    public var notes: [String]
    /// Samples per run of the graph: `batch=` when given, else the leading dimension of the
    /// first graph input of rank ≥ 1 (1 when there is none). Throughput is this over latency.
    public var batchSize: Int

    /// Resolves the inputs of `g`.
    /// - Parameters:
    ///   - batch: binds the leading dimension of every graph input, whatever its name (`N`,
    ///     `DynamicDimension.0`, or unnamed `?`); an input whose leading dimension is fixed keeps
    ///     it, and when no input has a dimension `batch` can bind, it is an error.
    ///   - bindings: symbol -> size.
    ///   - inputShapes: full shapes by input name; they must name non-constant graph inputs and
    ///     match the declared rank.
    /// - Throws: `EstimationError.badInput` / `.unboundSymbol` / `.badBinding`, naming the input.
    public static func resolve(_ g: OpGraph, batch: Int? = nil, bindings: [String: Int] = [:],
                               inputShapes: [String: [Int]] = [:]) throws -> InputBinding {
        let inputs = g.inputs.filter { $0 >= 0 && $0 < g.values.count && !g.values[$0].isConstant }
        try checkOverrides(g, inputs, bindings: bindings, inputShapes: inputShapes)
        var out = InputBinding(bindings: bindings, shapes: [:], notes: [], batchSize: 1)
        var unnamedLeading = Set<Int>()
        var effectiveShapes = inputShapes
        if let b = batch {
            (unnamedLeading, effectiveShapes) = try applyBatch(b, g, inputs, bindings: bindings, inputShapes: inputShapes, to: &out)
        }
        try concreteShapes(g, inputs, batch: batch, unnamedLeading: unnamedLeading, overrides: effectiveShapes, to: &out)
        if batch == nil, let first = inputs.lazy.compactMap({ out.shapes[$0] }).first(where: { !$0.isEmpty }) {
            out.batchSize = max(first[0], 1)
        }
        return out
    }


    /// `shape=` overrides must name a non-constant input, match its declared rank, and agree with
    /// any binding of the dims they give.
    static func checkOverrides(_ g: OpGraph, _ inputs: [Int], bindings: [String: Int], inputShapes: [String: [Int]]) throws {
        for (name, shape) in inputShapes.sorted(by: { $0.key < $1.key }) {
            guard let i = inputs.first(where: { g.values[$0].name == name }) else {
                let list = inputs.map { "\"\(g.values[$0].name)\" " + (declared(g.values[$0]).map(render) ?? "(no declared shape)") }
                throw EstimationError.badInput(option: "shape", "shape= names \"\(name)\", which is not a graph input; the inputs are "
                    + (list.isEmpty ? "none" : list.joined(separator: ", ")))
            }
            if let declared = declared(g.values[i]), declared.count != shape.count {
                throw EstimationError.badInput(option: "shape", "shape= gives input \"\(name)\" rank \(shape.count) (\(shape.map(String.init).joined(separator: "x"))), "
                    + "but it is declared with rank \(declared.count): \(render(declared))")
            }
            // a binding of a dim that shape= also gives must agree, or one of them would be ignored
            for (k, d) in (declared(g.values[i]) ?? []).enumerated() {
                if case .symbolic(let sym) = d, let b = bindings[sym], b != shape[k] {
                    throw EstimationError.badInput(option: "shape", "\(sym)=\(b) disagrees with shape=\(quoted(name)):\(shape.map(String.init).joined(separator: "x")), "
                        + "which gives dim \(k) (\(sym)) of \"\(name)\" as \(shape[k]); give one of them")
                }
            }
        }
    }

    /// Applies `batch=` (see `resolve`): records the leading-dim symbols it binds in `out`, and
    /// returns the inputs whose unnamed leading dim it sets and the overrides with their leading
    /// dim set to the batch.
    static func applyBatch(_ b: Int, _ g: OpGraph, _ inputs: [Int], bindings: [String: Int], inputShapes: [String: [Int]],
                           to out: inout InputBinding) throws -> (unnamedLeading: Set<Int>, overrides: [String: [Int]]) {
        let names = inputs.map { g.values[$0].name }
        var unnamedLeading = Set<Int>()
        var bound: [String] = [], fixed: [(input: Int, size: Int64)] = []
        var boundInputs = Set<Int>()
        var kept: [String] = []
        var overrides = inputShapes
        if bindings["batch"] == nil, g.symbols.contains("batch") { out.bindings["batch"] = b }
        for i in inputs {
            let v = g.values[i]
            // shape= vouches for the layout; batch= sets its leading dim (`sweep batch=1,8 shape=x:1x3x224x224`)
            if let s = inputShapes[v.name] {
                if !s.isEmpty { overrides[v.name] = [b] + s.dropFirst(); boundInputs.insert(i) }
                continue
            }
            guard let dims = declared(v), let lead = dims.first else { continue }     // scalars have no batch
            // a dim named `batch` says where the batch is (`[seq, batch, hidden]`)
            if dims.contains(.symbolic("batch")) { boundInputs.insert(i); continue }
            switch lead {
            case .symbolic(let s):
                if let given = bindings[s] {
                    // the user bound this dim by name: that wins
                    if given == b { boundInputs.insert(i) } else { kept.append("input \"\(v.name)\" keeps \(s)=\(given) as its leading dimension") }
                    continue
                }
                out.bindings[s] = b
                if s != "batch" { bound.append("\"\(v.name)\" dim 0 (\(s))") }
                boundInputs.insert(i)
            case .unknown:
                unnamedLeading.insert(i)
                bound.append("\"\(v.name)\" dim 0 (unnamed)")
                boundInputs.insert(i)
            case .known(let k):
                if k == Int64(b) { boundInputs.insert(i) } else { fixed.append((i, k)) }
            }
        }
        // an input whose leading dim is fixed may still carry the batch elsewhere (`state[2,batch,128]`)
        let batchSymbols = Set(out.bindings.filter { $0.value == b && bindings[$0.key] == nil }.map(\.key))
        fixed.removeAll { f in
            (declared(g.values[f.input]) ?? []).contains { if case .symbolic(let s) = $0 { return batchSymbols.contains(s) } else { return false } }
        }
        if boundInputs.isEmpty { throw unbindableBatch(b, g, fixed: fixed.map(\.input), kept: kept, names: names, bindings: bindings) }
        if !bound.isEmpty { out.notes.append("batch=\(b) bound " + bound.joined(separator: ", ")) }
        out.notes += kept
        for f in fixed {
            let v = g.values[f.input]
            out.notes.append("input \"\(v.name)\" keeps its fixed leading dimension \(f.size) \(render(declared(v) ?? [])); batch=\(b) does not change it")
        }
        out.batchSize = b
        return (unnamedLeading, overrides)
    }

    /// Why `batch=` binds nothing: each input's fixed leading dimension, with the `shape=` that
    /// confirms it is the batch, or the user bindings that took the leading dims.
    static func unbindableBatch(_ b: Int, _ g: OpGraph, fixed: [Int], kept: [String], names: [String], bindings: [String: Int]) -> EstimationError {
        var why = fixed.map { i -> String in
            let v = g.values[i]
            var example = (declared(v) ?? []).map { d -> String in d.value.map(String.init) ?? String(bindings[d.description] ?? 1) }
            if !example.isEmpty { example[0] = String(b) }
            return "input \"\(v.name)\" has a fixed leading dimension \(declared(v)?.first?.description ?? "?") \(render(declared(v) ?? [])); "
                + "the graph may depend on that size (a Reshape to a fixed shape), so confirm the leading dimension is the batch "
                + "by giving the input's shape: shape=\(quoted(v.name)):\(example.joined(separator: "x"))"
        } + kept
        if why.isEmpty { why = [names.isEmpty ? "the graph has no inputs" : "no input has a leading dimension (\(names.joined(separator: ", ")))"] }
        return EstimationError.badInput(option: "batch", "batch=\(b) binds no dimension: " + why.joined(separator: "; "))
    }

    /// Gives every input a concrete shape in `out`, or throws one error that lists every input
    /// needing `shape=` (or every symbol still unbound).
    static func concreteShapes(_ g: OpGraph, _ inputs: [Int], batch: Int?, unnamedLeading: Set<Int>, overrides: [String: [Int]],
                               to out: inout InputBinding) throws {
        var unnamed: [(input: ValueDesc, dims: [Dim])] = []
        var firstUnbound: (symbol: String, value: String)?
        var unboundNames: [String] = []
        for i in inputs {
            let v = g.values[i]
            if let s = overrides[v.name] { out.shapes[i] = s; continue }
            guard let dims = declared(v) else {
                throw EstimationError.badInput(option: "shape", "input \"\(v.name)\" has no declared shape; give it, e.g. shape=\(quoted(v.name)):1x3x224x224")
            }
            var shape: [Int] = [], hasUnnamed = false
            var unbound: (symbol: String, leading: Bool)?
            for (k, d) in dims.enumerated() {
                switch d {
                case .known(let n): shape.append(Int(clamping: n))
                case .symbolic(let s):
                    if let n = out.bindings[s] { shape.append(n) } else { shape.append(-1); unbound = unbound ?? (s, k == 0) }
                case .unknown:
                    if k == 0, unnamedLeading.contains(i), let b = batch { shape.append(b) } else { shape.append(-1); hasUnnamed = true }
                }
            }
            // unnamed dims need shape=, which gives the named ones too; named ones alone can be bound by name
            if hasUnnamed { unnamed.append((v, dims)); continue }
            if let (s, leading) = unbound {
                let lead = leading ? " (its leading dimension: batch= binds it too)" : ""
                if firstUnbound == nil { firstUnbound = (s, "input \"\(v.name)\" \(render(dims))\(lead)") }
                for case .symbolic(let name) in dims where out.bindings[name] == nil && !unboundNames.contains(name) { unboundNames.append(name) }
                continue
            }
            out.shapes[i] = shape
        }
        if !unnamed.isEmpty {
            throw EstimationError.badInput(option: "shape", unnamedMessage(unnamed, batch: batch, bindings: out.bindings))
        }
        if unboundNames.count > 1 {
            throw EstimationError.badInput(option: "", "dimensions \(unboundNames.map { "\"\($0)\"" }.joined(separator: ", ")) of the inputs are symbolic; "
                + "bind them, e.g. " + unboundNames.map { "\($0)=1" }.joined(separator: " "))
        }
        if let (s, value) = firstUnbound { throw EstimationError.unboundSymbol(name: s, value: value) }
    }

    /// `[batch,3,?,?]`.
    static func render(_ dims: [Dim]) -> String { "[" + dims.map(\.description).joined(separator: ",") + "]" }

    /// A name as a cell word: quoted when it holds characters a bare word cannot.
    static func quoted(_ name: String) -> String {
        name.allSatisfy { $0.isLetter || $0.isNumber || "_./-".contains($0) } ? name : "\"\(name)\""
    }

    /// The declared dims of an input as the estimator reads them: exporters write a dynamic
    /// dim as `-1`/`0` or as the name `?`, which no binding can be typed for: those are unnamed.
    static func declared(_ v: ValueDesc) -> [Dim]? {
        v.shape?.map { d in
            switch d {
            case .known(let k) where k <= 0: return .unknown
            case .symbolic(let s) where s.isEmpty || s == "?": return .unknown
            default: return d
            }
        }
    }

    /// The error for inputs with unnamed dims, with `shape=` options that parse and bind.
    static func unnamedMessage(_ inputs: [(input: ValueDesc, dims: [Dim])], batch: Int?, bindings: [String: Int]) -> String {
        var examples: [String] = [], problems: [String] = []
        for (v, dims) in inputs {
            let sizes = dims.enumerated().map { k, d -> String in
                switch d {
                case .known(let n): return String(n)
                case .symbolic(let s): if let n = bindings[s] { return String(n) }; return k == 0 ? "1" : "32"
                case .unknown: return k == 0 ? String(batch ?? 1) : "32"
                }
            }
            let open = dims.indices.filter { k in
                switch dims[k] {
                case .known: return false
                case .symbolic(let s): return bindings[s] == nil
                case .unknown: return !(k == 0 && batch != nil)
                }
            }
            problems.append("\"\(v.name)\" \(render(dims)) (dim \(open.map(String.init).joined(separator: ", ")))")
            examples.append("shape=\(quoted(v.name)):\(sizes.joined(separator: "x"))")
        }
        let one = inputs.count == 1
        return "input\(one ? "" : "s") " + problems.joined(separator: ", ") + " \(one ? "has" : "have") unnamed dimensions that no binding can reach; "
            + "give \(one ? "its full shape" : "their full shapes"), e.g. \(examples.joined(separator: " ")) (the sizes of those dims are examples: put yours)"
    }
}
