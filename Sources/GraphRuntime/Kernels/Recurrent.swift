/// Recurrent layers RNN, GRU and LSTM (forward, reverse, bidirectional; layout 0 and 1;
/// sequence_lens; initial states; LSTM peepholes, input_forget; clip; the activation list with
/// alpha/beta), computed in Double one time step at a time for element types other than
/// float32; float32 takes the sgemm path in `RecurrentFloat.swift`.
import Foundation
import GraphIR

enum RecurrentKernels {
    /// A recurrent activation as the node names it, with ONNX's alpha/beta defaults resolved
    /// once: the Double path and the float32 path evaluate this one description.
    enum Activation {
        case sigmoid, tanh, relu, softsign, softplus
        case hardSigmoid(Double, Double), leakyRelu(Double), thresholdedRelu(Double), scaledTanh(Double, Double)
        case affine(Double, Double), elu(Double)

        init(_ name: String, alpha: Float?, beta: Float?) throws {
            let a = alpha.map(Double.init), b = beta.map(Double.init)
            switch name.lowercased() {
            case "sigmoid": self = .sigmoid
            case "tanh": self = .tanh
            case "relu": self = .relu
            case "hardsigmoid": self = .hardSigmoid(a ?? 0.2, b ?? 0.5)
            case "leakyrelu": self = .leakyRelu(a ?? 0.01)
            case "thresholdedrelu": self = .thresholdedRelu(a ?? 1)
            case "scaledtanh": self = .scaledTanh(a ?? 0, b ?? 0)
            case "affine": self = .affine(a ?? 0, b ?? 0)
            case "elu": self = .elu(a ?? 1)
            case "softsign": self = .softsign
            case "softplus": self = .softplus
            default: throw KernelError("recurrent activation '\(name)' is not supported")
            }
        }

        /// The activation of one value.
        func callAsFunction(_ x: Double) -> Double {
            switch self {
            case .sigmoid: return 1 / (1 + exp(-x))
            case .tanh: return Foundation.tanh(x)
            case .relu: return max(x, 0)
            case .hardSigmoid(let a, let b): return min(max(a * x + b, 0), 1)
            case .leakyRelu(let a): return x >= 0 ? x : a * x
            case .thresholdedRelu(let a): return x > a ? x : 0
            case .scaledTanh(let a, let b): return a * Foundation.tanh(b * x)
            case .affine(let a, let b): return a * x + b
            case .elu(let a): return x >= 0 ? x : a * (exp(x) - 1)
            case .softsign: return x / (1 + abs(x))
            case .softplus: return log1p(exp(x))
            }
        }
    }

