/// Control flow: If and SequenceMap here, Loop and Scan in `LoopScan.swift`. Each body runs as a
/// model of its own through a nested `Interpreter` (built once per body, plans cached per input
/// shapes), with the body's outer-scope references fed as extra inputs: the plan hands them to
/// the step after the node's own inputs (see `ExecutionPlan.build`).
import Foundation
import GraphIR

enum ControlFlowKernels {
    /// The outer-scope names a node's bodies read, in the order the step receives them.
    static func outerNames(_ node: Node) -> [String] {
        var set = Set<String>()
        for (_, g) in node.subgraphs { set.formUnion(g.outerScopeReferences) }
        return set.sorted()
    }

    /// A kernel's table of outer-scope values by name, refilled on each call.
    final class OuterValues {
        var values: [String: RuntimeTensor] = [:]
    }

    /// A body compiled as a stand-alone model whose extra inputs are the outer references.
    final class Body {
        let graph: Graph
        /// The outer-scope names fed on every run (those not constant in the enclosing plan).
        let outer: [String]
        let interpreter: Interpreter
        /// `constants`: outer-scope values the enclosing plan already knows (its weights,
        /// Constant nodes and folded values). They enter the body as typed constants, so its
        /// plan folds what depends only on them once: silero_vad's decoder re-sliced and
        /// re-concatenated its LSTM weights from the enclosing graph on every call.
        init(_ body: Graph, outer: [String], opset: Int, constants: [String: RuntimeTensor] = [:]) throws {
            let declared = Set(body.inputs.map(\.name)).union(body.initializers.map(\.name))
            let extra = outer.filter { !declared.contains($0) }
            var typed: [ValueInfo] = [], fed: [String] = [], known: [String: RuntimeTensor] = [:]
            for name in extra {
                if let t = constants[name] {
                    typed.append(ValueInfo(name: name, type: .tensor(t.elementType, TensorShape(static: t.shape.map(Int64.init)))))
                    known[name] = t
                } else {
                    fed.append(name)
                }
            }
            graph = Graph(name: body.name, nodes: body.nodes, inputs: body.inputs + typed + fed.map { ValueInfo(name: $0) },
                          outputs: body.outputs, initializers: body.initializers)
            self.outer = fed
            interpreter = try Interpreter(model: Model(graph: graph, opsetImports: [OpsetImport(version: Int64(opset))]),
                                          constants: known)
        }

        /// The feeds of the last call, kept with their capacity (no dictionary per call).
        private var feeds: [String: RuntimeTensor] = [:]

        /// Runs with the body inputs `args` (by position) and the outer values by name.
        func run(_ args: [RuntimeTensor], outer values: [String: RuntimeTensor],
                 cancellation: CancellationFlag? = nil) throws -> [RuntimeTensor] {
            var result: [RuntimeTensor] = []
            try run(args, outer: values, cancellation: cancellation) { result.append($0) }
            return result
        }

        /// Runs with the body inputs `args` (by position) and the outer values by name, handing
        /// each output to `deliver` in order. `copying: false` hands them over in the body
        /// plan's own blocks, valid only until the body runs again: `deliver` must copy them.
        func run(_ args: [RuntimeTensor], outer values: [String: RuntimeTensor], copying: Bool = true,
                 cancellation: CancellationFlag? = nil, deliver: (RuntimeTensor) throws -> Void) throws {
            feeds.removeAll(keepingCapacity: true)
            for (vi, t) in zip(graph.inputs, args) { feeds[vi.name] = t }
            for name in outer { if let v = values[name] { feeds[name] = v } }
            defer { feeds.removeAll(keepingCapacity: true) }
            do {
                for o in try interpreter.run(feeds, cancellation: cancellation, copyingOutputs: copying).outputs { try deliver(o.tensor) }
            } catch let e as RuntimeError {
                throw KernelError("in body '\(graph.name)': \(e)")
            }
        }
    }

