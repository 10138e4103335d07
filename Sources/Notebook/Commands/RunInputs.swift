// Inputs of `run` and `compare`: which words are graph inputs (`x=in.npy`, `x=inputs.npz`,
// `x=random`, `x=[1, 2]`), which bind dims (`batch=1`, `seq=128`, `shape=x:1x3x48x192`), the
// shape each random input gets (or which dim is unbound), the memory check before anything is
// allocated, and the translation of runtime errors into cell errors.

import Foundation
import GraphFormats
import GraphIR
import GraphRuntime

enum RunInputs {
    /// Option keys `run` and `compare` share.
    static let sharedOptions: [Parameter] = [
        Parameter("seed", .int, "seed of the random inputs", default: "0"),
        Parameter("batch", .int, "binds the leading dimension of every input whose leading dim is not a fixed number"),
        EstimationCommands.shapeOption,
        Parameter("threads", .int, "threads for matrix products, direct convs, Winograd transforms and fully connected layers (same numbers as one where OpenBLAS runs its AVX-512 kernels)", default: "1"),
    ]

    /// The graph inputs that need a value (declared inputs without an initializer).
    static func runtimeInputs(_ graph: Graph) -> [ValueInfo] {
        let weights = Set(graph.initializers.map(\.name))
        return graph.inputs.filter { !weights.contains($0.name) }
    }

    /// Symbolic dim names of the graph inputs (what `DIM=N` may bind).
    static func dimNames(_ graph: Graph) -> [String] {
        var names: [String] = []
        for vi in runtimeInputs(graph) {
            for d in vi.type?.shape?.dims ?? [] {
                if case .symbolic(let s) = d, s != "?", !names.contains(s) { names.append(s) }
            }
        }
        return names
    }

    /// The input tensors for `graph` from the command's words.
    static func tensors(for graph: Graph, _ session: Session, _ inv: Invocation) throws -> [String: RuntimeTensor] {
        let inputs = runtimeInputs(graph)
        let inputNames = inputs.map(\.name)
        let dims = dimNames(graph)
        var specs: [String: Argument] = [:]
        var bindings: [String: Int] = [:]
        for (key, arg) in inv.extra {
            if inputNames.contains(key) { specs[key] = arg; continue }
            if dims.contains(key) {
                // Free-form options arrive as written (`seq=8` is the word "8").
                let size: Int? = switch arg.value {
                case .int(let v): v
                case .string(let t): Int(t.trimmingCharacters(in: .whitespaces))
                default: nil
                }
                guard let v = size, v > 0, v <= EstimationCommands.maxDimension else {
                    throw CellError(.value, "\(key) must be a positive integer up to \(Format.grouped(EstimationCommands.maxDimension))", at: arg.location)
                }
                bindings[key] = v
                continue
            }
            let options = CommandTable.standard[inv.name]?.options.map(\.name) ?? []
            let hint = Suggest.closest(to: key, in: options + inputNames + dims).map { "; did you mean '\($0)'?" } ?? ""
            throw CellError(.command, "'\(key)' is not an input, a dimension or an option of \(inv.name)\(hint) "
                + "(inputs: \(inputNames.joined(separator: ", ")); dimensions: \(dims.isEmpty ? "none" : dims.joined(separator: ", ")))",
                at: arg.location)
        }
        let shapes = try EstimationCommands.inputShapes(inv)
        for name in shapes.keys where !inputNames.contains(name) {
            throw inv.error(.value, "shape= names '\(name)', which is not an input of the graph (inputs: \(inputNames.joined(separator: ", ")))", at: "shape")
        }
        let seed = UInt64(truncatingIfNeeded: inv.int("seed") ?? 0)
        var out: [String: RuntimeTensor] = [:]
        var npzCache: [URL: [Tensor]] = [:]
        for vi in inputs {
            let spec = specs[vi.name]
            let text: String? = { if case .string(let s)? = spec?.value { return s } else { return nil } }()
            let at = spec?.location ?? inv.location
            if let spec, text == nil {
                // A literal: [1, 2, 3] or a number, typed as the input declares.
                let t = try LiteralTensor.tensor(from: spec.value, name: vi.name, elementType: vi.type?.elementType, inv, at: vi.name)
                out[vi.name] = try runtime(t, vi.name, at)
            } else if let file = text, file != "random" {
                let url = session.resolvePath(file)
                let tensor: Tensor
                do {
                    if url.pathExtension.lowercased() == "npz" {
                        let members = try npzCache[url] ?? NPZ.read(url)
                        npzCache[url] = members
                        guard let m = members.first(where: { $0.name == vi.name }) ?? (members.count == 1 ? members.first : nil) else {
                            throw CellError(.lookup, "input '\(vi.name)': '\(file)' has no array named '\(vi.name)' (it has: "
                                + "\(members.map(\.name).joined(separator: ", ")))", at: at)
                        }
                        tensor = m
                    } else {
                        tensor = try NPYReader.read(url, name: vi.name)
                    }
                } catch let e as NPYError {
                    throw CellError(.file, "input '\(vi.name)': cannot read '\(file)': \(e.reason)", at: at)
                }
                out[vi.name] = try runtime(tensor, vi.name, at)
            } else {
                let shape = try randomShape(vi, given: shapes[vi.name], batch: inv.int("batch"), bindings: bindings, inv)
                guard let type = vi.type?.elementType else {
                    throw CellError(.value, "input '\(vi.name)' declares no element type; give it a .npy file", at: at)
                }
                try checkMemory(bytes: shape.reduce(RuntimeElement.size(type == .float16 ? .float : type) ?? 8) { a, d in
                    a.multipliedReportingOverflow(by: d).overflow ? Int.max : a * d }, what: "random input '\(vi.name)' of shape \(shape)", inv)
                do { out[vi.name] = try RandomInput.tensor(type, shape: shape, seed: seed, name: vi.name) } catch let e as RuntimeError {
                    throw inv.error(.value, e.description)
                }
            }
        }
        return out
    }

