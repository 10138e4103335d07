/// The execution plan of a graph for one set of input shapes: constants folded once (weights,
/// Constant nodes, shape arithmetic), a compiled kernel per remaining node, value lifetimes,
/// and a memory plan that puts activations into a few reused blocks (a dead value's block
/// serves a later one), reporting the peak activation bytes.
import GraphIR
import GraphOps

/// Why a graph could not be planned or run; says which input or node.
public struct RuntimeError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong.
    public var message: String
    /// The node (display name) and op type involved, if any.
    public var node: String?
    public var opType: String?
    /// The graph input involved, if any.
    public var input: String?

    public init(_ message: String, node: String? = nil, opType: String? = nil, input: String? = nil) {
        self.message = message
        self.node = node
        self.opType = opType
        self.input = input
    }

    public var description: String {
        if let node { return "node '\(node)' (\(opType ?? "?")): \(message)" }
        if let input { return "input '\(input)': \(message)" }
        return message
    }
}

/// One node to run (a class: the run loop takes one reference per step instead of copying
/// every field).
final class PlanStep {
    let name: String
    let opType: String
    let kernel: Kernel
    /// Value ids read (-1: omitted optional input).
    let inputs: [Int]
    /// Value ids written (-1: omitted output).
    let outputs: [Int]
    /// Values no longer needed after this step.
    let release: [Int]
    /// Nodes fused into this step: (display name, op type), timed as 0 s beside it.
    let fused: [(name: String, opType: String)]
    /// For a step that runs as a view (see `ExecutionPlan.viewShape`): the output's shape. The
    /// run loop then sets the output to its input reshaped instead of calling the kernel.
    let viewShape: [Int]?
    /// `inputs`, `outputs` and `release` in memory the step owns: the run loop walks them for
    /// every step, and walking an array retains and releases it.
    let inputIDs: UnsafeMutableBufferPointer<Int>
    let outputIDs: UnsafeMutableBufferPointer<Int>
    let releaseIDs: UnsafeMutableBufferPointer<Int>

    init(name: String, opType: String, kernel: @escaping Kernel, inputs: [Int], outputs: [Int], release: [Int],
         fused: [(name: String, opType: String)], viewShape: [Int]? = nil) {
        self.name = name; self.opType = opType; self.kernel = kernel
        self.inputs = inputs; self.outputs = outputs; self.release = release; self.fused = fused
        self.viewShape = viewShape
        func buffer(_ ids: [Int]) -> UnsafeMutableBufferPointer<Int> {
            let b = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(ids.count, 1))
            _ = b.initialize(from: ids)
            return UnsafeMutableBufferPointer(rebasing: b[0..<ids.count])
        }
        inputIDs = buffer(inputs); outputIDs = buffer(outputs); releaseIDs = buffer(release)
    }

    deinit {
        // The rebased buffers start where the allocations do.
        inputIDs.baseAddress?.deallocate()
        outputIDs.baseAddress?.deallocate()
        releaseIDs.baseAddress?.deallocate()
    }
}

/// A graph compiled for fixed input shapes. Made by `Interpreter.plan`; runs reuse its buffers.
/// A class: a run takes one reference to it instead of copying a dozen fields.
public final class ExecutionPlan {
    /// Value name per id.
    let names: [String]
    /// Constant values (weights, folded nodes) by id; nil for values computed at run time.
    let constants: [RuntimeTensor?]
    let steps: [PlanStep]
    /// Graph inputs fed at run time: (name, id, declared element type).
    let inputs: [(name: String, id: Int, type: ElementType?)]
    /// Graph outputs: (name, id).
    let outputs: [(name: String, id: Int)]
    /// Values copied out of the run on request.
    let keep: Set<Int>
    let arena: Arena
    /// The input shapes this plan is for.
    public let inputShapes: [String: [Int]]
    /// Bytes of the reused activation blocks: the most activation memory a run holds at once
    /// (outputs whose size inference could not fix are allocated when run and not counted).
    public let peakActivationBytes: Int
    /// Bytes all activations would take without reuse.
    public let totalActivationBytes: Int
    /// Nodes evaluated once at planning time (constant inputs only).
    public let foldedNodes: Int
    /// Nodes merged into another step: BatchNormalization folded into the Conv before it (new
    /// weights, same function), elementwise chains fused into one step or a Conv's epilogue.
    public let fusedNodes: Int
    /// Convs that run as Winograd F(4x4, 3x3), their filters transformed while planning.
    public let winogradConvs: Int
    /// Convs that run as direct convs over 16-channel blocks, their filters packed while planning.
    public let directConvs: Int
    /// Values kept in the direct convs' channel-blocked layout from one conv to the next.
    public let blockedValues: Int
    /// MaxPools that run on channel-blocked values.
    public let blockedPools: Int
    /// Nodes run per run.
    public var stepCount: Int { steps.count }
    /// Node outputs with no planned block (shape unknown before running).
    public let unplannedValues: Int
    /// Reshape-like steps that run as views of their input (no kernel, no copy, no block).
    public let views: Int
    /// The ids a run sets (graph inputs and step outputs), reset after it.
    let computedIDs: [Int]

