/// Rules for the less common ops the ONNX backend node tests exercise: attention and
/// normalization blocks, losses, quantization, random generators, space/depth rearrangement,
/// Einsum, windows and signal ops, and ops whose output size depends on data (NonMaxSuppression,
/// Unique, Compress: those sizes stay unknown, the rank and type are known).
import GraphIR

enum MoreOpRules {
    static func register(_ t: inout [String: InferenceRule]) {
        for op in ["RMSNormalization", "RotaryEmbedding", "CumProd", "ReverseSequence", "Scatter", "TensorScatter"] {
            t[op] = NNRules.sameAsInput0
        }
        for op in ["Bernoulli", "RandomUniformLike", "RandomNormalLike", "EyeLike"] { t[op] = likeInput0 }
        for op in ["RandomUniform", "RandomNormal"] { t[op] = random }
        t["QuantizeLinear"] = quantize
        t["DequantizeLinear"] = dequantize
        t["DynamicQuantizeLinear"] = dynamicQuantize
        t["QLinearMatMul"] = qlinearMatMul
        t["DepthToSpace"] = depthToSpace
        t["SpaceToDepth"] = spaceToDepth
        t["Det"] = det
        t["NonMaxSuppression"] = nonMaxSuppression
        t["Compress"] = compress
        t["Unique"] = unique
        t["Einsum"] = einsum
        t["NegativeLogLikelihoodLoss"] = loss
        t["SoftmaxCrossEntropyLoss"] = loss
        t["GridSample"] = gridSample
        t["Attention"] = attention
        for op in ["HannWindow", "HammingWindow", "BlackmanWindow"] { t[op] = window }
        t["CenterCropPad"] = centerCropPad
        t["RoiAlign"] = roiAlign
        t["AffineGrid"] = affineGrid
    }

    static func dtypeAttr(_ c: RuleContext, _ fallback: ElementType) -> ElementType {
        guard let code = c.attrInt("dtype"), let e = ElementType(rawValue: Int32(truncatingIfNeeded: code)) else {
            return fallback
        }
        return e
    }

    static func likeInput0(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        return [.tensor(dtypeAttr(c, e), d)]
    }

    static func random(_ c: RuleContext) throws -> [ValueFacts?] {
        guard let shape = c.ints("shape") else { throw InferenceFailure("attribute 'shape' is missing") }
        return [.tensor(dtypeAttr(c, .float), Shapes.dims(shape))]
    }

    static func quantize(_ c: RuleContext) throws -> [ValueFacts?] {
        let (_, d) = try c.tensor(0)
        var e = ElementType.uint8
        if c.has(2) { e = try c.elementType(2) } else if let code = c.attrInt("output_dtype"), code != 0,
                  let x = ElementType(rawValue: Int32(truncatingIfNeeded: code)) { e = x }
        return [.tensor(e, d)]
    }

    static func dequantize(_ c: RuleContext) throws -> [ValueFacts?] {
        let (_, d) = try c.tensor(0)
        var e = try c.elementType(1)
        if let code = c.attrInt("output_dtype"), code != 0, let x = ElementType(rawValue: Int32(truncatingIfNeeded: code)) {
            e = x
        }
        return [.tensor(e, d)]
    }

    static func dynamicQuantize(_ c: RuleContext) throws -> [ValueFacts?] {
        let (_, d) = try c.tensor(0)
        return [.tensor(.uint8, d), .tensor(.float, []), .tensor(.uint8, [])]
    }

    static func qlinearMatMul(_ c: RuleContext) throws -> [ValueFacts?] {
        guard let a = try c.tensor(0).1, let b = try c.tensor(3).1 else { return [.tensor(try c.elementType(7), nil)] }
        return [.tensor(try c.elementType(7), try NNRules.matmulShape(a, b))]
    }

    static func blockSize(_ c: RuleContext) throws -> SymDim {
        guard let b = c.attrInt("blocksize"), b > 0 else { throw InferenceFailure("attribute 'blocksize' is missing") }
        return SymDim(b)
    }

