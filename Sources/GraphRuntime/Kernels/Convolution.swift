/// Convolution kernels (float32, NCHW, 1-D and 2-D): Conv through im2col + sgemm (1x1 convs
/// straight to sgemm; 3x3 stride-1 convs with a plan-time filter through Winograd, see
/// Winograd.swift; other convs with a plan-time filter through a direct channel-blocked kernel
/// on AVX-512 CPUs, see DirectConv.swift), a direct loop for depthwise convs, and ConvTranspose through sgemm +
/// col2im. Geometry (pads, auto_pad, dilations, strides) follows the ONNX spec.
import CKernels
import GraphIR
import GraphOps

/// Spatial geometry of one 2-D window op (1-D ops use H = 1). Hashable: the planner times a
/// conv once per geometry (`ConvTuning`).
struct WindowGeometry: Hashable {
    var h = 1, w = 1, kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1
    var pt = 0, pl = 0, pb = 0, pr = 0, oh = 1, ow = 1

    /// Geometry of `node` on spatial input sizes `spatial` with kernel sizes `kernel`.
    /// `ceil` selects pooling's ceil_mode output size.
    init(node: Node, spatial: [Int], kernel: [Int], ceil: Bool = false) throws {
        let r = spatial.count
        guard r == 1 || r == 2, kernel.count == r else {
            throw KernelError("only 1-D and 2-D windows are supported (spatial \(spatial), kernel \(kernel))")
        }
        let strides = node.ints("strides") ?? Array(repeating: 1, count: r)
        let dil = node.ints("dilations") ?? Array(repeating: 1, count: r)
        var pads = node.ints("pads") ?? Array(repeating: 0, count: 2 * r)
        guard strides.count == r, dil.count == r, pads.count == 2 * r else {
            throw KernelError("strides/dilations/pads do not match rank \(r)")
        }
        guard strides.allSatisfy({ $0 > 0 }), dil.allSatisfy({ $0 > 0 }), kernel.allSatisfy({ $0 > 0 }),
              pads.allSatisfy({ $0 >= 0 }) else {
            throw KernelError("strides \(strides), dilations \(dil) and kernel \(kernel) must be positive, pads \(pads) non-negative")
        }
        // Bounded above too: the sizes below are computed with plain arithmetic.
        try KernelIO.requireBounded(strides + dil + kernel, "strides, dilations and kernel")
        try KernelIO.requireBounded(pads, "pads", lower: 0)
        let autoPad = node.string("auto_pad", "NOTSET")
        if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
            for i in 0..<r {
                let out = (spatial[i] + strides[i] - 1) / strides[i]
                let total = max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1 - spatial[i])
                let small = total / 2
                pads[i] = autoPad == "SAME_UPPER" ? small : total - small
                pads[i + r] = total - pads[i]
            }
        } else if autoPad == "VALID" {
            pads = Array(repeating: 0, count: 2 * r)
        }
        var outs: [Int] = []
        for i in 0..<r {
            let eff = (kernel[i] - 1) * dil[i] + 1
            let span = spatial[i] + pads[i] + pads[i + r] - eff
            guard span >= 0, strides[i] > 0 else {
                throw KernelError("window \(kernel) does not fit input \(spatial) with pads \(pads)")
            }
            var o = (ceil ? (span + strides[i] - 1) / strides[i] : span / strides[i]) + 1
            // A ceil-mode window must start inside the input or its left padding.
            if ceil && (o - 1) * strides[i] >= spatial[i] + pads[i] { o -= 1 }
            outs.append(o)
        }
        if r == 2 {
            (h, w, kh, kw, sh, sw, dh, dw) = (spatial[0], spatial[1], kernel[0], kernel[1], strides[0], strides[1], dil[0], dil[1])
            (pt, pl, pb, pr, oh, ow) = (pads[0], pads[1], pads[2], pads[3], outs[0], outs[1])
        } else {
            (w, kw, sw, dw, pl, pr, ow) = (spatial[0], kernel[0], strides[0], dil[0], pads[0], pads[1], outs[0])
        }
    }

    /// The indices i in [lo, hi), i < `out`, whose position offset + i*stride lies inside
    /// [0, size): the output columns a conv tap reaches (stride = the conv stride), or the taps
    /// of a window starting at `offset` that fall inside the input (stride = the dilation).
    /// Window loops run over this range instead of testing every tap, so a hostile 2^20-wide
    /// window over a small input costs what the input holds.
    @inline(__always)
    static func validRange(offset: Int, stride: Int, size: Int, out: Int) -> (Int, Int) {
        // ix = ox*stride + offset must satisfy 0 <= ix < size.
        var lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        var hi = size - offset <= 0 ? 0 : (size - offset + stride - 1) / stride
        lo = min(lo, out); hi = min(max(hi, lo), out)
        return (lo, hi)
    }
}