    init(names: [String], constants: [RuntimeTensor?], steps: [PlanStep], inputs: [(name: String, id: Int, type: ElementType?)],
         outputs: [(name: String, id: Int)], keep: Set<Int>, arena: Arena, inputShapes: [String: [Int]],
         peakActivationBytes: Int, totalActivationBytes: Int, foldedNodes: Int, fusedNodes: Int, winogradConvs: Int,
         directConvs: Int, blockedValues: Int, blockedPools: Int, unplannedValues: Int, views: Int) {
        self.names = names; self.constants = constants; self.steps = steps; self.inputs = inputs
        self.outputs = outputs; self.keep = keep; self.arena = arena; self.inputShapes = inputShapes
        self.peakActivationBytes = peakActivationBytes; self.totalActivationBytes = totalActivationBytes
        self.foldedNodes = foldedNodes; self.fusedNodes = fusedNodes; self.winogradConvs = winogradConvs
        self.directConvs = directConvs; self.blockedValues = blockedValues; self.blockedPools = blockedPools
        self.unplannedValues = unplannedValues; self.views = views
        computedIDs = inputs.map(\.id) + steps.flatMap { $0.outputs.filter { $0 >= 0 } }
    }
}

/// Assigns activation values to reusable blocks given their sizes and lifetimes.
struct MemoryPlanner {
    private(set) var slotBytes: [Int] = []
    private var free: [Int] = []

    /// A block for `bytes` bytes: the smallest free block that fits, else the largest free
    /// block grown to fit, else a new block.
    mutating func acquire(_ bytes: Int) -> Int {
        if let best = free.filter({ slotBytes[$0] >= bytes }).min(by: { slotBytes[$0] < slotBytes[$1] }) {
            free.removeAll { $0 == best }
            return best
        }
        if let largest = free.max(by: { slotBytes[$0] < slotBytes[$1] }) {
            free.removeAll { $0 == largest }
            slotBytes[largest] = bytes
            return largest
        }
        slotBytes.append(bytes)
        return slotBytes.count - 1
    }

    /// Returns a block to the free list.
    mutating func release(_ slot: Int) { free.append(slot) }

    var totalBytes: Int { slotBytes.reduce(0, +) }
}

