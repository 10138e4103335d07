/// Recurrent layers RNN, GRU and LSTM (forward, reverse, bidirectional; layout 0 and 1;
/// sequence_lens; initial states; LSTM peepholes, input_forget; clip; the activation list with
/// alpha/beta), computed in Double one time step at a time; the common float32 LSTM (default
/// activations, no clip, peepholes or input_forget, full-length sequences) through sgemm instead.
import CKernels
import Foundation
import GraphIR

enum RecurrentKernels {
    static func activation(_ name: String, _ alpha: Float?, _ beta: Float?) throws -> (Double) -> Double {
        let a = Double(alpha ?? 0), b = Double(beta ?? 0)
        switch name.lowercased() {
        case "sigmoid": return { 1 / (1 + exp(-$0)) }
        case "tanh": return { tanh($0) }
        case "relu": return { max($0, 0) }
        case "hardsigmoid": let a = alpha.map(Double.init) ?? 0.2, b = beta.map(Double.init) ?? 0.5; return { min(max(a * $0 + b, 0), 1) }
        case "leakyrelu": let a = alpha.map(Double.init) ?? 0.01; return { $0 >= 0 ? $0 : a * $0 }
        case "thresholdedrelu": let a = alpha.map(Double.init) ?? 1; return { $0 > a ? $0 : 0 }
        case "scaledtanh": return { a * tanh(b * $0) }
        case "affine": return { a * $0 + b }
        case "elu": let a = alpha.map(Double.init) ?? 1; return { $0 >= 0 ? $0 : a * (exp($0) - 1) }
        case "softsign": return { $0 / (1 + abs($0)) }
        case "softplus": return { log1p(exp($0)) }
        default: throw KernelError("recurrent activation '\(name)' is not supported")
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
        let acts = try names.enumerated().map { try activation($0.element, $0.offset < alphas.count ? alphas[$0.offset] : nil,
                                                                  $0.offset < betas.count ? betas[$0.offset] : nil) }
        let plainLSTM = op == "LSTM" && names.map { $0.lowercased() } == Array((0..<dirs).map { _ in ["sigmoid", "tanh", "tanh"] }.joined())
            && alphas.isEmpty && betas.isEmpty && clip == nil && !inputForget
        return { io in
            let x = try io.input(0), w = try io.input(1), r = try io.input(2)
            if plainLSTM, try floatLSTM(&io, x: x, w: w, r: r, dirs: dirs, reverseOnly: direction == "reverse",
                                        layout: layout, wanted: node.outputs.map { !$0.isEmpty }) {
                return
            }
            guard x.shape.count == 3, w.shape.count == 3, r.shape.count == 3, w.shape[0] == dirs else {
                throw KernelError("X \(x.shape), W \(w.shape), R \(r.shape) do not fit \(dirs) direction(s)")
            }
            let seq = layout == 0 ? x.shape[0] : x.shape[1], batch = layout == 0 ? x.shape[1] : x.shape[0], input = x.shape[2]
            let hidden = r.shape[2]
            guard w.shape[1] == gates * hidden, w.shape[2] == input, r.shape[1] == gates * hidden else {
                throw KernelError("W \(w.shape) / R \(r.shape) do not fit hidden size \(hidden)")
            }
            let b = io.optionalInput(3), lens = io.optionalInput(4)?.int64Values()
            let h0 = io.optionalInput(5), c0 = op == "LSTM" ? io.optionalInput(6) : nil, peep = op == "LSTM" ? io.optionalInput(7) : nil
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

    /// A float32 LSTM with the default activations: X W^T + biases for every time step in one
    /// sgemm, then per step one sgemm adds H R^T and the gates run as vectorised sigmoid/tanh
    /// over rows. False (nothing written) when an input is not float32, a peephole or a
    /// shorter sequence is given, or a shape does not fit: the Double path handles those.
    static func floatLSTM(_ io: inout KernelIO, x: RuntimeTensor, w: RuntimeTensor, r: RuntimeTensor, dirs: Int,
                          reverseOnly: Bool, layout: Int, wanted: [Bool]) throws -> Bool {
        guard x.elementType == .float, w.elementType == .float, r.elementType == .float, x.shape.count == 3,
              w.shape.count == 3, r.shape.count == 3, w.shape[0] == dirs, r.shape[0] == dirs else { return false }
        let seq = layout == 0 ? x.shape[0] : x.shape[1], batch = layout == 0 ? x.shape[1] : x.shape[0]
        let input = x.shape[2], hidden = r.shape[2], g4 = 4 * hidden
        guard w.shape[1] == g4, w.shape[2] == input, r.shape[1] == g4, seq > 0, batch > 0, hidden > 0 else { return false }
        let b = io.optionalInput(3), h0 = io.optionalInput(5), c0 = io.optionalInput(6)
        if let p = io.optionalInput(7), p.count > 0 { return false }
        if let lens = io.optionalInput(4)?.int64Values(), lens.contains(where: { Int($0) != seq }) { return false }
        for t in [b, h0, c0] { if let t, t.elementType != .float { return false } }
        if let b, b.count != dirs * 2 * g4 { return false }
        if let h0, h0.count != dirs * batch * hidden { return false }
        if let c0, c0.count != dirs * batch * hidden { return false }

        let yShape = layout == 0 ? [seq, dirs, batch, hidden] : [batch, seq, dirs, hidden]
        let stShape = layout == 0 ? [dirs, batch, hidden] : [batch, dirs, hidden]
        let y = wanted.count > 0 && wanted[0] ? try io.output(0, .float, yShape) : nil
        let yh = wanted.count > 1 && wanted[1] ? try io.output(1, .float, stShape) : nil
        let yc = wanted.count > 2 && wanted[2] ? try io.output(2, .float, stShape) : nil
        // Scratch: X W^T for all steps, the step's gates, h, c and tanh(c).
        let rows = seq * batch
        let scratch = io.scratch(rows * g4 + batch * g4 + 3 * batch * hidden)
        let xw = scratch, gates = xw + rows * g4, h = gates + batch * g4, c = h + batch * hidden, tc = c + batch * hidden
        // Row of X (and of xw) holding time t, batch n; state (d, n) at its layout's index.
        func row(_ t: Int, _ n: Int) -> Int { layout == 0 ? t * batch + n : n * seq + t }
        func state(_ d: Int, _ n: Int) -> Int { (layout == 0 ? d * batch + n : n * dirs + d) * hidden }
        for d in 0..<dirs {
            let reverse = reverseOnly || d == 1
            BLAS.sgemm(transA: false, transB: true, m: rows, n: g4, k: input, alpha: 1, a: x.floats, lda: input,
                       b: w.floats + d * g4 * input, ldb: input, beta: 0, c: xw, ldc: g4)
            if let b {
                let wb = b.floats + d * 2 * g4, rb = wb + g4
                for i in 0..<rows { let row = xw + i * g4; for q in 0..<g4 { row[q] += wb[q] + rb[q] } }
            }
            for n in 0..<batch {
                for j in 0..<hidden {
                    h[n * hidden + j] = h0.map { $0.floats[state(d, n) + j] } ?? 0
                    c[n * hidden + j] = c0.map { $0.floats[state(d, n) + j] } ?? 0
                }
            }
            for s in 0..<seq {
                let t = reverse ? seq - 1 - s : s
                for n in 0..<batch { (gates + n * g4).update(from: xw + row(t, n) * g4, count: g4) }
                BLAS.sgemm(transA: false, transB: true, m: batch, n: g4, k: hidden, alpha: 1, a: h, lda: hidden,
                           b: r.floats + d * g4 * hidden, ldb: hidden, beta: 1, c: gates, ldc: g4)
                for n in 0..<batch {
                    // Gate order i, o, f, c: sigmoid over the first three, tanh over the cell's.
                    let g = gates + n * g4, cn = c + n * hidden, hn = h + n * hidden, tn = tc + n * hidden
                    gs_sigmoid(g, g, 3 * hidden)
                    gs_tanh(g + 3 * hidden, g + 3 * hidden, hidden)
                    for j in 0..<hidden { cn[j] = g[2 * hidden + j] * cn[j] + g[j] * g[3 * hidden + j] }
                    gs_tanh(cn, tn, hidden)
                    for j in 0..<hidden { hn[j] = g[hidden + j] * tn[j] }
                    if let y {
                        let at = layout == 0 ? ((t * dirs + d) * batch + n) * hidden : ((n * seq + t) * dirs + d) * hidden
                        (y.mutableFloats + at).update(from: hn, count: hidden)
                    }
                }
            }
            for n in 0..<batch {
                if let yh { (yh.mutableFloats + state(d, n)).update(from: h + n * hidden, count: hidden) }
                if let yc { (yc.mutableFloats + state(d, n)).update(from: c + n * hidden, count: hidden) }
            }
        }
        return true
    }
}