enum ConvKernels {
    /// Conv; with an `epilogue`, the fused elementwise chain that follows it runs over each
    /// image's output right after the conv (external tensor 0 is the conv's own output,
    /// tensors 1... are the step's inputs from index 3 on). With a `winograd` filter (the
    /// transform of this step's constant weight), images whose geometry suits it run
    /// as Winograd (the filter's F(4x4, 3x3) or F(2x2, 3x3)); with a `direct` filter (this
    /// step's constant weight packed), as a direct conv over 16-channel blocks.
    /// With a channel-blocked `layout` (planned by `ConvLayouts` for a `direct` conv), the
    /// tensors it names are read or written blocked, and a geometry the direct kernel cannot
    /// run is an error instead of a fallback.
    static func conv(_ node: Node, epilogue: ElementwiseProgram? = nil, winograd: WinogradFilter? = nil,
                     direct: DirectConvFilter? = nil, layout: DirectConv.Layout = .planes) -> Kernel {
        let group = node.int("group", 1)
        let stage = direct == nil ? nil : DirectConv.outputStage(epilogue)
        let memo = ShapeMemo<ConvShape>()
        let extraInputs = PointerList()
        return { io in
            let x = try io.floatInput(0), wt = try io.floatInput(1)
            let bias = io.optionalInput(2)
            let shape = try memo.geometry({ $0.add(x.shape); $0.add(wt.shape) }) {
                guard x.shape.count >= 3, wt.shape.count == x.shape.count else {
                    throw KernelError("Conv input \(x.shape) and weight \(wt.shape) ranks do not fit")
                }
                let c = x.shape[1], m = wt.shape[0], cg = wt.shape[1]
                guard group > 0, c == cg * group, m % group == 0 else {
                    throw KernelError("Conv channels: input \(c), weight \(wt.shape), group \(group)")
                }
                let g = try WindowGeometry(node: node, spatial: Array(x.shape.dropFirst(2)), kernel: Array(wt.shape.dropFirst(2)))
                return ConvShape(geometry: g, output: x.shape.count == 4 ? [x.shape[0], m, g.oh, g.ow] : [x.shape[0], m, g.ow])
            }
            let g = shape.geometry, outShape = shape.output
            let n = x.shape[0], c = x.shape[1], m = wt.shape[0], cg = wt.shape[1]
            let ohw = g.oh * g.ow, hw = g.h * g.w, mg = m / group, kk = g.kh * g.kw
            if layout.any {
                guard let direct, group == 1, direct.groups == 1, x.shape.count == 4, direct.outputs == m, direct.inputs == c,
                      direct.kh == g.kh, direct.kw == g.kw, DirectConv.canRun(g, inputs: c, outputs: m),
                      epilogue == nil || stage != nil || !(layout.output || layout.residual) else {
                    throw KernelError("planned as a channel-blocked direct conv, but input \(x.shape) and weight \(wt.shape) do not fit it")
                }
            }
            let y = layout.output ? try io.output(0, .float, outShape, minimumBytes: n * DirectConv.blockedFloats(channels: m, positions: ohw) * 4)
                                  : try io.output(0, .float, outShape)
            let out = y.mutableFloats, inp = x.floats, w = wt.floats
            if let bias { guard bias.count == m, bias.elementType == .float else { throw KernelError("Conv bias must be float32 [\(m)]") } }
            // The fused inputs' addresses, in a list the kernel keeps (no array per call).
            extraInputs.pointers.removeAll(keepingCapacity: true)
            if let epilogue {
                for j in 1..<max(epilogue.inputCount, 1) {
                    let t = try io.floatInput(2 + j)
                    guard t.shape == outShape else { throw KernelError("fused input \(2 + j) is \(t.shape), expected \(outShape)") }
                    extraInputs.pointers.append(t.floats)
                }
            }
            let extra = extraInputs.pointers
            // Whether an im2col conv runs one GEMM over all images (see below; the same for every image).
            let taps = kk.multipliedReportingOverflow(by: n * ohw)  // columns' floats per channel
            let overImages = n > 1 && group == 1 && !(cg == 1 && mg == 1) && ohw > 0 && ohw < Self.batchedMapLimit
                && n * ohw <= Self.batchedColumnLimit && !taps.overflow && cg <= Self.im2colBlockBytes / taps.partialValue
            for b in 0..<n {
                // A GEMM conv with an epilogue adds its bias there, not before the GEMM.
                let biasInEpilogue = epilogue != nil && !(cg == 1 && mg == 1)
                var epilogueDone = false
                defer {
                    if let epilogue, !epilogueDone {
                        epilogue.withTemps { temps in
                            epilogue.apply(out: out, extra: extra, channels: m, planeSize: ohw, planes: b * m..<(b + 1) * m,
                                           temps: temps, bias: biasInEpilogue ? bias?.floats : nil)
                        }
                    }
                }
                let ob = out + b * m * ohw
                if let winograd, group == 1, x.shape.count == 4, winograd.outputs == m, winograd.inputs == c,
                   winograd.variant.suits(g, inputs: c, outputs: m) {
                    Winograd.conv(g, input: inp + b * c * hw, filter: winograd, bias: biasInEpilogue ? nil : bias?.floats,
                                  output: ob, io: io)
                    continue
                }
                if let direct, direct.groups == group, x.shape.count == 4, direct.outputs == mg, direct.inputs == cg,
                   direct.kh == g.kh, direct.kw == g.kw,
                   layout.any || DirectConv.suits(g, inputs: cg, outputs: mg) {
                    // An Add/Relu/Clip epilogue (with the bias) runs in the pass that unblocks the
                    // output; any other runs after, over the whole image (the deferred block above).
                    // Blocked images are laid out one after another at their blocked size.
                    let blockedOut = DirectConv.blockedFloats(channels: m, positions: ohw)
                    let residual = stage?.residual.map { UnsafePointer(extra[$0 - 1] + b * (layout.residual ? blockedOut : m * ohw)) }
                    let xImage = layout.input ? DirectConv.blockedFloats(channels: c, positions: hw) : c * hw
                    DirectConv.conv(g, input: inp + b * xImage, filter: direct,
                                    bias: biasInEpilogue && stage == nil ? nil : bias?.floats, residual: residual,
                                    lo: stage?.lo ?? -.infinity, hi: stage?.hi ?? .infinity,
                                    output: layout.output ? out + b * blockedOut : ob, layout: layout, io: io)
                    epilogueDone = stage != nil
                    continue
                }
                if cg == 1 && mg == 1 && g.dh == 1 && g.dw == 1 && ((g.sh == 1 && g.sw == 1) || (g.sh == 2 && g.sw == 2)) {
                    depthwisePadded(g, input: inp + b * c * hw, weight: w, output: ob, channels: c, bias: bias?.floats, io: io)
                    continue
                }
                // Several images of a small map (1-D audio encoders, a batch of short sequences):
                // one GEMM over every image's columns at once, made on the first image, instead
                // of a GEMM per image too narrow to amortize reading the filter.
                if overImages {
                    if b == 0 {
                        im2colGEMMOverImages(g, input: inp, images: n, channels: c, weight: w, outputs: m,
                                             bias: biasInEpilogue ? nil : bias?.floats, output: out, io: io)
                    }
                    continue
                }
                if let bias, !biasInEpilogue {
                    for o in 0..<m { let v = bias.floats[o]; let row = ob + o * ohw; for i in 0..<ohw { row[i] = v } }
                }
                if cg == 1 && mg == 1 {
                    if g.sh == 1 && g.sw == 1 {
                        depthwiseStride1(g, input: inp + b * c * hw, weight: w, output: ob, channels: c,
                                         bias: bias?.floats, io: io)
                    } else {
                        depthwise(g, input: inp + b * c * hw, weight: w, output: ob, channels: c, hasBias: bias != nil)
                    }
                    continue
                }
                let pointwise = kk == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 && g.pb == 0 && g.pr == 0
                // im2col a block of output columns at a time, sized to stay in L2 for the GEMM's packing.
                let kdim = cg * kk
                let block = pointwise ? ohw : min(ohw, max(256, (Self.im2colBlockBytes / 4 / max(kdim, 1)) / 16 * 16))
                let cols = pointwise ? nil : io.scratch(kdim * block)
                for gi in 0..<group {
                    let xin = inp + (b * c + gi * cg) * hw
                    var start = 0
                    while start < ohw {
                        let count = min(block, ohw - start)
                        var bmat = xin + start, ldb = ohw
                        if let cols {
                            im2col(g, input: xin, channels: cg, cols: cols, start: start, count: count)
                            bmat = UnsafePointer(cols); ldb = count
                        }
                        BLAS.sgemm(transA: false, transB: false, m: mg, n: count, k: kdim, alpha: 1,
                                   a: w + gi * mg * kdim, lda: kdim, b: bmat, ldb: ldb,
                                   beta: bias != nil && !biasInEpilogue ? 1 : 0, c: ob + gi * mg * ohw + start, ldc: ohw)
                        start += count
                    }
                }
            }
        }
    }