extension ExecutionPlan {
    /// Builds the plan (see `Interpreter.plan`).
    static func build(graph: Graph, opset: Int, weights: [String: RuntimeTensor], facts: InferenceResult,
                      inputShapes: [String: [Int]], keepNames: Set<String>, keepAll: Bool,
                      winogradPreference: WinogradPreference = .measured,
                      convChoices: ConvChoices = ConvChoices()) throws -> ExecutionPlan {
        var ids: [String: Int] = [:]
        var names: [String] = []
        func id(_ name: String) -> Int {
            if let i = ids[name] { return i }
            names.append(name); ids[name] = names.count - 1
            return names.count - 1
        }
        var constants: [Int: RuntimeTensor] = [:]
        var inputs: [(name: String, id: Int, type: ElementType?)] = []
        for vi in graph.inputs {
            if let shape = inputShapes[vi.name] {
                inputs.append((vi.name, id(vi.name), vi.type?.elementType))
                _ = shape
            } else if let w = weights[vi.name] {
                constants[id(vi.name)] = w
            } else {
                throw RuntimeError("no value given for this graph input", input: vi.name)
            }
        }
        for (name, w) in weights where ids[name] == nil { constants[id(name)] = w }
        for name in inputShapes.keys where !graph.inputs.contains(where: { $0.name == name }) {
            throw RuntimeError("the graph has no input of this name", input: name)
        }

        // Compile nodes; fold those whose inputs are all constant.
        var steps: [(node: Node, kernel: Kernel, inputs: [Int], outputs: [Int])] = []
        let foldArena = Arena(slotBytes: [], outputSlots: [])
        var folded = 0, fusedNodes = 0
        var available = Set(inputs.map(\.id))
        for node in graph.nodes {
            if node.opType == "Constant" && node.domain.isEmpty {
                guard let out = node.outputs.first else { continue }
                constants[id(out)] = try constantValue(node)
                folded += 1
                continue
            }
            if node.opType == "BatchNormalization", !keepAll, !keepNames.contains(node.inputs.first ?? ""),
               let fused = try foldBatchNorm(node, steps: &steps, constants: &constants, id: id, names: names, graph: graph) {
                for o in fused where o >= 0 { available.insert(o) }
                fusedNodes += 1
                continue
            }
            let kernel: Kernel
            do {
                let declared = node.inputs.array.map { $0.isEmpty ? nil : facts.type(of: $0)?.elementType }
                if node.hasSubgraphs {
                    var known: [String: RuntimeTensor] = [:]
                    for name in ControlFlowKernels.outerNames(node) { if let i = ids[name], let c = constants[i] { known[name] = c } }
                    kernel = try ControlFlowKernels.compile(node, opset: opset, constants: known)
                } else {
                    kernel = try KernelCompiler.compile(node, opset: opset, declared: declared)
                }
            } catch let e as KernelError {
                throw RuntimeError(e.message, node: node.displayName, opType: node.opType)
            } catch let e as RuntimeError {
                throw RuntimeError("in a body: \(e)", node: node.displayName, opType: node.opType)
            }
            // Control flow also reads its bodies' outer-scope values, after its own inputs.
            let extra = node.hasSubgraphs ? ControlFlowKernels.outerNames(node) : []
            let ins = (node.inputs.array + extra).map { $0.isEmpty ? -1 : id($0) }
            let outs = node.outputs.array.map { $0.isEmpty ? -1 : id($0) }
            for i in ins where i >= 0 && constants[i] == nil && !available.contains(i) {
                throw RuntimeError("reads '\(names[i])', which nothing produces", node: node.displayName, opType: node.opType)
            }
            var foldable = ins.allSatisfy { $0 < 0 || constants[$0] != nil }
            var foldInputs: [RuntimeTensor?] = ins.map { $0 < 0 ? nil : constants[$0] }
            // Shape of a value whose shape inference fixed: known before running.
            if node.opType == "Shape", let x = ins.first, x >= 0, constants[x] == nil,
               let dims = facts.type(of: names[x])?.dims {
                let sizes = dims.compactMap { $0?.intValue }
                if sizes.count == dims.count {
                    // The Shape kernel reads only the shape, so an empty stand-in suffices.
                    foldable = true
                    foldInputs = [RuntimeTensor(elementType: .uint8, shape: sizes.map { Int($0) }, storage: TensorStorage(bytes: 0))]
                }
            }
            if foldable && node.opType != "RandomNormal" {
                var io = KernelIO(inputs: foldInputs, outputs: [], step: nil, arena: foldArena)
                do { try kernel(&io) } catch let e as KernelError {
                    throw RuntimeError(e.message, node: node.displayName, opType: node.opType)
                }
                for (j, o) in outs.enumerated() where o >= 0 {
                    guard j < io.outputs.count, let t = io.outputs[j] else {
                        throw RuntimeError("produced no output \(j)", node: node.displayName, opType: node.opType)
                    }
                    constants[o] = t
                }
                folded += 1
                continue
            }
            steps.append((node, kernel, ins, outs))
            for o in outs where o >= 0 { available.insert(o) }
        }

        var outputs: [(name: String, id: Int)] = []
        for vo in graph.outputs {
            guard let i = ids[vo.name] else { throw RuntimeError("graph output '\(vo.name)' is never produced") }
            outputs.append((vo.name, i))
        }
        var keep = Set<Int>()
        for name in keepNames {
            guard let i = ids[name] else { throw RuntimeError("there is no value '\(name)' to keep") }
            keep.insert(i)
        }
        if keepAll { for s in steps { for o in s.outputs where o >= 0 { keep.insert(o) } } }
        let pinned = Set(outputs.map(\.id)).union(keep)
        var drafts = steps.map { StepDraft(node: $0.node, opType: $0.node.opType, kernel: $0.kernel, inputs: $0.inputs, outputs: $0.outputs) }
        // Fused RMS norms and elementwise chains (not when every value is kept: those run node by node).
        if !keepAll {
            drafts = NormalizationFusion.fuse(drafts, constants: constants, names: names, facts: facts, pinned: pinned)
            drafts = ElementwiseFusion.fuse(drafts, constants: constants, names: names, facts: facts, pinned: pinned)
        }
        fusedNodes += steps.count - drafts.count
        let convs = ConvKernels.planAlgorithms(drafts, constants: constants, names: names, facts: facts, pinned: pinned,
                                               winogradPreference: winogradPreference, choices: convChoices)
        drafts = convs.steps

        // Lifetimes: the last step reading each value; outputs and kept values live to the end.
        var lastUse: [Int: Int] = [:]
        for (k, s) in drafts.enumerated() { for i in s.inputs where i >= 0 { lastUse[i] = k } }

        var planner = MemoryPlanner()
        var slotOf: [Int: Int] = [:]
        // Values living in each block: a view shares its input's block, which is free again
        // only when both are dead.
        var slotUsers: [Int: Int] = [:]
        var outputSlots: [[Int?]] = []
        var planned: [PlanStep] = []
        var total = 0, unplanned = 0, views = 0
        for (k, s) in drafts.enumerated() {
            var slots: [Int?] = []
            let view = keepAll ? nil : viewShape(s, constants: constants, names: names, facts: facts,
                                                 blocked: convs.blockedBytes)
            if view != nil {
                if let slot = slotOf[s.inputs[0]] { slotOf[s.outputs[0]] = slot; slotUsers[slot, default: 1] += 1 }
                slots.append(nil)
                views += 1
            } else {
                for o in s.outputs {
                    guard o >= 0, let bytes = convs.blockedBytes[o] ?? plannedBytes(facts.type(of: names[o])) else {
                        if o >= 0 { unplanned += 1 }
                        slots.append(nil); continue
                    }
                    let slot = planner.acquire(bytes)
                    slotOf[o] = slot; slotUsers[slot] = 1; slots.append(slot); total += bytes
                }
            }
            outputSlots.append(slots)
            var release: [Int] = []
            for v in Set(s.inputs + s.outputs) where v >= 0 && constants[v] == nil && !pinned.contains(v) {
                let last = lastUse[v] ?? k
                guard last == k else { continue }
                release.append(v)
                if let slot = slotOf[v] {
                    let left = (slotUsers[slot] ?? 1) - 1
                    slotUsers[slot] = left
                    if left == 0 { planner.release(slot) }
                }
            }
            planned.append(PlanStep(name: s.node.displayName, opType: s.opType, kernel: s.kernel,
                                    inputs: s.inputs, outputs: s.outputs, release: release,
                                    fused: s.members.map { ($0.displayName, $0.opType) }, viewShape: view))
        }
        var constantList = [RuntimeTensor?](repeating: nil, count: names.count)
        for (i, t) in constants { constantList[i] = t }
        // The plan's blocks are allocated now: refused up front when they cannot fit in the
        // memory the machine has free (a hostile declared size must not take the process down).
        var planBytes = 0
        for b in planner.slotBytes {
            let (sum, o) = planBytes.addingReportingOverflow(b)
            planBytes = o ? .max : sum
        }
        if let free = Interpreter.freeMemory(ifShortOf: planBytes) {
            throw RuntimeError("the memory plan needs \(planBytes) bytes of activations, more than the \(free) bytes this machine has free")
        }
        return ExecutionPlan(names: names, constants: constantList, steps: planned, inputs: inputs, outputs: outputs,
                             keep: keep, arena: Arena(slotBytes: planner.slotBytes, outputSlots: outputSlots),
                             inputShapes: inputShapes, peakActivationBytes: planner.totalBytes,
                             totalActivationBytes: total, foldedNodes: folded, fusedNodes: fusedNodes, winogradConvs: convs.winograd, directConvs: convs.direct,
                             blockedValues: convs.blockedBytes.count, blockedPools: convs.blockedPools,
                             unplannedValues: unplanned, views: views)
    }

