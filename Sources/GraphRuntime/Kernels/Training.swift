/// Ops outside the default domain that are plain arithmetic: the ai.onnx.preview.training
/// optimizer steps (Adagrad, Adam, Momentum/Nesterov, each over n tensors at once) and the
/// simple ai.onnx.ml ones (Binarizer, ArrayFeatureExtractor; LabelEncoder lives with the string kernels).
import Foundation
import GraphIR

enum TrainingKernels {
    /// The kernel for an ai.onnx.preview.training node.
    static func compile(_ node: Node) throws -> Kernel {
        switch node.opType {
        case "Adagrad": return adagrad(node)
        case "Adam": return adam(node)
        case "Momentum": return momentum(node)
        default: throw KernelError("op ai.onnx.preview.training::\(node.opType) is not supported by the interpreter")
        }
    }

    /// The kernel for an ai.onnx.ml node.
    static func compileML(_ node: Node) throws -> Kernel {
        switch node.opType {
        case "Binarizer": return binarizer(node)
        case "ArrayFeatureExtractor": return arrayFeatureExtractor
        case "LabelEncoder": return try StringKernels.labelEncoder(node)
        default: throw KernelError("op ai.onnx.ml::\(node.opType) is not supported by the interpreter")
        }
    }

    /// Inputs R, T, then `groups` runs of n tensors (X..., G..., state...); n from the count.
    private static func split(_ io: KernelIO, groups: Int) throws -> (r: Double, t: Double, n: Int) {
        let count = io.inputs.count - 2
        guard count > 0, count % groups == 0 else {
            throw KernelError("expected R, T and \(groups) groups of equally many tensors, got \(io.inputs.count) inputs")
        }
        let r = try io.input(0), t = try io.input(1)
        return (r.double(at: 0), t.double(at: 0), count / groups)
    }

    static func adagrad(_ node: Node) -> Kernel {
        let norm = Double(node.float("norm_coefficient", 0)), decay = Double(node.float("decay_factor", 0))
        let eps = Double(node.float("epsilon", 1e-6))
        return { io in
            let (r, t, n) = try split(io, groups: 3)
            let rate = r / (1 + t * decay)
            for j in 0..<n {
                let x = try io.input(2 + j), g = try io.input(2 + n + j), h = try io.input(2 + 2 * n + j)
                let xo = try io.output(j, x.elementType, x.shape), ho = try io.output(n + j, h.elementType, h.shape)
                for i in 0..<x.count {
                    let gr = norm * x.double(at: i) + g.double(at: i)
                    let hn = h.double(at: i) + gr * gr
                    ho.setDouble(hn, at: i)
                    xo.setDouble(x.double(at: i) - rate * gr / (hn.squareRoot() + eps), at: i)
                }
            }
        }
    }

    static func adam(_ node: Node) -> Kernel {
        let norm = Double(node.float("norm_coefficient", 0)), post = Double(node.float("norm_coefficient_post", 0))
        let alpha = Double(node.float("alpha", 0.9)), beta = Double(node.float("beta", 0.999))
        let eps = Double(node.float("epsilon", 1e-6))
        return { io in
            let (r, t, n) = try split(io, groups: 4)
            let rate = t > 0 ? r * (1 - pow(beta, t)).squareRoot() / (1 - pow(alpha, t)) : r
            for j in 0..<n {
                let x = try io.input(2 + j), g = try io.input(2 + n + j)
                let v = try io.input(2 + 2 * n + j), h = try io.input(2 + 3 * n + j)
                let xo = try io.output(j, x.elementType, x.shape)
                let vo = try io.output(n + j, v.elementType, v.shape), ho = try io.output(2 * n + j, h.elementType, h.shape)
                for i in 0..<x.count {
                    let gr = norm * x.double(at: i) + g.double(at: i)
                    let vn = alpha * v.double(at: i) + (1 - alpha) * gr
                    let hn = beta * h.double(at: i) + (1 - beta) * gr * gr
                    vo.setDouble(vn, at: i); ho.setDouble(hn, at: i)
                    let xn = x.double(at: i) - rate * vn / (hn.squareRoot() + eps)
                    xo.setDouble((1 - post) * xn, at: i)
                }
            }
        }
    }

    static func momentum(_ node: Node) -> Kernel {
        let norm = Double(node.float("norm_coefficient", 0)), alpha = Double(node.float("alpha", 0))
        let beta = Double(node.float("beta", 0)), nesterov = node.string("mode", "standard") == "nesterov"
        return { io in
            let (r, t, n) = try split(io, groups: 3)
            let b = t > 0 ? beta : 1
            for j in 0..<n {
                let x = try io.input(2 + j), g = try io.input(2 + n + j), v = try io.input(2 + 2 * n + j)
                let xo = try io.output(j, x.elementType, x.shape), vo = try io.output(n + j, v.elementType, v.shape)
                for i in 0..<x.count {
                    let gr = norm * x.double(at: i) + g.double(at: i)
                    let vn = alpha * v.double(at: i) + b * gr
                    vo.setDouble(vn, at: i)
                    xo.setDouble(x.double(at: i) - r * (nesterov ? gr + alpha * vn : vn), at: i)
                }
            }
        }
    }

    static func binarizer(_ node: Node) -> Kernel {
        let threshold = Double(node.float("threshold", 0))
        return { io in
            let x = try io.input(0)
            let y = try io.output(0, x.elementType, x.shape)
            for i in 0..<x.count { y.setDouble(x.double(at: i) > threshold ? 1 : 0, at: i) }
        }
    }

    /// Z[..., j] = X[..., Y[j]]: selects last-axis elements by index.
    static let arrayFeatureExtractor: Kernel = { io in
        let x = try io.input(0), idx = try io.input(1).int64Values().map(Int.init)
        guard let last = x.shape.last else { throw KernelError("X must have at least one dimension") }
        for i in idx where i < 0 || i >= last { throw KernelError("index \(i) is outside the last dimension of \(last)") }
        let outer = x.count / max(last, 1)
        let shape = x.shape.count == 1 ? [1, idx.count] : Array(x.shape.dropLast()) + [idx.count]
        let y = try io.output(0, x.elementType, shape)
        let size = x.elementSize
        for o in 0..<outer {
            for (j, i) in idx.enumerated() {
                (y.raw + (o * idx.count + j) * size).copyMemory(from: x.raw + (o * last + i) * size, byteCount: size)
            }
        }
    }
}