    static func depthToSpace(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, _) = try c.tensor(0)
        let d = try c.dims(0)
        guard d.count == 4 else { throw InferenceFailure("input has rank \(d.count), expected 4") }
        let b = try blockSize(c)
        return [.tensor(e, [d[0], d[1].flatMap { $0.exactDiv(b * b) }, d[2].map { $0 * b }, d[3].map { $0 * b }])]
    }

    static func spaceToDepth(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, _) = try c.tensor(0)
        let d = try c.dims(0)
        guard d.count == 4 else { throw InferenceFailure("input has rank \(d.count), expected 4") }
        let b = try blockSize(c)
        return [.tensor(e, [d[0], d[1].map { $0 * b * b }, d[2].flatMap { $0.exactDiv(b) }, d[3].flatMap { $0.exactDiv(b) }])]
    }

    static func det(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, _) = try c.tensor(0)
        let d = try c.dims(0)
        guard d.count >= 2 else { throw InferenceFailure("input has rank \(d.count), needs at least 2") }
        return [.tensor(e, Array(d.dropLast(2)))]
    }

    static func nonMaxSuppression(_ c: RuleContext) throws -> [ValueFacts?] {
        _ = try c.tensor(0)
        return [.tensor(.int64, [nil, SymDim(3)])]
    }

    static func compress(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        guard let axis = c.attrInt("axis") else { return [.tensor(e, [nil])] }
        guard var d else { return [.tensor(e, nil)] }
        d[try c.axis(axis, rank: d.count)] = nil
        return [.tensor(e, d)]
    }

    static func unique(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        var y: [SymDim?]? = [nil]
        if let axis = c.attrInt("axis"), var dd = d {
            dd[try c.axis(axis, rank: dd.count)] = nil
            y = dd
        }
        return [.tensor(e, y), .tensor(.int64, [nil]), .tensor(.int64, [nil]), .tensor(.int64, [nil])]
    }

    /// Einsum: letters name dims; `...` broadcasts; an implicit output lists the letters used
    /// once, alphabetically, after the broadcast dims.
    static func einsum(_ c: RuleContext) throws -> [ValueFacts?] {
        guard let eq = c.attr("equation")?.stringValue else { throw InferenceFailure("attribute 'equation' is missing") }
        let e = try c.elementType(0)
        let text = eq.replacingOccurrences(of: " ", with: "")
        let sides = text.components(separatedBy: "->")
        let terms = sides[0].components(separatedBy: ",")
        guard terms.count == c.inputCount else { throw InferenceFailure("equation has \(terms.count) operands for \(c.inputCount) inputs") }
        var sizes: [Character: SymDim?] = [:]
        var counts: [Character: Int] = [:]
        var ellipsis: [SymDim?] = []
        for (i, term) in terms.enumerated() {
            let d = try c.dims(i)
            let parts = term.components(separatedBy: "...")
            let before = Array(parts[0]), after = parts.count > 1 ? Array(parts[1]) : []
            let ell = d.count - before.count - after.count
            guard ell >= 0, parts.count <= 2, parts.count == 2 || ell == 0 else {
                throw InferenceFailure("operand \(i) '\(term)' does not match rank \(d.count)")
            }
            for (k, ch) in before.enumerated() { sizes[ch] = sizes[ch] ?? d[k]; counts[ch, default: 0] += 1 }
            for (k, ch) in after.enumerated() { sizes[ch] = sizes[ch] ?? d[before.count + ell + k]; counts[ch, default: 0] += 1 }
            if parts.count == 2 { ellipsis = try Shapes.broadcast(ellipsis, Array(d[before.count..<(before.count + ell)])) }
        }
        var out: [SymDim?] = []
        if sides.count == 2 {
            let parts = sides[1].components(separatedBy: "...")
            for ch in parts[0] { out.append(sizes[ch] ?? nil) }
            if parts.count == 2 { out += ellipsis; for ch in parts[1] { out.append(sizes[ch] ?? nil) } }
        } else {
            out = ellipsis + counts.filter { $0.value == 1 }.keys.sorted().map { sizes[$0] ?? nil }
        }
        return [.tensor(e, out)]
    }

    static func loss(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        let (_, target) = try c.tensor(1)
        let reduction = (try? c.string("reduction")) ?? "mean"
        let out: [SymDim?]? = reduction == "none" ? target : []
        var outs: [ValueFacts?] = [.tensor(e, out)]
        if c.node.opType == "SoftmaxCrossEntropyLoss" { outs.append(.tensor(e, d)) }
        return outs
    }

    static func gridSample(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, _) = try c.tensor(0)
        let x = try c.dims(0), g = try c.dims(1)
        guard x.count >= 3, g.count == x.count else { throw InferenceFailure("input/grid ranks \(x.count)/\(g.count)") }
        return [.tensor(e, [x[0], x[1]] + Array(g[1..<(g.count - 1)]))]
    }

    /// Attention (opset 23): 4-D Q/K/V as [batch, heads, seq, head_size], or 3-D
    /// [batch, seq, heads*head_size] with `q_num_heads`/`kv_num_heads`.
    static func attention(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, _) = try c.tensor(0)
        let q = try c.dims(0), k = try c.dims(1), v = try c.dims(2)
        var past: SymDim? = SymDim(0)
        if c.has(4) { past = try c.dims(4).count == 4 ? try c.dims(4)[2] : nil }
        if q.count == 4 {
            guard k.count == 4, v.count == 4 else { throw InferenceFailure("Q is 4-D but K/V are not") }
            let total: SymDim? = past.flatMap { p in k[2].map { p + $0 } }
            return [.tensor(e, [q[0], q[1], q[2], v[3]]), .tensor(e, [k[0], k[1], total, k[3]]),
                    .tensor(e, [v[0], v[1], total, v[3]]), .tensor(e, [q[0], q[1], q[2], total])]
        }
        guard q.count == 3, k.count == 3, v.count == 3 else { throw InferenceFailure("Q/K/V ranks \(q.count)/\(k.count)/\(v.count)") }
        guard let qh = c.attrInt("q_num_heads"), let kvh = c.attrInt("kv_num_heads"), qh > 0, kvh > 0 else {
            throw InferenceFailure("3-D inputs need q_num_heads and kv_num_heads")
        }
        let vHead = v[2].flatMap { $0.exactDiv(SymDim(kvh)) }
        let kHead = k[2].flatMap { $0.exactDiv(SymDim(kvh)) }
        let total: SymDim? = past.flatMap { p in k[1].map { p + $0 } }
        return [.tensor(e, [q[0], q[1], vHead.map { $0 * SymDim(qh) }]), .tensor(e, [k[0], SymDim(kvh), total, kHead]),
                .tensor(e, [v[0], SymDim(kvh), total, vHead]), .tensor(e, [q[0], SymDim(qh), q[1], total])]
    }

    static func window(_ c: RuleContext) throws -> [ValueFacts?] {
        let size = c.value(0)?.dims?.first
        let code = c.attrInt("output_datatype") ?? 1
        return [.tensor(ElementType(rawValue: Int32(truncatingIfNeeded: code)) ?? .float, [size])]
    }

    static func centerCropPad(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        guard var d else { return [.tensor(e, nil)] }
        guard let shape = c.value(1)?.dims else { return [.tensor(e, Array(repeating: nil, count: d.count))] }
        var axes: [Int] = []
        for a in c.ints("axes") ?? (0..<Int64(d.count)).map({ $0 }) { axes.append(try c.axis(a, rank: d.count)) }
        guard shape.count == axes.count else { throw InferenceFailure("\(shape.count) sizes for \(axes.count) axes") }
        for (k, a) in axes.enumerated() { d[a] = shape[k] }
        return [.tensor(e, d)]
    }

    static func roiAlign(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, _) = try c.tensor(0)
        let x = try c.dims(0), rois = try c.dims(1)
        let h = try c.int("output_height"), w = try c.int("output_width")
        return [.tensor(e, [rois.first ?? nil, x.count > 1 ? x[1] : nil, SymDim(h), SymDim(w)])]
    }

    static func affineGrid(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, _) = try c.tensor(0)
        let size = try c.intValues(1)
        guard size.count >= 4 else { throw InferenceFailure("size has \(size.count) entries") }
        return [.tensor(e, [size[0]] + size[2...].map { Optional($0) } + [SymDim(Int64(size.count - 2))])]
    }
}

