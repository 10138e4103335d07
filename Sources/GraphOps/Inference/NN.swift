/// Rules for neural-network ops: convolutions and pooling (output sizes as floor/ceil
/// expressions, so a symbolic `H` gives `(H-3)/2+1`), MatMul and Gemm, normalizations,
/// Resize/Upsample, recurrent layers, and the other ops whose output shape is a function of
/// attributes (TopK, ArgMax, GatherElements, GatherND, NonZero, OneHot).
import Foundation  // floor
import GraphIR

enum NNRules {
    static func register(_ t: inout [String: InferenceRule]) {
        t["Conv"] = conv
        t["ConvInteger"] = conv
        t["QLinearConv"] = qlinearConv
        t["ConvTranspose"] = convTranspose
        for op in ["MaxPool", "AveragePool", "LpPool"] { t[op] = pool }
        for op in ["GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"] { t[op] = globalPool }
        t["MatMul"] = matmul
        t["MatMulInteger"] = matmulInteger
        t["Gemm"] = gemm
        // onnxruntime's fused forms (what `fuse-activation` emits for target=ort) infer as the op they extend.
        t["BatchNormalization"] = batchNorm
        t["LayerNormalization"] = layerNorm
        t["SimplifiedLayerNormalization"] = simplifiedLayerNorm
        t["GroupNormalization"] = sameAsInput0
        t["Resize"] = resize
        t["Upsample"] = resize
        for op in ["LSTM", "GRU", "RNN"] { t[op] = recurrent }
        t["TopK"] = topK
        t["ArgMax"] = argReduce
        t["ArgMin"] = argReduce
        t["GatherElements"] = gatherElements
        t["ScatterElements"] = sameAsInput0
        t["ScatterND"] = sameAsInput0
        t["GatherND"] = gatherND
        t["NonZero"] = nonZero
        t["OneHot"] = oneHot
    }

    static func qlinearConv(_ c: RuleContext) throws -> [ValueFacts?] {
        try convCore(c, x: 0, w: 3, outType: try c.elementType(7))
    }

    static func matmulInteger(_ c: RuleContext) throws -> [ValueFacts?] {
        [.tensor(.int32, try matmulDims(c))]
    }

    /// Type and shape of input 0 (normalizations, scatters).
    static func sameAsInput0(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        return [.tensor(e, d)]
    }

    static func gatherElements(_ c: RuleContext) throws -> [ValueFacts?] {
        [.tensor(try c.elementType(0), try c.tensor(1).1)]
    }

    static func nonZero(_ c: RuleContext) throws -> [ValueFacts?] {
        [.tensor(.int64, [SymDim(Int64(try c.dims(0).count)), nil])]
    }

    /// Spatial output size of a convolution or pooling window.
    static func windowOutput(_ input: SymDim?, kernel: Int64, stride: Int64, dilation: Int64, padBegin: Int64,
                             padEnd: Int64, autoPad: String, ceilMode: Bool) throws -> SymDim? {
        guard let input else { return nil }
        guard stride > 0 else { throw InferenceFailure("stride \(stride) is not positive") }
        // Bounded, so the arithmetic below cannot overflow on a hostile attribute.
        let limit = attributeLimit
        guard kernel > 0, kernel < limit, dilation > 0, dilation < limit, stride < limit,
              padBegin >= 0, padBegin < limit, padEnd >= 0, padEnd < limit else {
            throw InferenceFailure("kernel \(kernel), stride \(stride), dilation \(dilation) and pads \(padBegin), \(padEnd) must be positive (pads non-negative) and below 2^31")
        }
        let effective = dilation * (kernel - 1) + 1
        switch autoPad {
        case "SAME_UPPER", "SAME_LOWER": return input.ceilDiv(SymDim(stride))
        case "VALID": return (input - SymDim(effective - 1)).ceilDiv(SymDim(stride))
        default:
            let span = input + SymDim(padBegin + padEnd - effective)
            guard var q = ceilMode ? span.ceilDiv(SymDim(stride)) : span.floorDiv(SymDim(stride)) else { return nil }
            q = q + SymDim(1)
            // With ceil_mode the last window must start inside the input or the begin padding.
            if ceilMode, let n = q.intValue, let i = input.intValue {
                // Overflow-checked: a declared dim may be Int64.max.
                let (start, o1) = (n &- 1).multipliedReportingOverflow(by: stride)
                let (end, o2) = i.addingReportingOverflow(padBegin)
                if !o1, !o2, start >= end { q = SymDim(n - 1) }
            }
            return q
        }
    }

