/// Plan-time fusion of float32 elementwise chains. Chains of Add/Sub/Mul/Div (with a scalar or
/// per-channel constant, or another tensor of the same shape), Clip, Relu, Sigmoid, HardSigmoid,
/// HardSwish, LeakyRelu and Tanh whose intermediate values nothing else reads become one
/// `ElementwiseProgram` step; a chain that reads a Conv's output, when nothing else reads that
/// output, becomes the Conv's epilogue (the hardswish written as Add/Clip/Mul/Div after each
/// PaddleOCR conv, a ResNet's residual Sum + Relu). Decided by structure and inferred shapes
/// only; plans that keep intermediate values do not fuse (see `ExecutionPlan.build`).
import GraphIR
import GraphOps

/// A step while the plan is built: the node it came from, the label timings show, its kernel
/// and its value ids.
struct StepDraft {
    var node: Node
    var opType: String
    var kernel: Kernel
    var inputs: [Int]
    var outputs: [Int]
    /// Other nodes this step computes (fused into it).
    var members: [Node] = []
    /// A Conv step's fused elementwise epilogue (kept so the kernel can be rebuilt, e.g. for Winograd).
    var epilogue: ElementwiseProgram? = nil
}

enum ElementwiseFusion {
    /// One argument of a fusable node: a computed value or a constant operand.
    private enum Arg {
        case value(Int)
        case constant(ElementwiseProgram.Operand)
    }

    /// A fusable node: its operation, arguments and output value.
    private struct Candidate {
        var op: ElementwiseProgram.Op
        var args: [Arg]
        var output: Int
    }

    /// `steps` with fusable chains merged. `pinned` values (graph outputs, kept values) stay
    /// materialized.
    static func fuse(_ steps: [StepDraft], constants: [Int: RuntimeTensor], names: [String], facts: InferenceResult,
                     pinned: Set<Int>) -> [StepDraft] {
        var uses: [Int: [Int]] = [:]
        for (k, s) in steps.enumerated() { for i in s.inputs where i >= 0 { uses[i, default: []].append(k) } }
        func shape(_ v: Int) -> [Int]? { floatShape(facts.type(of: names[v])) }

        // Grow chains: a fusable node joins the chain whose last output it reads.
        var cands: [Int: Candidate] = [:]
        var groups: [[Int]] = [], sinkGroup: [Int: Int] = [:]
        for (k, s) in steps.enumerated() {
            guard let c = candidate(s, constants: constants, shape: shape) else { continue }
            cands[k] = c
            let reads = c.args.compactMap { a -> Int? in if case .value(let v) = a { return v }; return nil }
            if let v = reads.first(where: { sinkGroup[$0] != nil }), let g = sinkGroup[v] {
                sinkGroup[v] = nil
                groups[g].append(k)
                sinkGroup[c.output] = g
            } else {
                groups.append([k])
                sinkGroup[c.output] = groups.count - 1
            }
        }

        var removed = Set<Int>(), replacement: [Int: StepDraft] = [:]
        var work = groups.reversed().map { $0 }
        while let g = work.popLast() {
            // The longest prefix whose intermediate values nothing outside it reads; the rest
            // (which reads the prefix's last value from memory) is tried as a chain of its own.
            var length = 1
            for j in 2...max(g.count, 2) where j <= g.count {
                let members = Set(g[0..<j])
                let ok = g[0..<(j - 1)].allSatisfy { k in
                    let o = cands[k]!.output
                    return !pinned.contains(o) && (uses[o] ?? []).allSatisfy(members.contains)
                }
                if ok { length = j }
            }
            if length < g.count { work.append(Array(g[length...])) }
            let members = Array(g[0..<length])
            guard let sinkStep = members.last else { continue }
            let memberSet = Set(members), produced = Set(members.map { cands[$0]!.output })
            // A Conv whose output only this chain reads takes the chain as its epilogue.
            var conv: Int? = nil
            for k in members {
                for case .value(let v) in cands[k]!.args where !produced.contains(v) && !pinned.contains(v) {
                    guard conv == nil, (uses[v] ?? []).allSatisfy(memberSet.contains),
                          let p = steps.firstIndex(where: { $0.outputs == [v] }), isPlainConv(steps[p]) else { continue }
                    conv = p
                }
            }
            if conv == nil && members.count < 2 { continue }
            var externals: [Int] = conv.map { steps[$0].outputs } ?? []
            var instructions: [ElementwiseProgram.Instruction] = [], tempOf: [Int: Int] = [:]
            for (t, k) in members.enumerated() {
                let c = cands[k]!
                let operands = c.args.map { a -> ElementwiseProgram.Operand in
                    switch a {
                    case .constant(let o): return o
                    case .value(let v):
                        if let ti = tempOf[v] { return .temp(ti) }
                        if let j = externals.firstIndex(of: v) { return .input(j) }
                        externals.append(v)
                        return .input(externals.count - 1)
                    }
                }
                instructions.append(.init(op: c.op, a: operands[0], b: operands.count > 1 ? operands[1] : nil))
                tempOf[c.output] = t
            }
            let opTypes = members.map { steps[$0].node.opType }
            let program = ElementwiseProgram(instructions: instructions, inputCount: externals.count, opTypes: opTypes)
            let sink = cands[sinkStep]!.output
            removed.formUnion(members)
            if let p = conv {
                let c = steps[p]
                removed.insert(p)
                var ins = c.inputs
                while ins.count < 3 { ins.append(-1) }
                replacement[sinkStep] = StepDraft(node: c.node, opType: ([c.opType] + opTypes).joined(separator: "+"),
                                                  kernel: ConvKernels.conv(c.node, epilogue: program),
                                                  inputs: ins + externals.dropFirst(), outputs: [sink],
                                                  members: c.members + members.map { steps[$0].node },
                                                  epilogue: program)
            } else {
                let first = steps[members[0]]
                replacement[sinkStep] = StepDraft(node: first.node, opType: opTypes.joined(separator: "+"),
                                                  kernel: program.kernel(), inputs: externals, outputs: [sink],
                                                  members: members.dropFirst().map { steps[$0].node })
            }
        }
        var out: [StepDraft] = []
        for (k, s) in steps.enumerated() {
            if let r = replacement[k] { out.append(r) } else if !removed.contains(k) { out.append(s) }
        }
        return out
    }