/// Signal and image-block ops (DFT, Col2Im, MaxUnpool) and SequenceMap.
enum SignalRules {
    static func register(_ t: inout [String: InferenceRule]) {
        t["DFT"] = dft
        t["Col2Im"] = col2Im
        t["MaxUnpool"] = maxUnpool
        t["SequenceMap"] = sequenceMap
    }

    /// DFT: the signal axis becomes `dft_length` (half plus one when one-sided), the last dim
    /// holds (real, imaginary); a one-sided inverse gives a real signal (last dim 1).
    static func dft(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, _) = try c.tensor(0)
        var d = try c.dims(0)
        guard d.count >= 2 else { throw InferenceFailure("input has rank \(d.count), needs at least 2") }
        var axis = c.attrInt("axis") ?? 1
        if c.opset >= 20 {
            axis = -2
            if c.has(2) { axis = try c.constInts(2).first ?? -2 }
        }
        let a = try c.axis(axis, rank: d.count)
        let onesided = (c.attrInt("onesided") ?? 0) != 0, inverse = (c.attrInt("inverse") ?? 0) != 0
        let length: SymDim? = c.has(1) ? c.value(1)?.dims?.first : d[a]
        if onesided && inverse {
            // Inverse of a one-sided spectrum: a real signal of dft_length, else 2*(n-1).
            d[a] = c.has(1) ? length : d[a].map { ($0 - SymDim(1)) * SymDim(2) }
            d[d.count - 1] = SymDim(1)
        } else {
            d[a] = onesided ? length.flatMap { $0.floorDiv(SymDim(2)) }.map { $0 + SymDim(1) } : length
            d[d.count - 1] = SymDim(2)
        }
        return [.tensor(e, d)]
    }

    static func col2Im(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, _) = try c.tensor(0)
        let d = try c.dims(0)
        guard d.count == 3 else { throw InferenceFailure("input has rank \(d.count), expected 3") }
        guard let image = c.value(1)?.dims, let block = c.value(2)?.constantInts else {
            return [.tensor(e, nil)]
        }
        let channels = d[1].flatMap { $0.exactDiv(SymDim(block.reduce(1, &*))) }
        return [.tensor(e, [d[0], channels] + image.map { Optional($0) })]
    }

    static func maxUnpool(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, _) = try c.tensor(0)
        let d = try c.dims(0)
        if c.has(2) {
            guard let shape = c.value(2)?.dims else { return [.tensor(e, Array(repeating: nil, count: d.count))] }
            return [.tensor(e, shape.map { Optional($0) })]
        }
        guard d.count >= 3, let kernel = c.ints("kernel_shape"), kernel.count == d.count - 2 else {
            throw InferenceFailure("kernel_shape does not match the input rank")
        }
        let n = kernel.count
        let strides = c.ints("strides") ?? Array(repeating: 1, count: n)
        let pads = c.ints("pads") ?? Array(repeating: 0, count: 2 * n)
        guard strides.count == n, pads.count == 2 * n else { throw InferenceFailure("strides/pads do not match") }
        var out: [SymDim?] = [d[0], d[1]]
        for i in 0..<n {
            out.append(d[i + 2].map { ($0 - SymDim(1)) * SymDim(strides[i]) + SymDim(kernel[i] - pads[i] - pads[i + n]) })
        }
        return [.tensor(e, out)]
    }

    /// SequenceMap: the body runs per element; sequence inputs give it their element type.
    static func sequenceMap(_ c: RuleContext) throws -> [ValueFacts?] {
        var bodyInputs: [ValueFacts?] = []
        for i in 0..<c.inputCount {
            let f = try c.facts(i)
            if case .sequence(let el)? = f.type { bodyInputs.append(ValueFacts(type: el)) } else { bodyInputs.append(f) }
        }
        let outs = try c.inferBody("body", bodyInputs)
        // Element sizes may differ per element: keep the rank, drop sizes that came from
        // sequence elements only when the body's own result is unknown.
        return outs.map { o in ValueFacts(type: .sequence(o?.type)) }
    }
}
