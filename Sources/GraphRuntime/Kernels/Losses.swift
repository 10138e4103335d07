/// Loss ops computed in Double: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (with
/// class weights, ignore_index, reductions none/sum/mean, and the optional log_prob output).
import Foundation
import GraphIR

enum LossKernels {
    /// NLL of `logProb` ([N, C, d...], flat Doubles) against `target` ([N, d...]).
    static func nllValues(_ logProb: [Double], shape: [Int], target: RuntimeTensor, weight: RuntimeTensor?,
                          ignore: Int64?) throws -> (losses: [Double], weights: [Double]) {
        guard shape.count >= 2 else { throw KernelError("input must be at least 2-D, got \(shape)") }
        let n = shape[0], c = shape[1], inner = shape.dropFirst(2).reduce(1, *)
        guard target.shape == [n] + Array(shape.dropFirst(2)) else {
            throw KernelError("target shape \(target.shape) does not fit input \(shape)")
        }
        if let weight, weight.count != c { throw KernelError("weight has \(weight.count) elements, needs \(c)") }
        let t = target.int64Values()
        var losses = [Double](repeating: 0, count: n * inner), ws = losses
        for b in 0..<n {
            for i in 0..<inner {
                let k = b * inner + i, cls = t[k]
                if let ignore, cls == ignore { continue }
                guard cls >= 0, cls < c else { throw KernelError("target \(cls) is out of range for \(c) classes") }
                let w = weight?.double(at: Int(cls)) ?? 1
                losses[k] = -logProb[(b * c + Int(cls)) * inner + i] * w
                ws[k] = w
            }
        }
        return (losses, ws)
    }

    /// Writes the reduced loss into output 0.
    static func reduce(_ io: inout KernelIO, _ r: (losses: [Double], weights: [Double]), reduction: String,
                       type: ElementType, shape: [Int]) throws {
        switch reduction {
        case "none":
            let y = try io.output(0, type, shape)
            for (i, v) in r.losses.enumerated() { y.setDouble(v, at: i) }
        case "sum":
            let y = try io.output(0, type, [])
            y.setDouble(r.losses.reduce(0, +), at: 0)
        default:
            let y = try io.output(0, type, [])
            let w = r.weights.reduce(0, +)
            y.setDouble(w == 0 ? 0 : r.losses.reduce(0, +) / w, at: 0)
        }
    }

    static func nll(_ node: Node) -> Kernel {
        let reduction = node.string("reduction", "mean")
        let ignore = node.attribute("ignore_index")?.intValue
        return { io in
            let x = try io.input(0), target = try io.input(1)
            let values = (0..<x.count).map { x.double(at: $0) }
            let r = try nllValues(values, shape: x.shape, target: target, weight: io.optionalInput(2), ignore: ignore)
            try reduce(&io, r, reduction: reduction, type: x.elementType, shape: target.shape)
        }
    }

    static func softmaxCrossEntropy(_ node: Node) -> Kernel {
        let reduction = node.string("reduction", "mean")
        let ignore = node.attribute("ignore_index")?.intValue
        let wantsLogProb = node.outputs.count > 1 && !node.outputs[1].isEmpty
        return { io in
            let x = try io.input(0), target = try io.input(1)
            guard x.shape.count >= 2 else { throw KernelError("scores must be at least 2-D, got \(x.shape)") }
            let n = x.shape[0], c = x.shape[1], inner = x.shape.dropFirst(2).reduce(1, *)
            var lp = (0..<x.count).map { x.double(at: $0) }
            for b in 0..<n {
                for i in 0..<inner {
                    var m = -Double.infinity
                    for k in 0..<c { m = max(m, lp[(b * c + k) * inner + i]) }
                    var s = 0.0
                    for k in 0..<c { s += exp(lp[(b * c + k) * inner + i] - m) }
                    let l = log(s) + m
                    for k in 0..<c { lp[(b * c + k) * inner + i] -= l }
                }
            }
            let r = try nllValues(lp, shape: x.shape, target: target, weight: io.optionalInput(2), ignore: ignore)
            try reduce(&io, r, reduction: reduction, type: x.elementType, shape: target.shape)
            if wantsLogProb {
                let y = try io.output(1, x.elementType, x.shape)
                for (i, v) in lp.enumerated() { y.setDouble(v, at: i) }
            }
        }
    }
}