    /// A Conv of the default domain (with at most weight and bias inputs) whose kernel can take an epilogue.
    private static func isPlainConv(_ s: StepDraft) -> Bool {
        s.node.opType == "Conv" && s.opType == "Conv" && s.node.domain.isEmpty && s.inputs.count <= 3
            && s.outputs.count == 1
    }

    /// The concrete shape of a float32 value, nil when not fixed or not float32.
    private static func floatShape(_ t: SymType?) -> [Int]? {
        guard let t, t.elementType == .float, let dims = t.dims else { return nil }
        var out: [Int] = []
        for d in dims { guard let v = d?.intValue, v >= 0 else { return nil }; out.append(Int(v)) }
        return out
    }

    /// The node as a fusable instruction, or nil.
    private static func candidate(_ s: StepDraft, constants: [Int: RuntimeTensor], shape: (Int) -> [Int]?) -> Candidate? {
        let node = s.node
        guard node.domain.isEmpty, !node.hasSubgraphs, s.outputs.count == 1, s.outputs[0] >= 0, s.opType == node.opType,
              let out = shape(s.outputs[0]) else { return nil }
        func arg(_ v: Int) -> Arg? {
            guard v >= 0 else { return nil }
            if let c = constants[v] { return constantOperand(c, out).map { .constant($0) } }
            return shape(v) == out ? .value(v) : nil
        }
        var ins = s.inputs
        let op: ElementwiseProgram.Op
        switch node.opType {
        case "Add", "Sum": op = .add
        case "Sub": op = .sub
        case "Mul": op = .mul
        case "Div": op = .div
        case "Relu": op = .relu
        case "Sigmoid": op = .sigmoid
        case "HardSwish": op = .hardSwish
        case "Tanh": op = .tanh
        case "HardSigmoid": op = .hardSigmoid(node.float("alpha", 0.2), node.float("beta", 0.5))
        case "LeakyRelu": op = .leakyRelu(node.float("alpha", 0.01))
        case "Clip":
            var lo = node.attribute("min")?.floatValue ?? -Float.greatestFiniteMagnitude
            var hi = node.attribute("max")?.floatValue ?? Float.greatestFiniteMagnitude
            for (j, v) in ins.enumerated().dropFirst() where v >= 0 {
                guard j <= 2, let c = constants[v], c.strings == nil, c.container == nil else { return nil }
                if c.count > 0 { if j == 1 { lo = Float(c.double(at: 0)) } else { hi = Float(c.double(at: 0)) } }
            }
            op = .clip(lo, hi)
            ins = Array(ins.prefix(1))
        default: return nil
        }
        switch op {
        case .add, .sub, .mul, .div: guard ins.count == 2 else { return nil }
        default: guard ins.count == 1 else { return nil }
        }
        let args = ins.compactMap(arg)
        guard args.count == ins.count, args.contains(where: { if case .value = $0 { return true }; return false }) else {
            return nil
        }
        return Candidate(op: op, args: args, output: s.outputs[0])
    }

    /// A float32 constant as an operand over a result of shape `out`: a scalar (every dim 1), or
    /// one value per channel (only axis 1 of `out` not 1); nil otherwise.
    private static func constantOperand(_ c: RuntimeTensor, _ out: [Int]) -> ElementwiseProgram.Operand? {
        guard c.elementType == .float, c.strings == nil, c.container == nil, c.shape.count <= out.count else { return nil }
        if c.count == 1 { return .scalar(c.floats[0]) }
        let offset = out.count - c.shape.count
        for (i, d) in c.shape.enumerated() where d != 1 {
            guard i + offset == 1, d == out[1] else { return nil }
        }
        return .channel(Array(UnsafeBufferPointer(start: c.floats, count: c.count)))
    }
}
