/// Conv algorithms and layouts, chosen once per plan: which Conv steps run as Winograd
/// F(4x4, 3x3), which as direct convs over 16-channel blocks, and which values stay
/// channel-blocked from one direct conv to the next (through MaxPools, which then run on
/// blocks) instead of being reordered back to NCHW and into blocks again (what onnxruntime's
/// NCHWc transformer and oneDNN do for whole CNNs).
/// On ResNet-50 the reorders were about a tenth of the run.
import GraphIR
import GraphOps

/// What `ConvKernels.planAlgorithms` decided.
struct ConvPlan {
    /// The steps, Conv kernels replaced where an algorithm or layout was chosen.
    var steps: [StepDraft]
    /// Convs that run as Winograd and as direct convs; MaxPools that run on blocks.
    var winograd = 0, direct = 0, blockedPools = 0
    /// Values kept channel-blocked, with the bytes each needs (more than NCHW: whole blocks
    /// and the cache-line padding between them); no other step ever reads them.
    var blockedBytes: [Int: Int] = [:]
}

extension ConvKernels {
    /// One Conv step the planner may change: a constant float32 weight and an input shape
    /// inference fixed.
    private struct Candidate {
        var geometry: WindowGeometry
        var weight: RuntimeTensor
        /// Channel groups; `inputs` and `outputs` are per group.
        var groups: Int
        var batch: Int, inputs: Int, outputs: Int
        /// What the conv would take on its own, reading and writing NCHW.
        var winograd: Bool, directAlone: Bool
        /// The Winograd transform it would run.
        var variant: Winograd.Variant
        /// Whether the direct kernel pays with a blocked neighbour.
        var directPossible: Bool
        /// Its fused epilogue as an output stage of the direct kernel (nil: none, or one that
        /// is more than Add then Relu/Clip).
        var stage: DirectConv.OutputStage?
        /// Whether its output could be written blocked: no epilogue, or one the stage runs.
        var blockableOutput: Bool
    }