    /// Bytes of im2col columns per GEMM call.
    static let im2colBlockBytes = 1 << 20

    /// Output positions per image under which a batch's images share one GEMM, and the most
    /// columns (images x positions) that GEMM takes; its columns also stay within
    /// `im2colBlockBytes / 4` floats (a wide padded kernel over a tiny map would otherwise
    /// ask for far more scratch than the model and input hold).
    static let batchedMapLimit = 64, batchedColumnLimit = 4096

    /// y [n, m, ohw] = conv(x [n, c, h, w]) (+ bias) for an ungrouped conv: the columns of all
    /// `images` side by side ([c*kh*kw, n*ohw], image b from column b*ohw), one GEMM, and the
    /// product [m, n*ohw] scattered into each image's planes.
    static func im2colGEMMOverImages(_ g: WindowGeometry, input: UnsafePointer<Float>, images n: Int, channels c: Int,
                                     weight: UnsafePointer<Float>, outputs m: Int, bias: UnsafePointer<Float>?,
                                     output: UnsafeMutablePointer<Float>, io: KernelIO) {
        let hw = g.h * g.w, ohw = g.oh * g.ow, kdim = c * g.kh * g.kw, columns = n * ohw
        let cols = io.scratch(kdim * columns + m * columns), product = cols + kdim * columns
        for b in 0..<n {
            im2col(g, input: input + b * c * hw, channels: c, cols: cols + b * ohw, start: 0, count: ohw, rowStride: columns)
        }
        BLAS.sgemm(transA: false, transB: false, m: m, n: columns, k: kdim, alpha: 1, a: weight, lda: kdim,
                   b: cols, ldb: columns, beta: 0, c: product, ldc: columns)
        for b in 0..<n {
            for o in 0..<m {
                let src = product + o * columns + b * ohw, dst = output + (b * m + o) * ohw
                if let bias {
                    let v = bias[o]
                    for p in 0..<ohw { dst[p] = src[p] + v }
                } else {
                    dst.update(from: src, count: ohw)
                }
            }
        }
    }

