/// The interpreter's entry point: holds a model's weights (views into the mapped file), its
/// symbolic shape inference (run once), and a plan per (input shapes, kept values); runs a
/// plan node by node with cancellation between nodes, optional keeping of intermediate
/// values and per-node timing.
import Foundation
import GraphIR
import GraphOps

/// A flag another thread sets to stop a run; checked between nodes.
public final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    public init() {}
    /// Asks the running graph to stop at the next node boundary.
    public func cancel() { lock.lock(); flag = true; lock.unlock() }
    /// True once `cancel` was called.
    public var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return flag }
}

/// Which intermediate values a run copies out.
public enum KeepRequest: Hashable, Sendable {
    case none
    case values(Set<String>)
    case all
}

/// What a run produced.
public struct RunResult {
    /// Graph outputs in graph order.
    public var outputs: [(name: String, tensor: RuntimeTensor)]
    /// Intermediate values that were asked for, by name.
    public var kept: [String: RuntimeTensor]
    /// Seconds per node run, in run order (filled when timing was asked for). A step that
    /// computes several nodes (a Conv with its fused activation chain) reports its time under
    /// its first node, with the op types joined by "+", and the other nodes with 0 s.
    public var nodeTimes: [(node: String, opType: String, seconds: Double)]
}

/// Runs one model. Not thread-safe: one run at a time per interpreter (plans own buffers).
public final class Interpreter {
    /// The model run.
    public let model: Model
    let opset: Int
    let weights: [String: RuntimeTensor]
    let facts: InferenceResult
    private var plans: [String: ExecutionPlan] = [:]
    /// The plan `plan` returned last, with its input shapes and keep request.
    private var lastPlan: (shapes: [String: [Int]], keep: KeepRequest, plan: ExecutionPlan)?
    /// How plans settle the convs either kernel may win (timed on this machine by default;
    /// tests fix it to check the layouts each choice gives).
    var winogradPreference: WinogradPreference = .measured
    /// The timed conv choices every plan of this interpreter reads (shared with the other
    /// interpreters of a notebook session: see `ConvChoices`).
    public let convChoices: ConvChoices
    /// Weight bytes used in place from the model's memory (no copy).
    public let borrowedWeightBytes: Int
    /// Weight bytes converted into fresh memory (unaligned data, float16, typed fields).
    public let copiedWeightBytes: Int

    /// The OpenBLAS core whose kernels the matrix products run (see `BLASKernelSelection`).
    public static var blasCoreName: String { BLASKernelSelection.coreName }

    /// Whether `threads=N` gives exactly one thread's numbers. The interpreter's own kernels
    /// always do; OpenBLAS's products do with its AVX-512 kernels, which the interpreter selects
    /// on every AVX-512 CPU, but its AVX2 ones (Haswell: AVX2-only CPUs, or an
    /// `OPENBLAS_CORETYPE` the environment sets) round the edge tiles of a product split across
    /// threads differently: a quarter of a 128x64x128 product's elements then differ in the last
    /// bit or two.
    public static var threadsGiveIdenticalNumbers: Bool { BLASKernelSelection.splitsIdentically }

    /// Whether this CPU runs the channel-blocked direct conv kernels (AVX-512). Without them
    /// no conv is timed: Winograd, im2col and the pools' own loops are fixed choices.
    public static var hasDirectConvs: Bool { DirectConv.available }

    /// Prepares `model`: converts initializers to runtime tensors and infers shapes (or takes
    /// `facts`, the model's inference already made, e.g. a notebook version's cached one).
    /// `threads` sets OpenBLAS's thread count (process-wide; 1 by default). `convChoices`:
    /// conv algorithm choices already timed, shared with other interpreters (fresh by default).
    public convenience init(model: Model, threads: Int = 1, facts known: InferenceResult? = nil,
                            convChoices: ConvChoices = ConvChoices()) throws {
        try self.init(model: model, threads: threads, facts: known, constants: [:], convChoices: convChoices)
    }

