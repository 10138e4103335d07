/// The float32 path of RNN, GRU and LSTM: every configuration the ONNX spec allows (directions,
/// layouts, biases, initial states, sequence_lens, LSTM peepholes and input_forget, GRU
/// linear_before_reset, clip, any activation list with alpha/beta) when every input is float32.
///
/// Per direction, X W^T plus the biases for all time steps is one sgemm; each step adds
/// H R^T with one product over the batch (GRU: two, since its candidate reads the reset gate;
/// small batches through the unpacked register-tile kernel on R^T transposed once per run),
/// then the gates run over rows with vectorised sigmoid/tanh. Rows whose sequence is shorter
/// skip their update, so their state holds and their Y entries stay zero. The Double path in
/// `Recurrent.swift` keeps other element types (float64, float16, bfloat16).
import CKernels
import Foundation
import GraphIR

extension RecurrentKernels {
    /// Which recurrent cell.
    enum Cell {
        case rnn, gru, lstm

        /// Gates per hidden unit: the rows of W and R per direction are `gates * hidden`.
        var gates: Int {
            switch self {
            case .rnn: return 1
            case .gru: return 3
            case .lstm: return 4
            }
        }
    }

    /// Applies `activation` in place over a run of floats: sigmoid and tanh through the
    /// vectorised C loops, the others element by element.
    static func apply(_ activation: Activation, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
        switch activation {
        case .sigmoid: gs_sigmoid(p, p, n)
        case .tanh: gs_tanh(p, p, n)
        default: for i in 0..<n { p[i] = Float(activation(Double(p[i]))) }
        }
    }

    /// What the float32 path needs from the node's attributes.
    struct FloatCell {
        var cell: Cell
        /// Per direction, the cell's activations in ONNX order (RNN f; GRU f, g; LSTM f, g, h).
        var activations: [Activation]
        var clip: Float?
        var linearBeforeReset: Bool
        var inputForget: Bool
        var reverseOnly: Bool
        var directions: Int
        var layout: Int
        /// Y's and Y_h/Y_c's shapes for the last X and R shapes, and the rows' lengths: kept
        /// between calls (a run allocates nothing for them).
        let shapes = ShapeMemo<(y: [Int], state: [Int])>()
        let lengths = KernelBuffer()
    }