    /// Window attributes (kernel, stride, dilation, pads, output_padding) are refused at or past
    /// this bound, so the sizes computed from them with plain arithmetic cannot overflow.
    static let attributeLimit: Int64 = 1 << 31

    struct Window {
        var kernel: [Int64], strides: [Int64], dilations: [Int64], pads: [Int64], autoPad: String
    }

    static func window(_ c: RuleContext, spatial n: Int, kernel: [Int64]) throws -> Window {
        let strides = c.ints("strides") ?? Array(repeating: 1, count: n)
        let dilations = c.ints("dilations") ?? Array(repeating: 1, count: n)
        let pads = c.ints("pads") ?? Array(repeating: 0, count: 2 * n)
        let autoPad = (try? c.string("auto_pad")) ?? "NOTSET"
        guard kernel.count == n, strides.count == n, dilations.count == n, pads.count == 2 * n else {
            throw InferenceFailure("kernel_shape/strides/dilations/pads do not match \(n) spatial dims")
        }
        return Window(kernel: kernel, strides: strides, dilations: dilations, pads: pads, autoPad: autoPad)
    }

    static func conv(_ c: RuleContext) throws -> [ValueFacts?] {
        let e = try c.elementType(0)
        return try convCore(c, x: 0, w: 1, outType: c.node.opType == "ConvInteger" ? .int32 : e)
    }

    static func convCore(_ c: RuleContext, x: Int, w: Int, outType: ElementType) throws -> [ValueFacts?] {
        let xd = try c.dims(x)
        let wd = try c.tensor(w).1
        guard xd.count >= 3 else { throw InferenceFailure("input has rank \(xd.count), needs at least 3") }
        let n = xd.count - 2
        guard let kernel = c.ints("kernel_shape") ?? wd.flatMap({ d in
            d.count == n + 2 ? d[2...].compactMap { $0?.intValue } : nil
        }), kernel.count == n else { throw InferenceFailure("kernel shape is not known", kind: .unknownInput) }
        let win = try window(c, spatial: n, kernel: kernel)
        var out: [SymDim?] = [xd[0], wd.flatMap { $0.first ?? nil }]
        for i in 0..<n {
            out.append(try windowOutput(xd[i + 2], kernel: kernel[i], stride: win.strides[i], dilation: win.dilations[i],
                                        padBegin: win.pads[i], padEnd: win.pads[i + n], autoPad: win.autoPad, ceilMode: false))
        }
        return [.tensor(outType, out)]
    }