    static func runtime(_ t: Tensor, _ name: String, _ at: SourceLocation) throws -> RuntimeTensor {
        do { return try RuntimeTensor.from(t).tensor.copied() } catch {
            throw CellError(.value, "input '\(name)': \(error)", at: at)
        }
    }

    /// The shape of a random input: `shape=` when given, else the declared dims with `batch=`
    /// and named bindings filled in; an unbound dim is an error naming it.
    static func randomShape(_ vi: ValueInfo, given: [Int]?, batch: Int?, bindings: [String: Int], _ inv: Invocation) throws -> [Int] {
        if let given { return given }
        guard let dims = vi.type?.shape?.dims else {
            throw inv.error(.value, "input '\(vi.name)' has no declared shape; give shape=\(vi.name):1x3x224x224 or a .npy file")
        }
        var shape: [Int] = []
        var unbound: [String] = []
        for (i, d) in dims.enumerated() {
            switch d {
            case .known(let v) where v > 0: shape.append(Int(v))
            case .symbolic(let s) where bindings[s] != nil: shape.append(bindings[s] ?? 1)
            default:
                if i == 0, let batch { shape.append(batch); continue }
                if case .symbolic(let s) = d, s != "?" { unbound.append("'\(s)' (dim \(i))") } else { unbound.append("dim \(i) (unnamed)") }
                shape.append(0)
            }
        }
        if !unbound.isEmpty {
            let example = dims.enumerated().map { i, d -> String in
                if case .known(let v) = d, v > 0 { return String(v) }
                return i == 0 ? "1" : "N"
            }.joined(separator: "x")
            throw inv.error(.value, "input '\(vi.name)' has unbound \(unbound.joined(separator: ", ")): give a value for each "
                + "(\(dimNamesHint(dims))shape=\(vi.name):\(example), batch=N for the leading dim) or a .npy file")
        }
        return shape
    }

    static func dimNamesHint(_ dims: [Dim]) -> String {
        let named = dims.compactMap { d -> String? in if case .symbolic(let s) = d, s != "?" { return "\(s)=N" } else { return nil } }
        return named.isEmpty ? "" : named.joined(separator: " ") + ", or "
    }

    /// Refuses `bytes` of new memory when the machine does not have them free.
    static func checkMemory(bytes: Int, what: String, _ inv: Invocation) throws {
        let available = Interpreter.availableMemory()
        if bytes < 0 || UInt64(bytes) > available {
            throw inv.error(.value, "\(what) needs \(bytes == Int.max ? "more than addressable" : Format.bytes(Double(bytes))), "
                + "more than the \(Format.bytes(Double(available))) this machine has available; nothing was run")
        }
    }

    /// Refuses a run whose estimated activation memory exceeds what is free.
    static func checkPlan(_ interpreter: Interpreter, shapes: [String: [Int]], keepAll: Bool, _ inv: Invocation, graph: String) throws -> MemoryEstimate {
        let estimate: MemoryEstimate
        do { estimate = try interpreter.estimateMemory(inputShapes: shapes, keepAll: keepAll) } catch let e as RuntimeError {
            throw cellError(e, inv, graph: graph)
        }
        let need = keepAll ? max(estimate.peakBytes, estimate.totalBytes) : estimate.peakBytes
        try checkMemory(bytes: need, what: "running \(graph) on \(shapeText(shapes)) (estimated peak activation memory"
            + (estimate.largestValue.map { "; the largest value, '\($0)', alone is \(Format.bytes(Double(estimate.largestBytes)))" } ?? "") + ")", inv)
        return estimate
    }

    static func shapeText(_ shapes: [String: [Int]]) -> String {
        shapes.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.map(String.init).joined(separator: "×"))" }.joined(separator: ", ")
    }

    /// A runtime error as a cell error that says which graph, input or node.
    static func cellError(_ e: RuntimeError, _ inv: Invocation, graph: String) -> CellError {
        if e.message.hasPrefix("run cancelled") { return CellError(.interrupt, "\(inv.name) interrupted by the user at node '\(e.node ?? "?")'") }
        let kind: CellError.Kind = e.input != nil ? .value : .model
        return inv.error(kind, "cannot run \(graph): \(e.description)")
    }
}