    /// Columns [channels*kh*kw, count] of the input windows of output positions
    /// start..<start+count (row-major over oh x ow), zeros where padded; rows `rowStride`
    /// floats apart (`count` unless the columns sit inside a wider matrix).
    static func im2col(_ g: WindowGeometry, input: UnsafePointer<Float>, channels: Int, cols: UnsafeMutablePointer<Float>,
                       start: Int, count: Int, rowStride: Int? = nil) {
        var row = 0
        let stride = rowStride ?? count
        for ch in 0..<channels {
            let plane = input + ch * g.h * g.w
            for i in 0..<g.kh {
                for j in 0..<g.kw {
                    var d = cols + row * stride
                    let (xlo, xhi) = WindowGeometry.validRange(offset: j * g.dw - g.pl, stride: g.sw, size: g.w, out: g.ow)
                    var p = start
                    let end = start + count
                    while p < end {
                        let oy = p / g.ow, ox0 = p - oy * g.ow, ox1 = min(g.ow, ox0 + end - p)
                        let iy = oy * g.sh - g.pt + i * g.dh
                        if iy < 0 || iy >= g.h {
                            d.update(repeating: 0, count: ox1 - ox0)
                        } else {
                            let src = plane + iy * g.w + j * g.dw - g.pl
                            let lo = max(ox0, min(xlo, ox1)), hi = max(lo, min(xhi, ox1))
                            if lo > ox0 { d.update(repeating: 0, count: lo - ox0) }
                            if g.sw == 1 { (d + (lo - ox0)).update(from: src + lo, count: hi - lo) }
                            else if hi > lo { gs_copy_strided(d + (lo - ox0), src + lo * g.sw, hi - lo, g.sw) }
                            if ox1 > hi { (d + (hi - ox0)).update(repeating: 0, count: ox1 - hi) }
                        }
                        d += ox1 - ox0
                        p += ox1 - ox0
                    }
                    row += 1
                }
            }
        }
    }