    /// Gives each Conv step with a constant float32 weight and an input shape fixed by
    /// inference the algorithm that suits it (Winograd for group 1 only), its filter prepared
    /// once, here, and picks the values kept channel-blocked.
    ///
    /// A value is kept blocked when a direct conv produces it (and any fused epilogue runs in
    /// the direct kernel's output stage) or a MaxPool of a blocked value does, it is not
    /// `pinned` (graph outputs, kept values), and every step reading it is a direct conv
    /// reading it as its input or as the residual of its output stage, or such a MaxPool.
    /// Alone, a conv takes Winograd where `Winograd.suits`, else the direct kernel where
    /// `DirectConv.suits`, else im2col + sgemm; a conv the direct kernel can run is also made
    /// direct when that keeps its input or output blocked (a chain of them then never leaves
    /// the blocked layout). That choice is a fixed point: start from every such conv direct,
    /// and drop the ones neither of whose neighbours stays blocked until none is dropped.
    /// `winogradPreference` settles the convs where either kernel may win on this machine
    /// (64 to 127 channels, see `ConvTuning`); measured answers come from `choices`.
    static func planAlgorithms(_ steps: [StepDraft], constants: [Int: RuntimeTensor], names: [String],
                               facts: InferenceResult, pinned: Set<Int>,
                               winogradPreference: WinogradPreference = .measured,
                               choices: ConvChoices = ConvChoices()) -> ConvPlan {
        var candidates: [Int: Candidate] = [:]
        for (k, s) in steps.enumerated() where s.node.opType == "Conv" && s.node.domain.isEmpty {
            let groups = s.node.int("group", 1)
            guard s.inputs.count >= 2, s.inputs[0] >= 0, s.inputs[1] >= 0, s.outputs.count == 1, groups >= 1,
                  let w = constants[s.inputs[1]], w.elementType == .float, w.shape.count == 4, w.shape[0] % groups == 0,
                  constants[s.inputs[0]] == nil,
                  let dims = facts.type(of: names[s.inputs[0]])?.dims, dims.count == 4 else { continue }
            let sizes = dims.compactMap { $0?.intValue }.map { Int($0) }
            guard sizes.count == 4, sizes[1] == w.shape[1] * groups,
                  let g = try? WindowGeometry(node: s.node, spatial: [sizes[2], sizes[3]], kernel: [w.shape[2], w.shape[3]])
            else { continue }
            // Per group; grouped convs run on NCHW planes only (a group's channels need not
            // start a 16-channel block), so they never read or keep a value blocked.
            let c = w.shape[1], m = w.shape[0] / groups
            let stage = DirectConv.outputStage(s.epilogue)
            var winograd = groups == 1 && Winograd.suits(g, inputs: c, outputs: m)
            // With 128 or more channels on both sides Winograd's 2-3x fewer multiplies beat the
            // direct kernel by 30-45% (VGG's 128-512-channel 3x3 convs: 16-20 ms against 23-31),
            // more than the reorders around it cost: such a conv never joins a blocked chain.
            var winogradFirst = winograd && min(c, m) >= Winograd.preferredChannels
            // Narrower convs the direct kernel could run in a blocked chain, and small maps
            // F(2x2, 3x3) may run: whichever kernel is faster on this machine (timed once per
            // shape). F(2x2, 3x3) is taken only where it times faster.
            let small = groups == 1 && Winograd.suitsSmall(g, inputs: c, outputs: m)
            let variant: Winograd.Variant = small ? .f23 : .f43
            if winograd || small, !winogradFirst, DirectConv.suits(g, inputs: c, outputs: m, blockedNeighbour: true) {
                winogradFirst = ConvTuning.prefersWinograd(g, variant: variant, weight: w, inputs: c, outputs: m,
                                                           preference: winogradPreference, choices: choices)
                if small { winograd = winogradFirst }
            }
            candidates[k] = Candidate(geometry: g, weight: w, groups: groups, batch: sizes[0], inputs: c, outputs: m,
                                      winograd: winograd,
                                      directAlone: DirectConv.suits(g, inputs: c, outputs: m), variant: variant,
                                      directPossible: groups == 1 && !winogradFirst
                                          && DirectConv.suits(g, inputs: c, outputs: m, blockedNeighbour: true),
                                      stage: stage, blockableOutput: groups == 1 && (s.epilogue == nil || stage != nil))
        }
        // MaxPools that may run on blocks: 2-D, undilated, no Indices output, a float input
        // of fixed shape. (They join only where their input is blocked; see below.)
        var poolShapes: [Int: (batch: Int, channels: Int, positions: Int)] = [:]
        for (k, s) in steps.enumerated() where s.node.opType == "MaxPool" && s.node.domain.isEmpty && DirectConv.available {
            guard s.inputs.count == 1, s.inputs[0] >= 0, s.outputs.count == 1 || s.outputs[1] < 0, s.members.isEmpty,
                  let kernel = s.node.ints("kernel_shape"), kernel.count == 2,
                  (s.node.ints("dilations") ?? [1, 1]) == [1, 1],
                  let t = facts.type(of: names[s.inputs[0]]), t.elementType == .float, let dims = t.dims, dims.count == 4
            else { continue }
            let sizes = dims.compactMap { $0?.intValue }.map { Int($0) }
            guard sizes.count == 4,
                  let g = try? WindowGeometry(node: s.node, spatial: [sizes[2], sizes[3]], kernel: kernel,
                                              ceil: s.node.int("ceil_mode", 0) != 0) else { continue }
            poolShapes[k] = (sizes[0], sizes[1], g.oh * g.ow)
        }
        // Who reads each value, and at which input position.
        var readers: [Int: [(step: Int, position: Int)]] = [:]
        for (k, s) in steps.enumerated() {
            for (p, v) in s.inputs.enumerated() where v >= 0 { readers[v, default: []].append((k, p)) }
        }
        func blockedValues(_ direct: Set<Int>, _ pools: Set<Int>) -> Set<Int> {
            var out = Set<Int>()
            for k in direct.union(pools) {
                if let cand = candidates[k], !cand.blockableOutput { continue }
                guard let o = steps[k].outputs.first, o >= 0, !pinned.contains(o), let rs = readers[o], !rs.isEmpty
                else { continue }
                let allBlocked = rs.allSatisfy { r in
                    if pools.contains(r.step) { return r.position == 0 }
                    guard direct.contains(r.step), candidates[r.step]?.groups == 1 else { return false }
                    if r.position == 0 { return true }
                    // Epilogue input j is step input 2 + j.
                    return candidates[r.step]?.stage?.residual.map { $0 + 2 } == r.position
                }
                if allBlocked { out.insert(o) }
            }
            return out
        }
        var direct = Set(candidates.filter { $0.value.directPossible || $0.value.directAlone }.map(\.key))
        // A pool runs on blocks only when its input is blocked.
        var pools = Set(poolShapes.keys)
        var blocked = blockedValues(direct, pools)
        while true {
            let keptDirect = direct.filter { k in
                guard let cand = candidates[k] else { return false }
                if cand.directAlone && !cand.winograd { return true }
                return cand.directPossible && (blocked.contains(steps[k].inputs[0]) || blocked.contains(steps[k].outputs[0]))
            }
            let keptPools = pools.filter { blocked.contains(steps[$0].inputs[0]) }
            if keptDirect == direct && keptPools == pools { break }
            direct = keptDirect
            pools = keptPools
            blocked = blockedValues(direct, pools)
        }

        var plan = ConvPlan(steps: steps)
        var previous: DirectConvFilter?
        for k in candidates.keys.sorted() {
            guard let cand = candidates[k] else { continue }
            let s = steps[k]
            if direct.contains(k) {
                let residual = cand.stage?.residual.map { s.inputs[2 + $0] }
                let layout = DirectConv.Layout(input: blocked.contains(s.inputs[0]),
                                               residual: residual.map { blocked.contains($0) } ?? false,
                                               output: blocked.contains(s.outputs[0]))
                let filter = DirectConvFilter(weight: cand.weight, groups: cand.groups)
                plan.steps[k].kernel = conv(s.node, epilogue: s.epilogue, direct: filter, layout: layout)
                plan.direct += 1
                // Steps run in order: each direct conv prefetches the next one's filter.
                previous?.following = filter
                previous = filter
            } else if cand.winograd {
                plan.steps[k].kernel = conv(s.node, epilogue: s.epilogue,
                                            winograd: WinogradFilter(weight: cand.weight, variant: cand.variant))
                plan.winograd += 1
            }
        }
        for k in pools.sorted() {
            plan.steps[k].kernel = PoolKernels.blockedMax(steps[k].node, outputBlocked: blocked.contains(steps[k].outputs[0]))
            plan.blockedPools += 1
        }
        // Each blocked value's producer: a direct conv or a pool, each with one output.
        var producer: [Int: Int] = [:]
        for k in direct.union(pools) { if let o = steps[k].outputs.first { producer[o] = k } }
        for o in blocked {
            guard let k = producer[o] else { continue }
            if let cand = candidates[k] {
                let positions = cand.geometry.oh * cand.geometry.ow
                plan.blockedBytes[o] = cand.batch * DirectConv.blockedFloats(channels: cand.outputs, positions: positions) * 4
            } else if let p = poolShapes[k] {
                plan.blockedBytes[o] = p.batch * DirectConv.blockedFloats(channels: p.channels, positions: p.positions) * 4
            }
        }
        return plan
    }
}