    /// Runs the cell in float32. False (nothing written) when an input is not float32 or a
    /// shape or sequence length does not fit: the Double path then handles it or reports why.
    static func floatRecurrent(_ io: inout KernelIO, _ spec: FloatCell, x: RuntimeTensor, w: RuntimeTensor,
                               r: RuntimeTensor, wanted: [Bool]) throws -> Bool {
        let dirs = spec.directions, layout = spec.layout, cell = spec.cell
        guard x.elementType == .float, w.elementType == .float, r.elementType == .float, x.shape.count == 3,
              w.shape.count == 3, r.shape.count == 3, w.shape[0] == dirs, r.shape[0] == dirs else { return false }
        let seq = layout == 0 ? x.shape[0] : x.shape[1], batch = layout == 0 ? x.shape[1] : x.shape[0]
        let input = x.shape[2], hidden = r.shape[2], g = cell.gates * hidden
        guard w.shape[1] == g, w.shape[2] == input, r.shape[1] == g, seq > 0, batch > 0, hidden > 0,
              spec.activations.count >= dirs * (cell == .lstm ? 3 : cell == .gru ? 2 : 1) else { return false }
        let b = io.optionalInput(3), h0 = io.optionalInput(5)
        let c0 = cell == .lstm ? io.optionalInput(6) : nil
        let peep = cell == .lstm ? io.optionalInput(7).flatMap { $0.count > 0 ? $0 : nil } : nil
        if b.map({ $0.elementType != .float }) == true || h0.map({ $0.elementType != .float }) == true
            || c0.map({ $0.elementType != .float }) == true || peep.map({ $0.elementType != .float }) == true { return false }
        if let b, b.count != dirs * 2 * g { return false }
        if let h0, h0.count != dirs * batch * hidden { return false }
        if let c0, c0.count != dirs * batch * hidden { return false }
        if let peep, peep.count != dirs * 3 * hidden { return false }
        let lens = spec.lengths.pointer(Int.self, count: batch)
        if let given = io.optionalInput(4) {
            guard given.count == batch else { return false }
            for n in 0..<batch {
                let v = given.double(at: n)
                guard v >= 0, v <= Double(seq) else { return false }
                lens[n] = Int(v)
            }
        } else {
            for n in 0..<batch { lens[n] = seq }
        }
        var longest = 0, short = false
        for n in 0..<batch { longest = max(longest, lens[n]); if lens[n] < seq { short = true } }

        let (yShape, stShape) = spec.shapes.geometry({ $0.add(x.shape); $0.add(r.shape) }) {
            (layout == 0 ? [seq, dirs, batch, hidden] : [batch, seq, dirs, hidden],
             layout == 0 ? [dirs, batch, hidden] : [batch, dirs, hidden])
        }
        let y = wanted.count > 0 && wanted[0] ? try io.output(0, .float, yShape) : nil
        let yh = wanted.count > 1 && wanted[1] ? try io.output(1, .float, stShape) : nil
        let yc = cell == .lstm && wanted.count > 2 && wanted[2] ? try io.output(2, .float, stShape) : nil
        // Steps past a row's length stay zero in Y, as the spec's reference writes them.
        if let y, short { y.mutableFloats.initialize(repeating: 0, count: y.count) }

        // Scratch: X W^T for all steps, the step's gates, h, c, and one row block of temporaries
        // (tanh(c), r * h, or H R_h^T), plus the bias row.
        let rows = seq * batch, state = batch * hidden
        // Small batches multiply H by R^T held transposed ([hidden, gates*hidden]) with the
        // unpacked register-tile kernel, which reads it row by row in place: sgemv over R's
        // rows took 4 us a step for 128 units (half of an LSTM's time), the tile kernel 1.
        // The transpose is one more pass over R per run, so a few steps must share it
        // (silero_vad's LSTM runs one step per call).
        let transposed = BLAS.smallGEMM && batch <= BLAS.smallRows && hidden <= BLAS.smallDepth && seq >= 4
        let scratch = io.scratch(rows * g + batch * g + 3 * state + g + (transposed ? g * hidden : 0))
        let xw = scratch, gates = xw + rows * g, h = gates + batch * g, c = h + state, tmp = c + state, bias = tmp + state
        let rT = bias + g
        /// C[batch, n] (+)= A[batch, hidden] x R_d[rows first..<first+n]^T, with C's rows `ldc` apart.
        func recur(_ a: UnsafePointer<Float>, _ rd: UnsafePointer<Float>, first: Int, n: Int, beta: Float,
                   _ out: UnsafeMutablePointer<Float>, ldc: Int) {
            if transposed {
                gs_sgemm_small(batch, n, hidden, 1, a, hidden, rT + first, g, beta, out, ldc)
            } else {
                BLAS.sgemm(transA: false, transB: true, m: batch, n: n, k: hidden, alpha: 1, a: a, lda: hidden,
                           b: rd + first * hidden, ldb: hidden, beta: beta, c: out, ldc: ldc)
            }
        }
        // Row of X (and of xw) holding time t, batch n; state (d, n) at its layout's index.
        func row(_ t: Int, _ n: Int) -> Int { layout == 0 ? t * batch + n : n * seq + t }
        func stateAt(_ d: Int, _ n: Int) -> Int { (layout == 0 ? d * batch + n : n * dirs + d) * hidden }
        let perDir = cell == .lstm ? 3 : cell == .gru ? 2 : 1
        let clip = spec.clip
        func clamp(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
            guard let clip else { return }
            for i in 0..<n { p[i] = min(max(p[i], -clip), clip) }
        }

        for d in 0..<dirs {
            let reverse = spec.reverseOnly || d == 1
            let f = spec.activations[d * perDir]
            let gAct = perDir > 1 ? spec.activations[d * perDir + 1] : f
            let hAct = perDir > 2 ? spec.activations[d * perDir + 2] : gAct
            let rd = r.floats + d * g * hidden
            if transposed {
                // In 16 x 16 tiles: each tile's reads and writes stay within 16 cache lines
                // (element by element, every write of the 64k-float transpose missed).
                for q0 in stride(from: 0, to: g, by: 16) {
                    let q1 = min(q0 + 16, g)
                    for k0 in stride(from: 0, to: hidden, by: 16) {
                        for k in k0..<min(k0 + 16, hidden) {
                            let dst = rT + k * g
                            for q in q0..<q1 { dst[q] = rd[q * hidden + k] }
                        }
                    }
                }
            }
            BLAS.sgemm(transA: false, transB: true, m: rows, n: g, k: input, alpha: 1, a: x.floats, lda: input,
                       b: w.floats + d * g * input, ldb: input, beta: 0, c: xw, ldc: g)
            // Wb and Rb fold into X W^T, except GRU's Rb_h under linear_before_reset, which
            // the reset gate scales.
            let rbInside = cell == .gru && spec.linearBeforeReset
            if let b {
                let wb = b.floats + d * 2 * g, rb = wb + g
                for q in 0..<g { bias[q] = wb[q] + (rbInside && q >= 2 * hidden ? 0 : rb[q]) }
                for i in 0..<rows { let rowp = xw + i * g; for q in 0..<g { rowp[q] += bias[q] } }
            }
            for n in 0..<batch {
                for j in 0..<hidden {
                    h[n * hidden + j] = h0.map { $0.floats[stateAt(d, n) + j] } ?? 0
                    c[n * hidden + j] = c0.map { $0.floats[stateAt(d, n) + j] } ?? 0
                }
            }
            for s in 0..<longest {
                for n in 0..<batch where s < lens[n] {
                    let t = reverse ? lens[n] - 1 - s : s
                    (gates + n * g).update(from: xw + row(t, n) * g, count: g)
                }
                switch cell {
                case .rnn:
                    recur(h, rd, first: 0, n: g, beta: 1, gates, ldc: g)
                    for n in 0..<batch where s < lens[n] {
                        let gn = gates + n * g
                        clamp(gn, hidden)
                        apply(f, gn, hidden)
                        (h + n * hidden).update(from: gn, count: hidden)
                    }
                case .gru:
                    // z and r: their share of H R^T, then the gates.
                    recur(h, rd, first: 0, n: 2 * hidden, beta: 1, gates, ldc: g)
                    for n in 0..<batch where s < lens[n] {
                        let gn = gates + n * g
                        clamp(gn, 2 * hidden)
                        apply(f, gn, 2 * hidden)
                    }
                    if spec.linearBeforeReset {
                        // candidate = X W_h^T + Wb_h + r * (H R_h^T + Rb_h)
                        recur(h, rd, first: 2 * hidden, n: hidden, beta: 0, tmp, ldc: hidden)
                        let rbh = b.map { $0.floats + d * 2 * g + g + 2 * hidden }
                        for n in 0..<batch where s < lens[n] {
                            let gn = gates + n * g, tn = tmp + n * hidden
                            for j in 0..<hidden { gn[2 * hidden + j] += gn[hidden + j] * (tn[j] + (rbh?[j] ?? 0)) }
                        }
                    } else {
                        // candidate = X W_h^T + Wb_h + Rb_h + (r * H) R_h^T
                        for n in 0..<batch {
                            let gn = gates + n * g, hn = h + n * hidden, tn = tmp + n * hidden
                            if s < lens[n] { for j in 0..<hidden { tn[j] = gn[hidden + j] * hn[j] } }
                            else { tn.initialize(repeating: 0, count: hidden) }
                        }
                        recur(tmp, rd, first: 2 * hidden, n: hidden, beta: 1, gates + 2 * hidden, ldc: g)
                    }
                    for n in 0..<batch where s < lens[n] {
                        let gn = gates + n * g, hn = h + n * hidden, cand = gn + 2 * hidden
                        clamp(cand, hidden)
                        apply(gAct, cand, hidden)
                        for j in 0..<hidden { hn[j] = (1 - gn[j]) * cand[j] + gn[j] * hn[j] }
                    }
                case .lstm:
                    recur(h, rd, first: 0, n: g, beta: 1, gates, ldc: g)
                    let p = peep.map { $0.floats + d * 3 * hidden }
                    for n in 0..<batch where s < lens[n] {
                        // Gate order i, o, f, c; peepholes i, o, f.
                        let gn = gates + n * g, cn = c + n * hidden, hn = h + n * hidden, tn = tmp + n * hidden
                        let ig = gn, og = gn + hidden, fg = gn + 2 * hidden, cg = gn + 3 * hidden
                        if let p { for j in 0..<hidden { ig[j] += p[j] * cn[j]; fg[j] += p[2 * hidden + j] * cn[j] } }
                        clamp(ig, hidden)
                        apply(f, ig, hidden)
                        if spec.inputForget { for j in 0..<hidden { fg[j] = 1 - ig[j] } }
                        else { clamp(fg, hidden); apply(f, fg, hidden) }
                        clamp(cg, hidden)
                        apply(gAct, cg, hidden)
                        for j in 0..<hidden { cn[j] = fg[j] * cn[j] + ig[j] * cg[j] }
                        if let p { for j in 0..<hidden { og[j] += p[hidden + j] * cn[j] } }
                        clamp(og, hidden)
                        apply(f, og, hidden)
                        tn.update(from: cn, count: hidden)
                        apply(hAct, tn, hidden)
                        for j in 0..<hidden { hn[j] = og[j] * tn[j] }
                    }
                }
                if let y {
                    for n in 0..<batch where s < lens[n] {
                        let t = reverse ? lens[n] - 1 - s : s
                        let at = layout == 0 ? ((t * dirs + d) * batch + n) * hidden : ((n * seq + t) * dirs + d) * hidden
                        (y.mutableFloats + at).update(from: h + n * hidden, count: hidden)
                    }
                }
            }
            for n in 0..<batch {
                if let yh { (yh.mutableFloats + stateAt(d, n)).update(from: h + n * hidden, count: hidden) }
                if let yc { (yc.mutableFloats + stateAt(d, n)).update(from: c + n * hidden, count: hidden) }
            }
        }
        return true
    }
}