    /// Depthwise conv (one input and one output channel per group), accumulated row by row
    /// so the inner loop is a contiguous multiply-add for stride 1.
    static func depthwise(_ g: WindowGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                          output: UnsafeMutablePointer<Float>, channels: Int, hasBias: Bool) {
        let ohw = g.oh * g.ow, hw = g.h * g.w, kk = g.kh * g.kw
        for ch in 0..<channels {
            let o = output + ch * ohw, plane = input + ch * hw, wk = weight + ch * kk
            if !hasBias { for i in 0..<ohw { o[i] = 0 } }
            for j in 0..<g.kw {
                let off = j * g.dw - g.pl
                let (xlo, xhi) = WindowGeometry.validRange(offset: off, stride: g.sw, size: g.w, out: g.ow)
                if xlo >= xhi { continue }
                for oy in 0..<g.oh {
                    let orow = o + oy * g.ow
                    for i in 0..<g.kh {
                        let iy = oy * g.sh - g.pt + i * g.dh
                        if iy < 0 || iy >= g.h { continue }
                        let wv = wk[i * g.kw + j]
                        let src = plane + iy * g.w + off
                        if g.sw == 1 { gs_axpy(orow + xlo, src + xlo, xhi - xlo, wv) }
                        else { gs_axpy_strided(orow + xlo, src + xlo * g.sw, xhi - xlo, g.sw, wv) }
                    }
                }
            }
        }
    }

    /// Stride-1 depthwise conv on a zero-padded copy of each plane, accumulated in the padded
    /// width: every kernel tap is then one long contiguous multiply-add over the whole plane
    /// (the columns past the output width are computed and dropped), instead of many short
    /// row loops.
    static func depthwiseStride1(_ g: WindowGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                 output: UnsafeMutablePointer<Float>, channels: Int, bias: UnsafePointer<Float>?,
                                 io: KernelIO) {
        let wp = g.w + g.pl + g.pr, hp = g.h + g.pt + g.pb
        let padCount = hp * wp + (g.kw - 1) * g.dw + wp, accCount = g.oh * wp
        let pad = io.scratch(padCount + accCount), acc = pad + padCount
        let hw = g.h * g.w, ohw = g.oh * g.ow, kk = g.kh * g.kw
        pad.update(repeating: 0, count: padCount)
        for ch in 0..<channels {
            let plane = input + ch * hw, wk = weight + ch * kk, o = output + ch * ohw
            // Borders stay zero from the first clear; only the interior is rewritten per channel.
            for y in 0..<g.h { (pad + (g.pt + y) * wp + g.pl).update(from: plane + y * g.w, count: g.w) }
            acc.update(repeating: bias?[ch] ?? 0, count: accCount)
            for i in 0..<g.kh {
                for j in 0..<g.kw {
                    let wv = wk[i * g.kw + j], src = pad + i * g.dh * wp + j * g.dw
                    gs_axpy(acc, src, accCount, wv)
                }
            }
            for oy in 0..<g.oh { (o + oy * g.ow).update(from: acc + oy * wp, count: g.ow) }
        }
    }