    /// Ops that only reinterpret their data input's shape.
    static let viewOps: Set<String> = ["Reshape", "Squeeze", "Unsqueeze", "Flatten"]

    /// The output shape of a step that can run as a view of its input: a Reshape, Squeeze,
    /// Unsqueeze or Flatten (not fused with anything) of a value computed at run time (not
    /// channel-blocked), whose other inputs are constants and whose output shape inference
    /// fixed. nil otherwise.
    static func viewShape(_ s: StepDraft, constants: [Int: RuntimeTensor], names: [String], facts: InferenceResult,
                          blocked: [Int: Int]) -> [Int]? {
        guard s.node.domain.isEmpty, s.opType == s.node.opType, viewOps.contains(s.opType),
              s.outputs.count == 1, s.outputs[0] >= 0, let x = s.inputs.first, x >= 0, constants[x] == nil,
              blocked[x] == nil, s.inputs.dropFirst().allSatisfy({ $0 < 0 || constants[$0] != nil }),
              let t = facts.type(of: names[s.outputs[0]]), let dims = t.dims, t.elementType != .string else { return nil }
        var shape: [Int] = []
        for d in dims { guard let v = d?.intValue, v >= 0 else { return nil }; shape.append(Int(v)) }
        return shape
    }

    /// Folds an inference BatchNormalization into the Conv step producing its input when that
    /// Conv output feeds nothing else and all weights are constant: W' = W * a, b' = (b - mean) * a + B
    /// with a = scale / sqrt(var + eps). Returns the rewritten step's outputs, or nil.
    static func foldBatchNorm(_ bn: Node, steps: inout [(node: Node, kernel: Kernel, inputs: [Int], outputs: [Int])],
                              constants: inout [Int: RuntimeTensor], id: (String) -> Int, names: [String],
                              graph: Graph) throws -> [Int]? {
        let ins = bn.inputs.array, outs = bn.outputs.array
        guard ins.count == 5, outs.count == 1, !outs[0].isEmpty, bn.int("training_mode", 0) == 0 else { return nil }
        let x = ins[0]
        guard graph.useCount(of: x) == 1, !graph.outputs.contains(where: { $0.name == x }),
              let si = steps.lastIndex(where: { $0.outputs.contains(id(x)) }), steps[si].node.opType == "Conv",
              steps[si].outputs.count == 1 else { return nil }
        let conv = steps[si]
        let params = ins[1...4].map { constants[id($0)] }
        guard conv.inputs.count >= 2, conv.inputs[1] >= 0, let w = constants[conv.inputs[1]], w.elementType == .float,
              w.shape.count >= 3, params.allSatisfy({ $0?.elementType == .float && $0?.count == w.shape[0] }) else { return nil }
        let m = w.shape[0], per = w.count / m, eps = bn.float("epsilon", 1e-5)
        var convBias: RuntimeTensor? = nil
        if conv.inputs.count > 2 && conv.inputs[2] >= 0 {
            guard let b = constants[conv.inputs[2]], b.elementType == .float, b.count == m else { return nil }
            convBias = b
        }
        guard let sc = params[0], let sh = params[1], let mn = params[2], let vr = params[3] else { return nil }
        let scale = sc.floats, shift = sh.floats, mean = mn.floats, variance = vr.floats
        let nw = RuntimeTensor(zeros: .float, shape: w.shape), nb = RuntimeTensor(zeros: .float, shape: [m])
        for o in 0..<m {
            let a = scale[o] / (variance[o] + eps).squareRoot()
            for k in 0..<per { nw.mutableFloats[o * per + k] = w.floats[o * per + k] * a }
            nb.mutableFloats[o] = ((convBias?.floats[o] ?? 0) - mean[o]) * a + shift[o]
        }
        let wid = id(outs[0] + "\u{0}folded_weight"), bid = id(outs[0] + "\u{0}folded_bias")
        constants[wid] = nw
        constants[bid] = nb
        let out = [id(outs[0])]
        steps[si] = (conv.node, conv.kernel, [conv.inputs[0], wid, bid], out)
        return out
    }