    static func convTranspose(_ c: RuleContext) throws -> [ValueFacts?] {
        let e = try c.elementType(0)
        let xd = try c.dims(0)
        let wd = try c.dims(1)
        guard xd.count >= 3, wd.count == xd.count else { throw InferenceFailure("input/weight ranks \(xd.count)/\(wd.count)") }
        let n = xd.count - 2
        let group = try c.int("group")
        guard let kernel = c.ints("kernel_shape") ?? (wd[2...].allSatisfy { $0?.intValue != nil } ? wd[2...].map { $0!.intValue! } : nil)
        else { throw InferenceFailure("kernel shape is not known", kind: .unknownInput) }
        let win = try window(c, spatial: n, kernel: kernel)
        let outPad = c.ints("output_padding") ?? Array(repeating: 0, count: n)
        // Bounded, so the sizes below cannot overflow on a hostile attribute.
        let limit = attributeLimit
        guard kernel.count == n, outPad.count == n, win.strides.count == n, win.dilations.count == n, win.pads.count == 2 * n,
              kernel.allSatisfy({ $0 > 0 && $0 < limit }), outPad.allSatisfy({ $0 >= 0 && $0 < limit }),
              win.strides.allSatisfy({ $0 > 0 && $0 < limit }), win.dilations.allSatisfy({ $0 > 0 && $0 < limit }),
              win.pads.allSatisfy({ $0 > -limit && $0 < limit }), group > 0, group < limit else {
            throw InferenceFailure("kernel_shape \(kernel), strides \(win.strides), dilations \(win.dilations), pads \(win.pads), output_padding \(outPad) or group \(group) is out of range")
        }
        var out: [SymDim?] = [xd[0], wd[1].map { $0 * SymDim(group) }]
        if let shape = c.ints("output_shape") {
            guard shape.count >= n else { throw InferenceFailure("output_shape has \(shape.count) entries") }
            out += shape.suffix(n).map { SymDim($0) }
            return [.tensor(e, out)]
        }
        for i in 0..<n {
            guard let x = xd[i + 2] else { out.append(nil); continue }
            if win.autoPad == "SAME_UPPER" || win.autoPad == "SAME_LOWER" {
                out.append(x * SymDim(win.strides[i]))
            } else {
                let k = win.dilations[i] * (kernel[i] - 1) + 1
                out.append(SymDim(win.strides[i]) * (x - SymDim(1)) + SymDim(outPad[i] + k - win.pads[i] - win.pads[i + n]))
            }
        }
        return [.tensor(e, out)]
    }

    static func pool(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        guard let d else { return [.tensor(e, nil)] }
        guard d.count >= 3 else { throw InferenceFailure("input has rank \(d.count), needs at least 3") }
        let n = d.count - 2
        guard let kernel = c.ints("kernel_shape") else { throw InferenceFailure("attribute 'kernel_shape' is missing") }
        let win = try window(c, spatial: n, kernel: kernel)
        let ceilMode = (c.attrInt("ceil_mode") ?? 0) != 0
        var out: [SymDim?] = [d[0], d[1]]
        for i in 0..<n {
            out.append(try windowOutput(d[i + 2], kernel: kernel[i], stride: win.strides[i], dilation: win.dilations[i],
                                        padBegin: win.pads[i], padEnd: win.pads[i + n], autoPad: win.autoPad, ceilMode: ceilMode))
        }
        var outs: [ValueFacts?] = [.tensor(e, out)]
        if c.node.opType == "MaxPool" { outs.append(.tensor(.int64, out)) }
        return outs
    }

    static func globalPool(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        guard let d else { return [.tensor(e, nil)] }
        guard d.count >= 2 else { throw InferenceFailure("input has rank \(d.count), needs at least 2") }
        return [.tensor(e, [d[0], d[1]] + Array(repeating: SymDim(1), count: d.count - 2))]
    }

    static func matmulDims(_ c: RuleContext) throws -> [SymDim?]? {
        guard let a = try c.tensor(0).1, let b = try c.tensor(1).1 else { return nil }
        return try matmulShape(a, b)
    }

    /// numpy matmul's result shape of operands `a` and `b` (MatMul, FusedMatMul, QLinearMatMul
    /// and the quantized contrib matmuls).
    static func matmulShape(_ a: [SymDim?], _ b: [SymDim?]) throws -> [SymDim?] {
        guard !a.isEmpty, !b.isEmpty else { throw InferenceFailure("MatMul of a scalar") }
        // A vector operand is promoted to a matrix (`[1, k]` or `[k, 1]`), whose batch part is empty.
        let k1 = a[a.count - 1], k2 = b.count == 1 ? b[0] : b[b.count - 2]
        if let x = k1?.intValueInline, let y = k2?.intValueInline, x != y {
            throw InferenceFailure("inner dimensions differ: \(x) and \(y)")
        }
        var out: [SymDim?] = []
        out.reserveCapacity(max(a.count, b.count))
        try Shapes.broadcast(into: &out, a[..<max(a.count - 2, 0)], b[..<max(b.count - 2, 0)])
        if a.count > 1 { out.append(a[a.count - 2]) }
        if b.count > 1 { out.append(b[b.count - 1]) }
        return out
    }