    /// Depthwise conv without dilation, stride 1 or 2, on a zero-padded copy of each plane with
    /// all kernel taps summed in registers. Stride 1 (`gs_dw_plane`) sweeps the whole plane in
    /// the padded width (the extra columns are computed and dropped); stride 2
    /// (`gs_dw_plane_s2`) first splits the padded plane into its four row/column parity planes,
    /// where every tap is again one contiguous sweep.
    static func depthwisePadded(_ g: WindowGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                output: UnsafeMutablePointer<Float>, channels: Int, bias: UnsafePointer<Float>?,
                                io: KernelIO) {
        let wp = g.w + g.pl + g.pr, hp = g.h + g.pt + g.pb
        let hw = g.h * g.w, ohw = g.oh * g.ow, kk = g.kh * g.kw
        let kh = Int32(g.kh), kw = Int32(g.kw)
        if g.sh == 1 {
            // Slack past the last row: the sweep reads up to kw - 1 columns beyond it.
            let padCount = hp * wp + g.kw + wp, accCount = g.oh * wp
            let pad = io.scratch(padCount + accCount), acc = pad + padCount
            pad.update(repeating: 0, count: padCount)
            for ch in 0..<channels {
                let plane = input + ch * hw, o = output + ch * ohw
                // Borders stay zero from the first clear; only the interior is rewritten per channel.
                for y in 0..<g.h { (pad + (g.pt + y) * wp + g.pl).update(from: plane + y * g.w, count: g.w) }
                gs_dw_plane(acc, pad, accCount, wp, kh, kw, weight + ch * kk, bias?[ch] ?? 0)
                for oy in 0..<g.oh { (o + oy * g.ow).update(from: acc + oy * wp, count: g.ow) }
            }
            return
        }
        // Parity planes of wq columns; rows enough for every tap of every output row, plus one.
        let wq = (wp + 1) / 2, hq = max((hp + 1) / 2, g.oh + (g.kh - 1) / 2) + 1
        let qCount = hq * wq, accCount = g.oh * wq
        let q = io.scratch(4 * qCount + accCount), acc = q + 4 * qCount
        q.update(repeating: 0, count: 4 * qCount)
        for ch in 0..<channels {
            let plane = input + ch * hw, o = output + ch * ohw
            // Padded column pl + x lands in parity plane (pl + x) & 1 at (pl + x) >> 1: the even
            // source columns go to one plane and the odd ones to the other, split in one pass.
            let evenParity = g.pl & 1, oddParity = (g.pl + 1) & 1
            let evenAt = g.pl >> 1, oddAt = (g.pl + 1) >> 1
            for y in 0..<g.h {
                let py = g.pt + y, src = plane + y * g.w
                let rowPlanes = q + 2 * (py & 1) * qCount + (py >> 1) * wq
                gs_deinterleave(src, g.w, rowPlanes + evenParity * qCount + evenAt, rowPlanes + oddParity * qCount + oddAt)
            }
            gs_dw_plane_s2(acc, q, q + qCount, q + 2 * qCount, q + 3 * qCount, accCount, wq, kh, kw,
                           weight + ch * kk, bias?[ch] ?? 0)
            for oy in 0..<g.oh { (o + oy * g.ow).update(from: acc + oy * wq, count: g.ow) }
        }
    }