    /// Bytes of a value whose inferred type is fully concrete.
    static func plannedBytes(_ t: SymType?) -> Int? {
        guard let t, let et = t.elementType, let dims = t.dims else { return nil }
        let stored = RuntimeElement.stored(et)
        guard let size = RuntimeElement.size(stored) else { return nil }
        // Overflow-checked: a hostile declared dim must not trap (nil: not plannable).
        var n = size
        for d in dims {
            guard let v = d?.intValue, v >= 0 else { return nil }
            let (p, o) = n.multipliedReportingOverflow(by: Int(v))
            if o { return nil }
            n = p
        }
        return n
    }

    /// The value of a Constant node.
    static func constantValue(_ node: Node) throws -> RuntimeTensor {
        func fail(_ m: String) -> RuntimeError { RuntimeError(m, node: node.displayName, opType: "Constant") }
        if case .tensor(let t)? = node.attribute("value") {
            do { return try RuntimeTensor.from(t).tensor } catch { throw fail("\(error)") }
        }
        if let f = node.attribute("value_float")?.floatValue { return RuntimeTensor(floats: [f], shape: []) }
        if case .floats(let f)? = node.attribute("value_floats") { return RuntimeTensor(floats: f, shape: [f.count]) }
        if let i = node.attribute("value_int")?.intValue { return RuntimeTensor(int64s: [i], shape: []) }
        if let i = node.attribute("value_ints")?.intsValue { return RuntimeTensor(int64s: i, shape: [i.count]) }
        throw fail("this Constant form (sparse or string value) is not supported")
    }
}