    /// `constants`: the outer-scope values the enclosing plan holds as constants (see `Body`).
    static func compile(_ node: Node, opset: Int, constants: [String: RuntimeTensor] = [:]) throws -> Kernel {
        let outer = outerNames(node), explicit = node.inputs.count
        func graph(_ name: String) throws -> Graph {
            guard case .graph(let g)? = node.attribute(name) else { throw KernelError("\(node.opType) needs the body '\(name)'") }
            return g
        }
        // The outer values of a call, in a table each kernel keeps (no dictionary per call).
        let outerTable = OuterValues()
        func outerValues(_ io: KernelIO) -> [String: RuntimeTensor] {
            outerTable.values.removeAll(keepingCapacity: true)
            for (k, name) in outer.enumerated() { if let t = io.optionalInput(explicit + k) { outerTable.values[name] = t } }
            return outerTable.values
        }
        func deliver(_ io: inout KernelIO, _ outs: [RuntimeTensor]) {
            io.outputs = outs.map { Optional($0) }
        }
        switch node.opType {
        case "If":
            let thenBody = try Body(graph("then_branch"), outer: outer, opset: opset, constants: constants)
            let elseBody = try Body(graph("else_branch"), outer: outer, opset: opset, constants: constants)
            return { io in
                let c = try io.input(0)
                guard c.count == 1 else { throw KernelError("If condition must hold one value, has \(c.count)") }
                // The branch's outputs are copied from its plan's blocks straight into the step's
                // own (planned) outputs: no copy of its own per call.
                let ov = outerValues(io)
                io.outputs.removeAll(keepingCapacity: true)
                var j = 0
                try (c.double(at: 0) != 0 ? thenBody : elseBody).run([], outer: ov, copying: false, cancellation: io.cancellation) { t in
                    defer { j += 1 }
                    // Strings, sequences and optionals are copied as before; a weight passes as is.
                    if t.isNonNumeric { io.setOutput(j, t.copied()); return }
                    if t.storage.isBorrowed { io.setOutput(j, t); return }
                    let y = try io.output(j, t.elementType, t.shape)
                    y.raw.copyMemory(from: t.raw, byteCount: t.byteCount)
                }
            }
        case "Loop":
            let body = try Body(graph("body"), outer: outer, opset: opset, constants: constants)
            return loopKernel(node, body: body, explicit: explicit, outerValues: outerValues)
        case "Scan":
            guard opset >= 9 else { throw KernelError("Scan before opset 9 (with sequence_lens) is not supported") }
            let body = try Body(graph("body"), outer: outer, opset: opset, constants: constants)
            return try scanKernel(node, body: body, explicit: explicit, outerValues: outerValues)
        case "SequenceMap":
            let body = try Body(graph("body"), outer: outer, opset: opset, constants: constants)
            return { io in
                let args = try (0..<explicit).map { try io.input($0) }
                guard let count = args.first?.sequence?.count else { throw KernelError("SequenceMap input 0 must be a sequence") }
                for a in args { if let e = a.sequence, e.count != count { throw KernelError("SequenceMap sequences differ in length") } }
                var results: [[RuntimeTensor]] = Array(repeating: [], count: node.outputs.count)
                let ov = outerValues(io)
                for i in 0..<count {
                    try io.checkCancelled("in SequenceMap element \(i)")
                    let outs = try body.run(args.map { $0.sequence?[i] ?? $0 }, outer: ov, cancellation: io.cancellation)
                    guard outs.count >= results.count else { throw KernelError("SequenceMap body returned \(outs.count) values") }
                    for k in results.indices { results[k].append(outs[k]) }
                }
                let types = (0..<results.count).map { k -> ElementType in
                    if let t = results[k].first?.elementType { return t }
                    guard case .graph(let g)? = node.attribute("body"), k < g.outputs.count,
                          let t = g.outputs[k].type?.elementType else { return .float }
                    return RuntimeElement.stored(t)
                }
                deliver(&io, results.enumerated().map { RuntimeTensor(sequence: $1, elementType: types[$0]) })
            }
        default:
            throw KernelError("op \(node.opType) with subgraphs is not supported by the interpreter")
        }
    }
}