    /// ConvTranspose: columns = W_g^T x X_g, then scattered (col2im) into the output.
    /// Begin pads and output sizes of a ConvTranspose over `spatial` input sizes: from
    /// output_shape or auto_pad SAME_* (the total padding split as the spec says, negative
    /// totals extending the output), else from pads.
    static func transposeGeometry(_ node: Node, spatial: [Int], kernel: [Int]) throws -> (begin: [Int], out: [Int], s: [Int], d: [Int]) {
        let r = spatial.count
        let s = node.ints("strides") ?? Array(repeating: 1, count: r), d = node.ints("dilations") ?? Array(repeating: 1, count: r)
        let op = node.ints("output_padding") ?? Array(repeating: 0, count: r)
        let autoPad = node.string("auto_pad", "NOTSET")
        guard s.count == r, d.count == r, op.count == r, kernel.count == r else { throw KernelError("bad ConvTranspose attributes for \(r) spatial dims") }
        try KernelIO.requireBounded(s, "strides"); try KernelIO.requireBounded(d, "dilations")
        try KernelIO.requireBounded(kernel, "kernel_shape"); try KernelIO.requireBounded(op, "output_padding", lower: 0)
        if let shape = node.ints("output_shape") { try KernelIO.requireBounded(shape, "output_shape", lower: 0) }
        if let pads = node.ints("pads") { try KernelIO.requireBounded(pads, "pads", lower: -(1 << 31) + 1) }
        var full: [Int] = []
        for i in 0..<r {
            let span: Int = (kernel[i] - 1) * d[i] + 1
            full.append(s[i] * (spatial[i] - 1) + op[i] + span)
        }
        var target = node.ints("output_shape").map { Array($0.suffix(r)) }
        if target == nil, autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" { target = (0..<r).map { spatial[$0] * s[$0] } }
        if let target {
            guard target.count == r else { throw KernelError("output_shape must give \(r) sizes") }
            let begin = (0..<r).map { i -> Int in
                let total = full[i] - target[i]
                let half = Int((Double(total) / 2).rounded(.down))
                return autoPad == "SAME_UPPER" ? half : total - half
            }
            return (begin, target, s, d)
        }
        let p = node.ints("pads") ?? Array(repeating: 0, count: 2 * r)
        guard p.count == 2 * r else { throw KernelError("pads must have \(2 * r) values") }
        var out: [Int] = []
        for i in 0..<r { out.append(full[i] - p[i] - p[r + i]) }
        return (Array(p.prefix(r)), out, s, d)
    }