    static func compile(_ node: Node) throws -> Kernel {
        let op = node.opType
        let gates = op == "LSTM" ? 4 : (op == "GRU" ? 3 : 1)
        let direction = node.string("direction", "forward"), dirs = direction == "bidirectional" ? 2 : 1
        let layout = node.int("layout", 0), clip = node.attribute("clip")?.floatValue.map(Double.init)
        let linearBeforeReset = node.int("linear_before_reset", 0) != 0, inputForget = node.int("input_forget", 0) != 0
        let perDir = op == "LSTM" ? ["Sigmoid", "Tanh", "Tanh"] : (op == "GRU" ? ["Sigmoid", "Tanh"] : ["Tanh"])
        var names: [String] = []
        if case .strings(let s)? = node.attribute("activations") { names = s.map { String(decoding: $0, as: UTF8.self) } }
        if names.isEmpty { names = Array((0..<dirs).map { _ in perDir }.joined()) }
        let alphas = node.attribute("activation_alpha")?.floatsValueList ?? [], betas = node.attribute("activation_beta")?.floatsValueList ?? []
        guard names.count == perDir.count * dirs else { throw KernelError("\(names.count) activations, needs \(perDir.count * dirs)") }
        let acts = try names.enumerated().map {
            try Activation($0.element, alpha: $0.offset < alphas.count ? alphas[$0.offset] : nil,
                           beta: $0.offset < betas.count ? betas[$0.offset] : nil)
        }
        let floatCell = FloatCell(cell: op == "LSTM" ? .lstm : (op == "GRU" ? .gru : .rnn), activations: acts,
                                  clip: clip.map { Float($0) }, linearBeforeReset: linearBeforeReset, inputForget: inputForget,
                                  reverseOnly: direction == "reverse", directions: dirs, layout: layout)
        let wanted = node.outputs.map { !$0.isEmpty }
        return { io in
            let x = try io.input(0), w = try io.input(1), r = try io.input(2)
            if try floatRecurrent(&io, floatCell, x: x, w: w, r: r, wanted: wanted) { return }
            guard x.shape.count == 3, w.shape.count == 3, r.shape.count == 3, w.shape[0] == dirs else {
                throw KernelError("X \(x.shape), W \(w.shape), R \(r.shape) do not fit \(dirs) direction(s)")
            }
            let seq = layout == 0 ? x.shape[0] : x.shape[1], batch = layout == 0 ? x.shape[1] : x.shape[0], input = x.shape[2]
            let hidden = r.shape[2]
            guard w.shape[1] == gates * hidden, w.shape[2] == input, r.shape[1] == gates * hidden else {
                throw KernelError("W \(w.shape) / R \(r.shape) do not fit hidden size \(hidden)")
            }
            let b = io.optionalInput(3), lens = io.optionalInput(4)?.int64Values()
            if let lens, lens.count != batch || lens.contains(where: { $0 < 0 || $0 > Int64(seq) }) {
                throw KernelError("sequence_lens \(lens.prefix(8)) must hold \(batch) lengths between 0 and \(seq)")
            }
            let h0 = io.optionalInput(5), c0 = op == "LSTM" ? io.optionalInput(6) : nil
            let peep = op == "LSTM" ? io.optionalInput(7).flatMap { $0.count > 0 ? $0 : nil } : nil
            // Every optional input is read at computed offsets: a wrong size is an error here,
            // never a read past its end.
            for (name, t, count) in [("B", b, dirs * 2 * gates * hidden), ("initial_h", h0, dirs * batch * hidden),
                                     ("initial_c", c0, dirs * batch * hidden), ("P", peep, dirs * 3 * hidden)] {
                if let t, t.count != count { throw KernelError("\(name) has \(t.count) elements (shape \(t.shape)), needs \(count)") }
            }
            func xAt(_ t: Int, _ n: Int, _ k: Int) -> Double { x.double(at: layout == 0 ? (t * batch + n) * input + k : (n * seq + t) * input + k) }
            let yShape = layout == 0 ? [seq, dirs, batch, hidden] : [batch, seq, dirs, hidden]
            let stShape = layout == 0 ? [dirs, batch, hidden] : [batch, dirs, hidden]
            var yv = [Double](repeating: 0, count: seq * dirs * batch * hidden)
            var hv = [Double](repeating: 0, count: dirs * batch * hidden), cv = hv
            for d in 0..<dirs {
                let reverse = direction == "reverse" || d == 1
                let f = acts[d * perDir.count], g = acts[min(d * perDir.count + 1, acts.count - 1)]
                let hAct = op == "LSTM" ? acts[d * perDir.count + 2] : g
                for n in 0..<batch {
                    let len = lens.map { Int($0[n]) } ?? seq
                    var h = [Double](repeating: 0, count: hidden), c = h
                    for j in 0..<hidden {
                        let si = layout == 0 ? (d * batch + n) * hidden + j : (n * dirs + d) * hidden + j
                        h[j] = h0?.double(at: si) ?? 0
                        c[j] = c0?.double(at: si) ?? 0
                    }
                    for s in 0..<min(len, seq) {
                        let t = reverse ? len - 1 - s : s
                        // Per gate: Xt*W^T + Wb and Ht-1*R^T + Rb, kept apart (GRU needs both).
                        var xw = [Double](repeating: 0, count: gates * hidden), hr = xw
                        for q in 0..<(gates * hidden) {
                            var a = b?.double(at: d * 2 * gates * hidden + q) ?? 0
                            for k in 0..<input { a += xAt(t, n, k) * w.double(at: (d * gates * hidden + q) * input + k) }
                            xw[q] = a
                            var e = b?.double(at: d * 2 * gates * hidden + gates * hidden + q) ?? 0
                            for k in 0..<hidden { e += h[k] * r.double(at: (d * gates * hidden + q) * hidden + k) }
                            hr[q] = e
                        }
                        func cl(_ v: Double) -> Double { clip.map { min(max(v, -$0), $0) } ?? v }
                        var nh = h
                        switch op {
                        case "LSTM":
                            for j in 0..<hidden {
                                let p = { (g: Int) in peep?.double(at: d * 3 * hidden + g * hidden + j) ?? 0 }
                                let i = f(cl(xw[j] + hr[j] + p(0) * c[j]))
                                var fg = f(cl(xw[2 * hidden + j] + hr[2 * hidden + j] + p(2) * c[j]))
                                if inputForget { fg = 1 - i }
                                let cc = g(cl(xw[3 * hidden + j] + hr[3 * hidden + j]))
                                c[j] = fg * c[j] + i * cc
                                let o = f(cl(xw[hidden + j] + hr[hidden + j] + p(1) * c[j]))
                                nh[j] = o * hAct(c[j])
                            }
                        case "GRU":
                            let resetGate = (0..<hidden).map { f(cl(xw[hidden + $0] + hr[hidden + $0])) }
                            for j in 0..<hidden {
                                let z = f(cl(xw[j] + hr[j])), rr = resetGate[j]
                                var cand: Double
                                if linearBeforeReset { cand = xw[2 * hidden + j] + rr * hr[2 * hidden + j] }
                                else {
                                    var e = b?.double(at: d * 2 * gates * hidden + gates * hidden + 2 * hidden + j) ?? 0
                                    for k in 0..<hidden { e += h[k] * resetGate[k] * r.double(at: (d * gates * hidden + 2 * hidden + j) * hidden + k) }
                                    cand = xw[2 * hidden + j] + e
                                }
                                let hh = g(cl(cand))
                                nh[j] = (1 - z) * hh + z * h[j]
                            }
                        default:
                            for j in 0..<hidden { nh[j] = f(cl(xw[j] + hr[j])) }
                        }
                        h = nh
                        for j in 0..<hidden {
                            let yi = layout == 0 ? ((t * dirs + d) * batch + n) * hidden + j : ((n * seq + t) * dirs + d) * hidden + j
                            yv[yi] = h[j]
                        }
                    }
                    for j in 0..<hidden {
                        let si = layout == 0 ? (d * batch + n) * hidden + j : (n * dirs + d) * hidden + j
                        hv[si] = h[j]; cv[si] = c[j]
                    }
                }
            }
            let outs: [(Int, [Int], [Double])] = [(0, yShape, yv), (1, stShape, hv), (2, stShape, cv)]
            for (j, shape, vals) in outs where j < node.outputs.count && !node.outputs[j].isEmpty && (j < 2 || op == "LSTM") {
                let t = try io.output(j, x.elementType, shape)
                for (i, v) in vals.enumerated() { t.setDouble(v, at: i) }
            }
        }
    }
}