    static func matmul(_ c: RuleContext) throws -> [ValueFacts?] {
        let e = try c.elementType(0)
        let eb = try c.elementType(1)
        guard e == eb else { throw InferenceFailure("inputs are \(e.name) and \(eb.name)") }
        return [.tensor(e, try matmulDims(c))]
    }

    static func gemm(_ c: RuleContext) throws -> [ValueFacts?] {
        let e = try c.elementType(0)
        let a = try c.dims(0), b = try c.dims(1)
        guard a.count == 2, b.count == 2 else { throw InferenceFailure("Gemm needs rank-2 inputs, got \(a.count) and \(b.count)") }
        let ta = try c.int("transA") != 0, tb = try c.int("transB") != 0
        return [.tensor(e, [ta ? a[1] : a[0], tb ? b[0] : b[1]])]
    }

    static func batchNorm(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        var outs: [ValueFacts?] = [.tensor(e, d)]
        let ch: SymDim?? = d.map { $0.count > 1 ? $0[1] : nil }
        for _ in 1..<max(c.node.outputs.count, 1) { outs.append(.tensor(try c.elementType(3), [ch ?? nil])) }
        return outs
    }

    static func layerNorm(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        var outs: [ValueFacts?] = [.tensor(e, d)]
        guard c.node.outputs.count > 1 else { return outs }
        let stash = stashType(c)
        guard let d else { return outs + [.tensor(stash, nil), .tensor(stash, nil)] }
        let axis = try c.axis(c.attrInt("axis") ?? -1, rank: d.count)
        let stats = Array(d[..<axis]) + Array(repeating: SymDim(1), count: d.count - axis)
        outs.append(.tensor(stash, stats))
        outs.append(.tensor(stash, stats))
        return outs
    }

    /// The statistics' element type: `stash_type`, float32 where the schema gives no default
    /// (onnxruntime's com.microsoft LayerNormalization computes them in float32; its `axis`
    /// likewise defaults to -1 as in ai.onnx).
    static func stashType(_ c: RuleContext) -> ElementType {
        ElementType(rawValue: Int32(truncatingIfNeeded: c.attrInt("stash_type") ?? 1)) ?? .float
    }

    /// onnxruntime's SimplifiedLayerNormalization (RMS norm, registered in the default
    /// domain): Y has X's shape and the scale's element type; `inv_std_var` keeps the dims
    /// before `axis` and is 1 from there, of `stash_type`.
    static func simplifiedLayerNorm(_ c: RuleContext) throws -> [ValueFacts?] {
        let (_, d) = try c.tensor(0)
        let e = try c.elementType(1)
        var outs: [ValueFacts?] = [.tensor(e, d)]
        guard c.node.outputs.count > 1 else { return outs }
        let stash = stashType(c)
        guard let d else { return outs + [.tensor(stash, nil)] }
        let axis = try c.axis(c.attrInt("axis") ?? -1, rank: d.count)
        outs.append(.tensor(stash, Array(d[..<axis]) + Array(repeating: SymDim(1), count: d.count - axis)))
        return outs
    }