    static func convTranspose(_ node: Node) -> Kernel {
        let group = node.int("group", 1)
        let memo = ShapeMemo<(geometry: (begin: [Int], out: [Int], s: [Int], d: [Int]), output: [Int])>()
        return { io in
            let x = try io.floatInput(0), wt = try io.floatInput(1)
            let (geo, outShape) = try memo.geometry({ $0.add(x.shape); $0.add(wt.shape) }) {
                guard x.shape.count >= 3, wt.shape.count == x.shape.count else {
                    throw KernelError("ConvTranspose needs input and weight of one rank >= 3, got \(x.shape), \(wt.shape)")
                }
                guard group > 0, x.shape[1] == wt.shape[0], x.shape[1] % group == 0 else {
                    throw KernelError("ConvTranspose channels: input \(x.shape[1]), weight \(wt.shape), group \(group)")
                }
                let geo = try transposeGeometry(node, spatial: Array(x.shape.dropFirst(2)), kernel: Array(wt.shape.dropFirst(2)))
                guard geo.out.allSatisfy({ $0 > 0 }) else { throw KernelError("ConvTranspose output would be empty") }
                return (geo, [x.shape[0], wt.shape[1] * group] + geo.out)
            }
            if x.shape.count != 4 { return try convTransposeND(x, wt, io.optionalInput(2), group: group, geo: geo, &io) }
            let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
            let mg = wt.shape[1], kh = wt.shape[2], kw = wt.shape[3], m = mg * group
            let cg = c / group
            let s = geo.s, d = geo.d, p = geo.begin, oh = geo.out[0], ow = geo.out[1]
            let y = try io.output(0, .float, outShape)
            let out = y.mutableFloats, hw = h * w, ohw = oh * ow, kk = kh * kw
            let cols = io.scratch(mg * kk * hw)
            let bias = io.optionalInput(2)
            for b in 0..<n {
                for o in 0..<m {
                    let v = bias.map { $0.floats[o] } ?? 0
                    let row = out + (b * m + o) * ohw
                    for i in 0..<ohw { row[i] = v }
                }
                for gi in 0..<group {
                    BLAS.sgemm(transA: true, transB: false, m: mg * kk, n: hw, k: cg, alpha: 1,
                               a: wt.floats + gi * cg * mg * kk, lda: mg * kk,
                               b: x.floats + (b * c + gi * cg) * hw, ldb: hw, beta: 0, c: cols, ldc: hw)
                    for oc in 0..<mg {
                        let plane = out + (b * m + gi * mg + oc) * ohw
                        for i in 0..<kh {
                            for j in 0..<kw {
                                let col = cols + ((oc * kh + i) * kw + j) * hw
                                for iy in 0..<h {
                                    let oy = iy * s[0] - p[0] + i * d[0]
                                    if oy < 0 || oy >= oh { continue }
                                    for ix in 0..<w {
                                        let ox = ix * s[1] - p[1] + j * d[1]
                                        if ox >= 0 && ox < ow { plane[oy * ow + ox] += col[iy * w + ix] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// ConvTranspose over 1-D, 3-D or more spatial dims: each input value scattered through
    /// the kernel into the output (direct loops; the 2-D path uses BLAS).
    static func convTransposeND(_ x: RuntimeTensor, _ wt: RuntimeTensor, _ bias: RuntimeTensor?, group: Int,
                                geo: (begin: [Int], out: [Int], s: [Int], d: [Int]), _ io: inout KernelIO) throws {
        let n = x.shape[0], c = x.shape[1], mg = wt.shape[1], m = mg * group, cg = c / group
        let inSp = Array(x.shape.dropFirst(2)), kSp = Array(wt.shape.dropFirst(2)), r = inSp.count
        let y = try io.output(0, .float, [n, m] + geo.out)
        let inCount = inSp.reduce(1, *), kCount = kSp.reduce(1, *), outCount = geo.out.reduce(1, *)
        let inSt = Shapes.strides(inSp), kSt = Shapes.strides(kSp), outSt = Shapes.strides(geo.out)
        let out = y.mutableFloats, xf = x.floats, wf = wt.floats
        for b in 0..<n { for o in 0..<m {
            let v = bias.map { $0.floats[o] } ?? 0
            for i in 0..<outCount { out[(b * m + o) * outCount + i] = v }
        } }
        // Output offset of (input position, kernel position), or -1 outside.
        var target = [Int](repeating: -1, count: inCount * kCount)
        for ip in 0..<inCount {
            for kp in 0..<kCount {
                var at = 0, inside = true
                for a in 0..<r {
                    let pos = ((ip / inSt[a]) % inSp[a]) * geo.s[a] - geo.begin[a] + ((kp / kSt[a]) % kSp[a]) * geo.d[a]
                    if pos < 0 || pos >= geo.out[a] { inside = false; break }
                    at += pos * outSt[a]
                }
                if inside { target[ip * kCount + kp] = at }
            }
        }
        for b in 0..<n {
            for g in 0..<group {
                for ci in 0..<cg {
                    let ch = g * cg + ci
                    for oc in 0..<mg {
                        let plane = out + (b * m + g * mg + oc) * outCount
                        let wBase = (ch * mg + oc) * kCount
                        for ip in 0..<inCount {
                            let xv = xf[(b * c + ch) * inCount + ip]
                            for kp in 0..<kCount {
                                let t = target[ip * kCount + kp]
                                if t >= 0 { plane[t] += xv * wf[wBase + kp] }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A Conv's shapes as its kernel keeps them between calls (`ShapeMemo`).
struct ConvShape {
    var geometry: WindowGeometry
    var output: [Int]
}

/// A list of input addresses a kernel refills on every call, keeping its capacity.
final class PointerList {
    var pointers: [UnsafePointer<Float>] = []
}