    /// `constants`: values of graph inputs fixed for this interpreter's life (a body's
    /// outer-scope values that are constants of the enclosing plan): planned as weights.
    init(model: Model, threads: Int = 1, facts known: InferenceResult? = nil, constants: [String: RuntimeTensor],
         convChoices: ConvChoices = ConvChoices()) throws {
        self.model = model
        self.convChoices = convChoices
        opset = Int(model.opsetVersion(for: "") ?? 21)
        var w: [String: RuntimeTensor] = constants
        var borrowed = 0, copied = 0
        for t in model.graph.initializers {
            do {
                let (rt, b) = try RuntimeTensor.from(t)
                w[t.name] = rt
                if b { borrowed += rt.byteCount } else { copied += rt.byteCount }
            } catch {
                throw RuntimeError("initializer '\(t.name)': \(error)")
            }
        }
        weights = w
        borrowedWeightBytes = borrowed
        copiedWeightBytes = copied
        facts = known ?? ShapeInference.infer(model)
        self.threads = max(1, threads)
        BLAS.setThreads(threads)
    }

    /// Threads a run uses: OpenBLAS's (process-wide) and the direct convs' own.
    public private(set) var threads = 1

    /// Sets the thread count for the next runs (OpenBLAS's is process-wide): an interpreter
    /// kept between commands runs each with the threads that command asks for.
    public func useThreads(_ threads: Int) {
        self.threads = max(1, threads)
        BLAS.setThreads(threads)
    }

