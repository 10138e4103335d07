/// Plan-time fusion of RMS normalisation written out as elementwise ops, as torch exports a
/// Llama-style `RMSNorm` (and onnxruntime's SimplifiedLayerNormalization fusion recognises):
///
///     Pow(x, 2) -> ReduceMean(last axis, keepdims) -> Add(eps) -> Sqrt -> Reciprocal
///     -> Mul(x, .) [-> Mul(weight, .)]
///
/// becomes one step running the RMS row kernel over x's last axis. Seven steps and six
/// intermediate tensors per norm become one. Decided by structure, constants and inferred
/// shapes only: every intermediate value must be read by the next op alone and be neither a
/// graph output nor kept; eps must be a constant scalar; the weight a float constant of x's
/// last-dim size. Plans that keep every value do not fuse (see `ExecutionPlan.build`).
import CKernels
import GraphIR
import GraphOps

enum NormalizationFusion {
    /// `steps` with each recognised RMS normalisation replaced by one step.
    static func fuse(_ steps: [StepDraft], constants: [Int: RuntimeTensor], names: [String], facts: InferenceResult,
                     pinned: Set<Int>) -> [StepDraft] {
        var uses: [Int: [Int]] = [:]
        for (k, s) in steps.enumerated() { for i in s.inputs where i >= 0 { uses[i, default: []].append(k) } }
        // The one step reading `v`, when exactly one does and `v` may disappear.
        func soleReader(_ v: Int) -> Int? {
            guard !pinned.contains(v), let readers = uses[v], readers.count == 1 else { return nil }
            return readers[0]
        }
        func scalar(_ v: Int) -> Float? {
            guard let t = constants[v], t.elementType == .float, t.count == 1 else { return nil }
            return t.floats[0]
        }
        func isOp(_ k: Int, _ op: String, inputs: Int) -> Bool {
            let s = steps[k]
            return s.node.opType == op && s.opType == op && s.node.domain.isEmpty && s.inputs.count >= inputs
                && s.outputs.count == 1 && s.outputs[0] >= 0
        }

        var removed = Set<Int>(), replacement: [Int: StepDraft] = [:]
        for (k, pow) in steps.enumerated() where isOp(k, "Pow", inputs: 2) {
            let x = pow.inputs[0]
            guard x >= 0, pow.inputs[1] >= 0, scalar(pow.inputs[1]) == 2,
                  let dims = facts.type(of: names[x])?.dims, facts.type(of: names[x])?.elementType == .float,
                  let last = dims.last??.intValue, last > 0 else { continue }
            let lastDim = Int(last)
            let rank = dims.count
            // ReduceMean over the last axis only, keeping it.
            guard let m = soleReader(pow.outputs[0]), isOp(m, "ReduceMean", inputs: 1),
                  steps[m].node.int("keepdims", 1) != 0, lastAxisOnly(steps[m], rank: rank, constants: constants),
                  let a = soleReader(steps[m].outputs[0]), isOp(a, "Add", inputs: 2) else { continue }
            let meanOut = steps[m].outputs[0]
            let epsInput = steps[a].inputs[0] == meanOut ? steps[a].inputs[1] : steps[a].inputs[0]
            guard epsInput >= 0, let eps = scalar(epsInput), eps >= 0,
                  let sq = soleReader(steps[a].outputs[0]), isOp(sq, "Sqrt", inputs: 1),
                  let r = soleReader(steps[sq].outputs[0]), isOp(r, "Reciprocal", inputs: 1),
                  let u = soleReader(steps[r].outputs[0]), isOp(u, "Mul", inputs: 2),
                  Set(steps[u].inputs) == [x, steps[r].outputs[0]] else { continue }
            var members = [k, m, a, sq, r, u], output = steps[u].outputs[0]
            var scale: RuntimeTensor? = nil
            // The weight multiply, when the normalised value feeds only it.
            if let w = soleReader(output), isOp(w, "Mul", inputs: 2) {
                let other = steps[w].inputs[0] == output ? steps[w].inputs[1] : steps[w].inputs[0]
                if other >= 0, let t = constants[other], t.elementType == .float, t.count == lastDim,
                   t.shape.last == lastDim, t.shape.count <= rank {
                    scale = t
                    members.append(w)
                    output = steps[w].outputs[0]
                }
            }
            guard facts.type(of: names[output])?.elementType == .float else { continue }
            let nodes = members.map { steps[$0].node }
            removed.formUnion(members)
            replacement[members[members.count - 1]] = StepDraft(
                node: nodes[0], opType: nodes.map(\.opType).joined(separator: "+"),
                kernel: rmsKernel(scale: scale, eps: eps), inputs: [x], outputs: [output],
                members: Array(nodes.dropFirst()))
        }
        if replacement.isEmpty { return steps }
        var out: [StepDraft] = []
        for (k, s) in steps.enumerated() {
            if let r = replacement[k] { out.append(r) } else if !removed.contains(k) { out.append(s) }
        }
        return out
    }

    /// Whether a ReduceMean reduces exactly the last of `rank` axes (attribute before opset 18,
    /// constant input after).
    private static func lastAxisOnly(_ s: StepDraft, rank: Int, constants: [Int: RuntimeTensor]) -> Bool {
        var axes = s.node.ints("axes")
        if s.inputs.count > 1, s.inputs[1] >= 0 {
            guard let t = constants[s.inputs[1]] else { return false }
            axes = t.int64Values().map { Int($0) }
        }
        guard let axes, axes.count == 1 else { return false }
        return axes[0] == rank - 1 || axes[0] == -1
    }

    /// y = x / sqrt(mean(x^2, last axis) + eps) (* scale), rows through the C kernel.
    private static func rmsKernel(scale: RuntimeTensor?, eps: Float) -> Kernel {
        return { io in
            let x = try io.floatInput(0)
            guard let n = x.shape.last, n > 0 else { throw KernelError("RMS normalisation of \(x.shape)") }
            let y = try io.output(0, .float, x.shape)
            if let scale {
                guard scale.count == n else { throw KernelError("weight of \(scale.count) for rows of \(n)") }
                gs_layer_norm_rows(x.floats, scale.floats, nil, y.mutableFloats, x.count / n, n, eps, 1, nil, nil)
            } else {
                let ones = [Float](repeating: 1, count: n)
                ones.withUnsafeBufferPointer {
                    gs_layer_norm_rows(x.floats, $0.baseAddress, nil, y.mutableFloats, x.count / n, n, eps, 1, nil, nil)
                }
            }
        }
    }
}