    static func resize(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        guard let d else { return [.tensor(e, nil)] }
        let axes: [Int]
        if let a = c.ints("axes") {
            var ax: [Int] = []
            for x in a { ax.append(try c.axis(x, rank: d.count)) }
            axes = ax
        } else { axes = Array(0..<d.count) }
        let policy = (try? c.string("keep_aspect_ratio_policy")) ?? "stretch"
        // Opset 10 and Upsample take scales as input 1; later Resize as input 2, sizes as 3.
        let scalesInput = (c.node.opType == "Upsample" || c.opset < 11) ? 1 : 2
        var out = d
        // Sizes may be known in part (`Concat(Shape(x)[0:2], hw)`): unknown entries stay unknown.
        if c.node.opType == "Resize", c.opset >= 11, c.has(3), let sizes = c.value(3)?.partialDims, sizes.count == axes.count {
            guard policy == "stretch" else { throw InferenceFailure("keep_aspect_ratio_policy '\(policy)' with sizes") }
            for (k, a) in axes.enumerated() { out[a] = sizes[k] }
            return [.tensor(e, out)]
        }
        var scales: [Double]?
        if let s = c.floats("scales") { scales = s } else if c.has(scalesInput), let v = c.value(scalesInput)?.doubles, !v.isEmpty { scales = v }
        guard let scales else {
            if c.has(3) || c.has(scalesInput) { return [.tensor(e, Array(repeating: nil, count: d.count))] }
            throw InferenceFailure("neither scales nor sizes are given")
        }
        guard scales.count == axes.count else { throw InferenceFailure("\(scales.count) scales for \(axes.count) axes") }
        for (k, a) in axes.enumerated() {
            let s = scales[k]
            guard let x = d[a] else { continue }
            if let v = x.intValue {
                let size = floor(Double(v) * s + 1e-9)
                // a file's scales may be inf/NaN or huge: no size, rather than a trap converting it
                guard size.isFinite, abs(size) < 9.2e18 else {
                    throw InferenceFailure("scale \(s) of axis \(a) gives no finite size for dim \(v)")
                }
                out[a] = SymDim(Int64(size))
            } else if s == s.rounded(), s >= 0, s < 1e9 {
                out[a] = x * SymDim(Int64(s))
            } else { out[a] = nil }
        }
        return [.tensor(e, out)]
    }

    static func recurrent(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, given) = try c.tensor(0)
        guard let hidden = c.attrInt("hidden_size") else { throw InferenceFailure("attribute 'hidden_size' is missing") }
        let direction = (try? c.string("direction")) ?? "forward"
        let dirs = SymDim(direction == "bidirectional" ? 2 : 1)
        let layout = c.attrInt("layout") ?? 0
        // Input rank unknown: it is 3 by the op's definition; the sizes it carries are unknown.
        let d = given ?? [nil, nil, nil]
        guard d.count == 3 else { throw InferenceFailure("input has rank \(d.count), expected 3") }
        let h = SymDim(hidden)
        if layout == 0 {
            let seq = d[0], batch = d[1]
            return [.tensor(e, [seq, dirs, batch, h]), .tensor(e, [dirs, batch, h]), .tensor(e, [dirs, batch, h])]
        }
        let batch = d[0], seq = d[1]
        return [.tensor(e, [batch, seq, dirs, h]), .tensor(e, [batch, dirs, h]), .tensor(e, [batch, dirs, h])]
    }

    static func topK(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        guard let d else { return [.tensor(e, nil), .tensor(.int64, nil)] }
        let axis = try c.axis(try c.int("axis"), rank: d.count)
        var out = d
        if let k = c.attrInt("k") { out[axis] = SymDim(k) } else { out[axis] = c.value(1)?.dims?.first }
        return [.tensor(e, out), .tensor(.int64, out)]
    }

    static func argReduce(_ c: RuleContext) throws -> [ValueFacts?] {
        let d = try c.dims(0)
        let axis = try c.axis(try c.int("axis"), rank: d.count)
        var out = d
        if try c.int("keepdims") != 0 { out[axis] = SymDim(1) } else { out.remove(at: axis) }
        return [.tensor(.int64, out)]
    }

    static func gatherND(_ c: RuleContext) throws -> [ValueFacts?] {
        let e = try c.elementType(0)
        let d = try c.dims(0), i = try c.dims(1)
        let b = Int(try c.int("batch_dims"))
        guard let last = i.last, let k = last?.intValue, k >= 0, b >= 0, b < i.count, k <= Int64(d.count), b + Int(k) <= d.count else {
            throw InferenceFailure("index depth is not known or too deep", kind: .unknownInput)
        }
        return [.tensor(e, Array(i.dropLast()) + Array(d[(b + Int(k))...]))]
    }

    static func oneHot(_ c: RuleContext) throws -> [ValueFacts?] {
        let i = try c.dims(0)
        let e = try c.elementType(2)
        let depth = c.value(1)?.constantInts?.first.map { SymDim($0) }
        let r = i.count + 1
        let axis = try c.axis(try c.int("axis"), rank: r)
        var out = i
        out.insert(depth, at: axis)
        return [.tensor(e, out)]
    }
}