    /// The plan for `inputShapes` (cached). Binds the inputs' symbolic dims, so shape
    /// inference fixes every activation's size, then folds constants and assigns buffers.
    public func plan(inputShapes: [String: [Int]], keep: KeepRequest = .none) throws -> ExecutionPlan {
        // The plan of the last call again (every run of a benchmark or a sweep at one size):
        // compared directly, without building the key.
        if let last = lastPlan, last.shapes == inputShapes, last.keep == keep { return last.plan }
        let key = inputShapes.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ";") + "|\(keep)"
        if let p = plans[key] {
            lastPlan = (inputShapes, keep, p)
            return p
        }
        let bindings = try self.bindings(for: inputShapes)
        var keepNames = Set<String>(), keepAll = false
        switch keep {
        case .none: break
        case .values(let v): keepNames = v
        case .all: keepAll = true
        }
        let p = try ExecutionPlan.build(graph: model.graph, opset: opset, weights: weights,
                                        facts: facts.substituting(bindings), inputShapes: inputShapes,
                                        keepNames: keepNames, keepAll: keepAll, winogradPreference: winogradPreference,
                                        convChoices: convChoices)
        plans[key] = p
        lastPlan = (inputShapes, keep, p)
        return p
    }

    /// Runs the graph on `inputs`. Throws `RuntimeError` naming the input or node on bad
    /// input, an unsupported op, a kernel failure or cancellation.
    /// `progress` is called after each node with (nodes done, nodes in the plan), on the
    /// running thread (a caller may cancel from it).
    public func run(_ inputs: [String: RuntimeTensor], keep: KeepRequest = .none, timed: Bool = false,
                    cancellation: CancellationFlag? = nil, progress: ((Int, Int) -> Void)? = nil) throws -> RunResult {
        try run(inputs, keep: keep, timed: timed, cancellation: cancellation, progress: progress, copyingOutputs: true)
    }

    /// `run`, with `copyingOutputs: false` handing the outputs back in the plan's own blocks:
    /// valid only until this interpreter runs again (a control-flow body whose caller copies
    /// them into its own outputs at once).
    func run(_ inputs: [String: RuntimeTensor], keep: KeepRequest = .none, timed: Bool = false,
             cancellation: CancellationFlag? = nil, progress: ((Int, Int) -> Void)? = nil,
             copyingOutputs: Bool) throws -> RunResult {
        // The last plan again when every input has its shape (no dictionary built per run).
        let plan: ExecutionPlan
        if let last = lastPlan, last.keep == keep, last.shapes.count == inputs.count,
           inputs.allSatisfy({ last.shapes[$0.key] == $0.value.shape }) {
            plan = last.plan
        } else {
            plan = try self.plan(inputShapes: inputs.mapValues(\.shape), keep: keep)
        }
        var values: [RuntimeTensor?] = []
        swap(&values, &plan.arena.values)
        if values.count != plan.constants.count { values = plan.constants }
        // Gives the array back holding only the constants, however the run ends (an input
        // that overrides an initializer gets the initializer back).
        defer {
            for i in plan.computedIDs { values[i] = plan.constants[i] }
            swap(&values, &plan.arena.values)
        }
        for i in plan.inputs {
            guard let t = inputs[i.name] else { throw RuntimeError("no value given for this graph input", input: i.name) }
            if let declared = i.type, declared != .undefined {
                let storedAs = RuntimeElement.stored(declared)
                guard t.elementType == storedAs else {
                    let held = storedAs == declared ? "" : " (held as \(storedAs.name): give a \(storedAs.name) tensor)"
                    throw RuntimeError("is \(t.elementType.name), the graph declares \(declared.name)\(held)", input: i.name)
                }
            }
            values[i.id] = t
        }
        var kept: [String: RuntimeTensor] = [:]
        var times: [(node: String, opType: String, seconds: Double)] = []
        if timed { times.reserveCapacity(plan.steps.count) }
        // One KernelIO for every step, whose two arrays the arena keeps between runs: no
        // allocation per step, nor per run once they have grown.
        var io = KernelIO(inputs: [], outputs: [], step: nil, arena: plan.arena, cancellation: cancellation)
        io.threads = threads
        swap(&io.inputs, &plan.arena.ioInputs)
        swap(&io.outputs, &plan.arena.ioOutputs)
        defer {
            io.inputs.removeAll(keepingCapacity: true)
            io.outputs.removeAll(keepingCapacity: true)
            swap(&io.inputs, &plan.arena.ioInputs)
            swap(&io.outputs, &plan.arena.ioOutputs)
        }
        for (k, step) in plan.steps.enumerated() {
            if let cancellation, cancellation.isCancelled {
                throw RuntimeError("run cancelled before this node", node: step.name, opType: step.opType)
            }
            let t0 = timed ? DispatchTime.now().uptimeNanoseconds : 0
            if let shape = step.viewShape {
                // A view: the input's memory under the shape inference fixed (its block is held
                // by the plan until both are dead).
                guard let x = values[step.inputIDs[0]], x.count == shape.reduce(1, *) else {
                    throw RuntimeError("cannot view the input as \(shape)", node: step.name, opType: step.opType)
                }
                values[step.outputIDs[0]] = x.reshaped(shape)
            } else {
                io.step = k
                io.inputs.removeAll(keepingCapacity: true)
                for v in step.inputIDs { io.inputs.append(v >= 0 ? values[v] : nil) }
                io.outputs.removeAll(keepingCapacity: true)
                do { try step.kernel(&io) } catch let e as KernelError {
                    throw RuntimeError(e.message, node: step.name, opType: step.opType)
                }
                for (j, o) in step.outputIDs.enumerated() where o >= 0 {
                    guard j < io.outputs.count, io.outputs[j] != nil else {
                        throw RuntimeError("produced no output \(j)", node: step.name, opType: step.opType)
                    }
                    // Moved, not copied (values[o] is empty until its step runs).
                    swap(&values[o], &io.outputs[j])
                }
            }
            if timed {
                times.append((step.name, step.opType, Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9))
                // Nodes fused into the step: their time is inside the step's.
                for f in step.fused { times.append((f.name, f.opType, 0)) }
            }
            if !plan.keep.isEmpty {
                for o in step.outputs where o >= 0 && plan.keep.contains(o) {
                    if let t = values[o] { kept[plan.names[o]] = t.copied() }
                }
            }
            for r in step.releaseIDs { values[r] = nil }
            progress?(k + 1, plan.steps.count)
        }
        // The arena's list, refilled: once the caller has let go of the last result (a
        // control-flow body's caller does at once), no new array per run.
        var outs: [(name: String, tensor: RuntimeTensor)] = []
        swap(&outs, &plan.arena.outputList)
        outs.removeAll(keepingCapacity: true)
        outs.reserveCapacity(plan.outputs.count)
        defer { plan.arena.outputList = outs }
        for o in plan.outputs {
            guard let t = values[o.id] else { throw RuntimeError("graph output '\(o.name)' was not computed") }
            // Outputs leave the plan's reused blocks, which the next run overwrites.
            outs.append((o.name, t.storage.isBorrowed || !copyingOutputs ? t : t.copied()))
        }
        for name in plan.keep.map({ plan.names[$0] }) where kept[name] == nil {
            if let i = plan.names.firstIndex(of: name), let t = values[i] { kept[name] = t.copied() }
        }
        return RunResult(outputs: outs, kept: kept, nodeTimes: times)
    }
}
