/// The cheap com.microsoft ops onnxruntime's optimizers emit, so a graph rewritten by them can
/// be run and compared: Gelu, FastGelu, BiasGelu, QuickGelu, FusedMatMul, FusedGemm,
/// FusedConv (activation and optional sum input Z), SkipLayerNormalization and
/// MultiHeadAttention (`ContribAttention.swift`). float32.
import CKernels
import Foundation
import GraphIR

enum ContribKernels {
    static func compile(_ node: Node) throws -> Kernel {
        switch node.opType {
        case "Gelu": return ElementwiseKernels.vectorUnary(gs_gelu) { 0.5 * $0 * (1 + erf($0 * 0.7071067811865476)) }
        case "QuickGelu":
            let a = node.float("alpha", 1.702)
            return ElementwiseKernels.unary { $0 / (1 + exp(-a * $0)) }
        case "FastGelu", "BiasGelu":
            let fast = node.opType == "FastGelu"
            return { io in
                let x = try io.floatInput(0)
                let bias = try io.optionalInput(1).map { b -> RuntimeTensor in
                    guard b.elementType == .float, b.count > 0, x.count % b.count == 0 else { throw KernelError("bias \(b.shape) does not fit \(x.shape)") }
                    return b
                }
                let y = try io.output(0, .float, x.shape)
                let s = x.floats, d = y.mutableFloats, bn = bias?.count ?? 1
                for i in 0..<x.count {
                    let v = s[i] + (bias?.floats[i % bn] ?? 0)
                    d[i] = fast ? 0.5 * v * (1 + tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)))
                                : 0.5 * v * (1 + erf(v * 0.7071067811865476))
                }
            }
        case "FusedMatMul":
            guard node.int("transBatchA", 0) == 0, node.int("transBatchB", 0) == 0 else {
                throw KernelError("FusedMatMul with transBatchA/transBatchB is not supported")
            }
            let alpha = node.float("alpha", 1), ta = node.int("transA", 0) != 0, tb = node.int("transB", 0) != 0
            let matmul = LinearKernels.matmul()
            return { io in
                var a = try io.floatInput(0), b = try io.floatInput(1)
                if ta { a = try transposeLast(a) }
                if tb { b = try transposeLast(b) }
                var inner = KernelIO(inputs: [a, b], outputs: io.outputs, step: io.step, arena: io.arena)
                try matmul(&inner)
                io.outputs = inner.outputs
                if alpha != 1, let y = io.outputs.first ?? nil { let p = y.mutableFloats; for i in 0..<y.count { p[i] *= alpha } }
            }
        case "FusedGemm": return try activated(node, LinearKernels.gemm(node))
        case "FusedConv":
            let conv = ConvKernels.conv(node)
            return try activated(node) { io in
                try conv(&io)
                if let z = io.optionalInput(3), let y = io.outputs.first ?? nil {
                    guard z.elementType == .float, z.count == y.count else { throw KernelError("Z \(z.shape) must match the output \(y.shape)") }
                    let p = y.mutableFloats
                    for i in 0..<y.count { p[i] += z.floats[i] }
                }
            }
        case "SkipLayerNormalization": return skipLayerNorm(node)
        case "MultiHeadAttention": return ContribAttentionKernels.multiHead(node)
        default:
            throw KernelError("op com.microsoft::\(node.opType) is not supported by the interpreter")
        }
    }

    /// `t` with its last two axes swapped (a fresh tensor).
    static func transposeLast(_ t: RuntimeTensor) throws -> RuntimeTensor {
        guard t.shape.count >= 2 else { throw KernelError("cannot transpose \(t.shape)") }
        let r = t.shape.count, m = t.shape[r - 2], n = t.shape[r - 1]
        var shape = t.shape; shape.swapAt(r - 2, r - 1)
        let out = RuntimeTensor(zeros: .float, shape: shape)
        let s = t.floats, d = out.mutableFloats
        for b in 0..<(t.count / max(m * n, 1)) { for i in 0..<m { for j in 0..<n { d[b * m * n + j * m + i] = s[b * m * n + i * n + j] } } }
        return out
    }

    /// `inner` followed by the node's `activation` attribute applied to output 0 in place.
    static func activated(_ node: Node, _ inner: @escaping Kernel) throws -> Kernel {
        let name = node.string("activation", "")
        let params: [Float] = node.attribute("activation_params")?.floatsValueList ?? []
        let alpha = node.attribute("activation_alpha")?.floatValue ?? params.first ?? 0.01
        let beta = node.attribute("activation_beta")?.floatValue ?? (params.count > 1 ? params[1] : 0.5)
        let f: ((Float) -> Float)?
        switch name {
        case "": f = nil
        case "Relu": f = { max($0, 0) }
        case "Tanh": f = { tanh($0) }
        case "Sigmoid": f = { 1 / (1 + exp(-$0)) }
        case "LeakyRelu": f = { $0 >= 0 ? $0 : alpha * $0 }
        case "HardSigmoid":
            let a = params.isEmpty ? 0.2 : alpha
            f = { min(max(a * $0 + beta, 0), 1) }
        case "Clip":
            let lo: Float = params.first ?? -Float.greatestFiniteMagnitude
            let hi: Float = params.count > 1 ? params[1] : Float.greatestFiniteMagnitude
            f = { min(max($0, lo), hi) }
        default: throw KernelError("activation '\(name)' is not supported")
        }
        guard let f else { return inner }
        return { io in
            try inner(&io)
            guard let y = io.outputs.first ?? nil else { return }
            let p = y.mutableFloats
            for i in 0..<y.count { p[i] = f(p[i]) }
        }
    }

    static func skipLayerNorm(_ node: Node) -> Kernel {
        let eps = node.float("epsilon", 1e-12)
        return { io in
            let x = try io.floatInput(0), skip = try io.floatInput(1), gamma = try io.floatInput(2)
            let beta = io.optionalInput(3), bias = io.optionalInput(4)
            guard let h = x.shape.last, h > 0, skip.count == x.count || skip.count % h == 0, gamma.count == h else {
                throw KernelError("input \(x.shape), skip \(skip.shape) and gamma \(gamma.shape) do not fit")
            }
            if let b = beta, b.count > 0, b.count != h { throw KernelError("beta must have \(h) elements") }
            if let b = bias, b.count > 0, b.count != h { throw KernelError("bias must have \(h) elements") }
            let rows = x.count / h
            let y = try io.output(0, .float, x.shape)
            var statShape = x.shape; statShape[statShape.count - 1] = 1
            let meanT = node.outputs.count > 1 && !node.outputs[1].isEmpty ? try io.output(1, .float, statShape) : nil
            let invT = node.outputs.count > 2 && !node.outputs[2].isEmpty ? try io.output(2, .float, statShape) : nil
            let sumT = node.outputs.count > 3 && !node.outputs[3].isEmpty ? try io.output(3, .float, x.shape) : nil
            var row = [Float](repeating: 0, count: h)
            for r in 0..<rows {
                var mean: Float = 0
                for k in 0..<h {
                    let v = x.floats[r * h + k] + skip.floats[(r * h + k) % skip.count] + (bias.map { $0.count > 0 ? $0.floats[k] : 0 } ?? 0)
                    row[k] = v; mean += v
                    sumT?.mutableFloats[r * h + k] = v
                }
                mean /= Float(h)
                var v2: Float = 0
                for k in 0..<h { let d = row[k] - mean; v2 += d * d }
                let inv = 1 / (v2 / Float(h) + eps).squareRoot()
                for k in 0..<h {
                    y.mutableFloats[r * h + k] = (row[k] - mean) * inv * gamma.floats[k] + (beta.map { $0.count > 0 ? $0.floats[k] : 0 } ?? 0)
                }
                meanT?.mutableFloats[r] = mean
                invT?.mutableFloats[r] = inv
            }
        }
    }
}
