/// Pooling and normalization kernels (float32, NCHW): MaxPool, AveragePool, GlobalAverage/
/// GlobalMaxPool, BatchNormalization (inference), LRN, Softmax/LogSoftmax, and the Reduce* ops.
import CKernels
import Foundation
import GraphIR

enum PoolKernels {
    /// MaxPool / AveragePool over 1-D or 2-D windows.
    static func pool(_ node: Node, max isMax: Bool, opset: Int) -> Kernel {
        let ceil = node.int("ceil_mode", 0) != 0
        let includePad = node.int("count_include_pad", 0) != 0
        // MaxPool's Indices: flat positions in the input (row- or column-major per storage_order).
        let wantIndices = isMax && node.outputs.count > 1 && !node.outputs[1].isEmpty
        let columnMajor = node.int("storage_order", 0) == 1
        let memo = ShapeMemo<ConvShape>()
        let buffers = (columns: KernelBuffer(), row: KernelBuffer())
        return { io in
            let x = try io.input(0)
            if x.elementType != .float || x.shape.count < 3 || x.shape.count > 4 {
                try PoolNDKernels.run(&io, node, mode: isMax ? .max : .average, ceil: ceil, includePad: includePad)
                return
            }
            let shape = try memo.geometry({ $0.add(x.shape) }) {
                guard let kernel = node.ints("kernel_shape") else { throw KernelError("kernel_shape is required") }
                guard x.shape.count == kernel.count + 2 else { throw KernelError("input \(x.shape) does not fit kernel \(kernel)") }
                let g = try WindowGeometry(node: node, spatial: Array(x.shape.dropFirst(2)), kernel: kernel, ceil: ceil)
                return ConvShape(geometry: g, output: x.shape.count == 4 ? [x.shape[0], x.shape[1], g.oh, g.ow] : [x.shape[0], x.shape[1], g.ow])
            }
            let g = shape.geometry, outShape = shape.output
            let planes = x.shape[0] * x.shape[1]
            let y = try io.output(0, .float, outShape)
            let indices = wantIndices ? try io.output(1, .int64, outShape) : nil
            let inp = x.floats, out = y.mutableFloats, hw = g.h * g.w, ohw = g.oh * g.ow
            if isMax && g.dh == 1 && g.dw == 1 && !wantIndices {
                maxPoolPlanes(g, inp, out, planes, buffers: buffers)
                return
            }
            // One window over each whole plane, unpadded (ResNet's final 7x7): plane means.
            if !isMax && ohw == 1 && g.kh == g.h && g.kw == g.w && g.pt == 0 && g.pl == 0 && g.pb == 0 && g.pr == 0 {
                gs_plane_means(inp, planes, hw, out)
                return
            }
            if !isMax && g.dh == 1 && g.dw == 1 {
                try averagePoolPlanes(g, inp, out, planes, includePad: includePad, buffers: buffers, io: io)
                return
            }
            var meter = CancellationMeter()
            for p in 0..<planes {
                let src = inp + p * hw, dst = out + p * ohw
                for oy in 0..<g.oh {
                    let y0 = oy * g.sh - g.pt
                    for ox in 0..<g.ow {
                        let x0 = ox * g.sw - g.pl
                        var acc: Float = isMax ? -Float.infinity : 0
                        var n = 0, best = 0
                        // Only the taps inside the input.
                        let (ilo, ihi) = WindowGeometry.validRange(offset: y0, stride: g.dh, size: g.h, out: g.kh)
                        let (jlo, jhi) = WindowGeometry.validRange(offset: x0, stride: g.dw, size: g.w, out: g.kw)
                        try meter.add((ihi - ilo) * (jhi - jlo), io, "in a pooling window (plane \(p), row \(oy))")
                        for i in ilo..<ihi {
                            let iy = y0 + i * g.dh
                            for j in jlo..<jhi {
                                let ix = x0 + j * g.dw
                                let v = src[iy * g.w + ix]
                                if isMax { if v > acc || v.isNaN { acc = v; best = iy * g.w + ix } } else { acc += v }
                                n += 1
                            }
                        }
                        if !isMax {
                            // count_include_pad counts padded cells, but not those past the
                            // input plus padding that ceil_mode adds.
                            if includePad {
                                let yEnd = min(y0 + (g.kh - 1) * g.dh + 1, g.h + g.pb), xEnd = min(x0 + (g.kw - 1) * g.dw + 1, g.w + g.pr)
                                let cy = (yEnd - y0 + g.dh - 1) / g.dh, cx = (xEnd - x0 + g.dw - 1) / g.dw
                                n = cy * cx
                            }
                            acc = n > 0 ? acc / Float(n) : 0
                        }
                        dst[oy * g.ow + ox] = acc
                        if let indices {
                            let local = columnMajor ? (best % g.w) * g.h + best / g.w : best
                            indices.raw.storeBytes(of: Int64(p * hw + local), toByteOffset: (p * ohw + oy * g.ow + ox) * 8, as: Int64.self)
                        }
                    }
                }
            }
        }
    }

    /// MaxPool without dilation, per plane in two vectorised passes: the maximum over each
    /// window's rows into one row buffer (contiguous), then the maximum over each window's
    /// columns from that buffer. A plane holding a NaN goes through `maxPoolPlaneNaN`, which
    /// propagates it as the scalar path does.
    /// `buffers` holds each output column's input columns [lo, hi) and one input row of
    /// maxima between calls (no allocation per call).
    static func maxPoolPlanes(_ g: WindowGeometry, _ inp: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ planes: Int,
                              buffers: (columns: KernelBuffer, row: KernelBuffer)) {
        let cols = buffers.columns.pointer((Int, Int).self, count: g.ow)
        let row = buffers.row.pointer(Float.self, count: g.w)
        let (fullLo, fullHi) = windowColumns(g, into: cols)
        maxPoolPlanes(g, inp, out, planes, cols: cols, fullLo: fullLo, fullHi: fullHi, row: row)
    }

    /// Each output column's input columns [lo, hi) of an undilated window clipped to the row,
    /// into `cols`; returns the output columns whose window lies fully inside the row,
    /// [fullLo, fullHi) (empty when none): those go through the vectorised window kernels.
    static func windowColumns(_ g: WindowGeometry, into cols: UnsafeMutablePointer<(Int, Int)>) -> (Int, Int) {
        var fullLo = g.ow, fullHi = 0
        for ox in 0..<g.ow {
            let x0 = ox * g.sw - g.pl
            cols[ox] = (max(x0, 0), min(x0 + g.kw, g.w))
            if cols[ox].1 - cols[ox].0 == g.kw { fullLo = min(fullLo, ox); fullHi = max(fullHi, ox + 1) }
        }
        return (fullLo, fullHi)
    }

    private static func maxPoolPlanes(_ g: WindowGeometry, _ inp: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                                      _ planes: Int, cols: UnsafePointer<(Int, Int)>, fullLo: Int, fullHi: Int,
                                      row: UnsafeMutablePointer<Float>) {
        let hw = g.h * g.w, ohw = g.oh * g.ow
        for p in 0..<planes {
            let src = inp + p * hw, dst = out + p * ohw
            if planeHasNaN(src, hw) { maxPoolPlaneNaN(g, cols, src, dst); continue }
            for oy in 0..<g.oh {
                let y0 = oy * g.sh - g.pt
                let ylo = max(y0, 0), yhi = min(y0 + g.kh, g.h)
                let orow = dst + oy * g.ow
                if ylo >= yhi { for ox in 0..<g.ow { orow[ox] = -Float.infinity }; continue }
                row.update(from: src + ylo * g.w, count: g.w)
                var iy = ylo + 1
                while iy < yhi {
                    let r = src + iy * g.w
                    gs_max_into(row, r, g.w)
                    iy += 1
                }
                for ox in 0..<g.ow where ox < fullLo || ox >= fullHi {
                    let (xlo, xhi) = cols[ox]
                    var acc = -Float.infinity
                    var ix = xlo
                    while ix < xhi { acc = Swift.max(acc, row[ix]); ix += 1 }
                    orow[ox] = acc
                }
                if fullLo < fullHi {
                    gs_max_windows(orow + fullLo, row + fullLo * g.sw - g.pl, fullHi - fullLo, Int32(g.kw), Int32(g.sw))
                }
            }
        }
    }

    /// AveragePool without dilation, per plane in two vectorised passes as `maxPoolPlanes`
    /// does: the sum over each window's rows into one row buffer, then each window's columns
    /// summed from it and divided by the window's count (the taps inside the input, or with
    /// `count_include_pad` those inside the input and its padding). Inception's 3x3 stride-1
    /// pools took 27 ns an output on the scalar path that walks every tap (5.4 ms for one
    /// 256x28x28 pool, 40% of light_inception_v2's run).
    static func averagePoolPlanes(_ g: WindowGeometry, _ inp: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                                  _ planes: Int, includePad: Bool, buffers: (columns: KernelBuffer, row: KernelBuffer),
                                  io: KernelIO) throws {
        let cols = buffers.columns.pointer((Int, Int).self, count: g.ow)
        let row = buffers.row.pointer(Float.self, count: g.w)
        let (fullLo, fullHi) = windowColumns(g, into: cols)
        let hw = g.h * g.w, ohw = g.oh * g.ow
        var meter = CancellationMeter()
        for p in 0..<planes {
            let src = inp + p * hw, dst = out + p * ohw
            for oy in 0..<g.oh {
                let y0 = oy * g.sh - g.pt
                let ylo = max(y0, 0), yhi = min(y0 + g.kh, g.h)
                // The additions this row costs (windows wider than the input add only its row).
                try meter.add(max(yhi - ylo, 0) * g.w + g.ow * min(g.kw, g.w), io, "in an average pool (plane \(p), row \(oy))")
                // count_include_pad counts padded rows, but not those past the input plus
                // padding that ceil_mode adds.
                let rows = includePad ? min(y0 + g.kh, g.h + g.pb) - y0 : yhi - ylo
                let orow = dst + oy * g.ow
                if ylo >= yhi { orow.update(repeating: 0, count: g.ow); continue }
                row.update(from: src + ylo * g.w, count: g.w)
                var iy = ylo + 1
                while iy < yhi {
                    gs_binary(Int32(GS_ADD), row, src + iy * g.w, row, g.w)
                    iy += 1
                }
                for ox in 0..<g.ow where ox < fullLo || ox >= fullHi {
                    let (xlo, xhi) = cols[ox]
                    let x0 = ox * g.sw - g.pl
                    let n = rows * (includePad ? min(x0 + g.kw, g.w + g.pr) - x0 : xhi - xlo)
                    var acc: Float = 0
                    var ix = xlo
                    while ix < xhi { acc += row[ix]; ix += 1 }
                    orow[ox] = xlo < xhi && n > 0 ? acc / Float(n) : 0
                }
                if fullLo < fullHi {
                    gs_mean_windows(orow + fullLo, row + fullLo * g.sw - g.pl, fullHi - fullLo, Int32(g.kw), Int32(g.sw),
                                    Float(rows * g.kw))
                }
            }
        }
    }

    /// True when the `n` floats at `p` hold a NaN.
    @inline(__always)
    static func planeHasNaN(_ p: UnsafePointer<Float>, _ n: Int) -> Bool {
        gs_has_nan(p, n) != 0
    }

    /// The scalar MaxPool of one plane, NaN-propagating.
    static func maxPoolPlaneNaN(_ g: WindowGeometry, _ cols: UnsafePointer<(Int, Int)>, _ src: UnsafePointer<Float>,
                                _ dst: UnsafeMutablePointer<Float>) {
        for oy in 0..<g.oh {
            let y0 = oy * g.sh - g.pt
            let ylo = max(y0, 0), yhi = min(y0 + g.kh, g.h)
            let orow = dst + oy * g.ow
            for ox in 0..<g.ow {
                let (xlo, xhi) = cols[ox]
                var acc = -Float.infinity
                var iy = ylo
                while iy < yhi {
                    let row = src + iy * g.w
                    var ix = xlo
                    while ix < xhi { let v = row[ix]; if v > acc || v.isNaN { acc = v }; ix += 1 }
                    iy += 1
                }
                orow[ox] = acc
            }
        }
    }

    /// MaxPool over a channel-blocked input (planned by `ConvKernels.planAlgorithms` between
    /// direct convs): 2-D, undilated, no Indices; the output blocked when `outputBlocked`.
    static func blockedMax(_ node: Node, outputBlocked: Bool) -> Kernel {
        let ceil = node.int("ceil_mode", 0) != 0
        let memo = ShapeMemo<ConvShape>()
        return { io in
            let x = try io.floatInput(0)
            let shape = try memo.geometry({ $0.add(x.shape) }) {
                guard let kernel = node.ints("kernel_shape"), kernel.count == 2, x.shape.count == 4 else {
                    throw KernelError("planned as a channel-blocked MaxPool, but input \(x.shape) does not fit it")
                }
                let g = try WindowGeometry(node: node, spatial: [x.shape[2], x.shape[3]], kernel: kernel, ceil: ceil)
                guard g.dh == 1, g.dw == 1 else { throw KernelError("a channel-blocked MaxPool takes no dilations") }
                return ConvShape(geometry: g, output: [x.shape[0], x.shape[1], g.oh, g.ow])
            }
            let g = shape.geometry
            let n = x.shape[0], c = x.shape[1], ohw = g.oh * g.ow
            let inImage = DirectConv.blockedFloats(channels: c, positions: g.h * g.w)
            let outImage = outputBlocked ? DirectConv.blockedFloats(channels: c, positions: ohw) : c * ohw
            let y = try io.output(0, .float, shape.output, minimumBytes: outputBlocked ? n * outImage * 4 : 0)
            let scratch = outputBlocked ? nil : io.scratch(DirectConv.blockedFloats(channels: c, positions: ohw))
            for b in 0..<n {
                gs_maxpool_blocked(x.floats + b * inImage, c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.oh, g.ow,
                                   y.mutableFloats + b * outImage, outputBlocked ? 1 : 0, scratch)
            }
        }
    }

    /// GlobalAveragePool / GlobalMaxPool: one value per (n, c) plane.
    static func global(max isMax: Bool) -> Kernel {
        let memo = ShapeMemo<[Int]>()
        return { io in
            let x = try io.floatInput(0)
            let outShape = try memo.geometry({ $0.add(x.shape) }) {
                guard x.shape.count >= 3 else { throw KernelError("input must be at least 3-D, got \(x.shape)") }
                return [x.shape[0], x.shape[1]] + Array(repeating: 1, count: x.shape.count - 2)
            }
            let planes = x.shape[0] * x.shape[1], size = x.count / max(planes, 1)
            let y = try io.output(0, .float, outShape)
            let src = x.floats, dst = y.mutableFloats
            guard isMax else {
                gs_plane_means(src, planes, size, dst)
                return
            }
            for p in 0..<planes {
                let s = src + p * size
                var m = -Float.infinity
                for i in 0..<size { m = max(m, s[i]) }
                dst[p] = m
            }
        }
    }

    /// BatchNormalization in inference mode: y = (x - mean) / sqrt(var + eps) * scale + bias.
    static func batchNorm(_ node: Node) -> Kernel {
        let eps = node.float("epsilon", 1e-5)
        if node.int("training_mode", 0) != 0 { return batchNormTraining(node) }
        return { io in
            let x = try io.floatInput(0)
            let scale = try io.floatInput(1), bias = try io.floatInput(2)
            let mean = try io.floatInput(3), variance = try io.floatInput(4)
            guard x.shape.count >= 2 else { throw KernelError("input must be at least 2-D") }
            let c = x.shape[1]
            guard scale.count == c, bias.count == c, mean.count == c, variance.count == c else {
                throw KernelError("scale/bias/mean/var must have \(c) elements")
            }
            let y = try io.output(0, .float, x.shape)
            let inner = x.count / max(x.shape[0] * c, 1)
            let src = x.floats, dst = y.mutableFloats
            for b in 0..<x.shape[0] {
                for ch in 0..<c {
                    let a = scale.floats[ch] / (variance.floats[ch] + eps).squareRoot()
                    let s = bias.floats[ch] - mean.floats[ch] * a
                    let off = (b * c + ch) * inner
                    gs_scale_shift(src + off, a, s, dst + off, inner)
                }
            }
        }
    }

    /// BatchNormalization with training_mode=1: normalizes with the batch statistics and
    /// returns the running mean/var updated with `momentum` (population variance).
    static func batchNormTraining(_ node: Node) -> Kernel {
        let eps = Double(node.float("epsilon", 1e-5)), momentum = Double(node.float("momentum", 0.9))
        return { io in
            let x = try io.input(0), scale = try io.input(1), bias = try io.input(2)
            let mean = try io.input(3), variance = try io.input(4)
            guard x.shape.count >= 2 else { throw KernelError("input must be at least 2-D") }
            let n = x.shape[0], c = x.shape[1], inner = x.count / max(n * c, 1), count = Double(max(n * inner, 1))
            guard scale.count == c, bias.count == c, mean.count == c, variance.count == c else {
                throw KernelError("scale/bias/mean/var must have \(c) elements")
            }
            let y = try io.output(0, x.elementType, x.shape)
            let rm = node.outputs.count > 1 && !node.outputs[1].isEmpty ? try io.output(1, mean.elementType, [c]) : nil
            let rv = node.outputs.count > 2 && !node.outputs[2].isEmpty ? try io.output(2, variance.elementType, [c]) : nil
            for ch in 0..<c {
                var m = 0.0, sq = 0.0
                for b in 0..<n { for i in 0..<inner { let v = x.double(at: (b * c + ch) * inner + i); m += v; sq += v * v } }
                m /= count
                let v = max(sq / count - m * m, 0)
                let a = scale.double(at: ch) / (v + eps).squareRoot()
                for b in 0..<n { for i in 0..<inner {
                    let at = (b * c + ch) * inner + i
                    y.setDouble((x.double(at: at) - m) * a + bias.double(at: ch), at: at)
                } }
                rm?.setDouble(mean.double(at: ch) * momentum + m * (1 - momentum), at: ch)
                rv?.setDouble(variance.double(at: ch) * momentum + v * (1 - momentum), at: ch)
            }
        }
    }

    /// LRN across channels.
    static func lrn(_ node: Node) -> Kernel {
        let alpha = node.float("alpha", 1e-4), beta = node.float("beta", 0.75), bias = node.float("bias", 1)
        let size = node.int("size", 1)
        return { io in
            let x = try io.floatInput(0)
            guard x.shape.count >= 3 else { throw KernelError("LRN input must be at least 3-D") }
            guard size >= 1 else { throw KernelError("LRN size must be at least 1, got \(size)") }
            let n = x.shape[0], c = x.shape[1], inner = x.count / max(n * c, 1)
            let y = try io.output(0, .float, x.shape)
            let src = x.floats, dst = y.mutableFloats
            let sq = io.scratch(max(inner, 1))
            for b in 0..<n {
                gs_lrn(src + b * c * inner, c, inner, size, alpha, beta, bias, dst + b * c * inner, sq)
            }
        }
    }

    /// Softmax / LogSoftmax: opset < 13 normalizes over the flattened dims from `axis` on;
    /// opset >= 13 over `axis` alone.
    static func softmax(_ node: Node, opset: Int, log isLog: Bool) -> Kernel {
        let axisAttr = node.int("axis", opset < 13 ? 1 : -1)
        return { io in
            let x = try io.floatInput(0)
            let rank = x.shape.count
            let axis = try Shapes.axis(axisAttr, rank: rank)
            let y = try io.output(0, .float, x.shape)
            let outer = x.shape[..<axis].reduce(1, *)
            let len = opset < 13 ? x.shape[axis...].reduce(1, *) : (rank == 0 ? 1 : x.shape[axis])
            let inner = opset < 13 ? 1 : x.shape[(axis + 1)...].reduce(1, *)
            let src = x.floats, dst = y.mutableFloats
            if inner == 1 && !isLog {
                // Contiguous rows: the vectorised row kernel unless the row holds a NaN.
                var clean = true
                for o in 0..<outer where clean { clean = gs_has_nan(src + o * len, len) == 0 }
                if clean {
                    for o in 0..<outer { gs_softmax_row(src + o * len, dst + o * len, len) }
                    return
                }
            }
            for o in 0..<outer {
                for i in 0..<inner {
                    let base = o * len * inner + i
                    var m = -Float.infinity
                    for k in 0..<len { m = max(m, src[base + k * inner]) }
                    var sum: Float = 0
                    for k in 0..<len { let e = exp(src[base + k * inner] - m); dst[base + k * inner] = e; sum += e }
                    if isLog {
                        let ls = log(sum)
                        for k in 0..<len { dst[base + k * inner] = src[base + k * inner] - m - ls }
                    } else {
                        let inv = 1 / sum
                        for k in 0..<len { dst[base + k * inner] *= inv }
                    }
                }
            }
        }
    }

    /// How the float loop of `reduce` combines elements (decided once, not per element).
    enum FloatReduction { case max, min, prod, sumSquare, l1, sum }

    /// ReduceMean/Sum/Max/Min/Prod/SumSquare/L2 over `axes` (attribute before opset 18 (13
    /// for ReduceSum), input 1 after).
    static func reduce(_ node: Node, opset: Int) -> Kernel {
        let op = node.opType
        let keep = node.int("keepdims", 1) != 0
        let noopEmpty = node.int("noop_with_empty_axes", 0) != 0
        let attrAxes = node.ints("axes")
        let kind: FloatReduction = switch op {
        case "ReduceMax": .max
        case "ReduceMin": .min
        case "ReduceProd": .prod
        case "ReduceSumSquare", "ReduceL2": .sumSquare
        case "ReduceL1": .l1
        default: .sum
        }
        let memo = ShapeMemo<ReduceGeometry?>()
        return { io in
            let axesInput = io.optionalInput(1)
            let x = try io.input(0)
            if x.elementType != .float || op == "ReduceLogSum" || op == "ReduceLogSumExp" || x.count == 0 {
                var axes = attrAxes ?? []
                if let a = axesInput { axes = a.int64Values().map { Int($0) } }
                try ReduceKernels.generic(&io, x, op: op, axes: axes, keep: keep, noopEmpty: noopEmpty)
                return
            }
            let rank = x.shape.count
            let shapes = try memo.geometry({ $0.add(x.shape); $0.addContents(axesInput) }) {
                var axes = attrAxes ?? []
                if let a = axesInput { axes = a.int64Values().map { Int($0) } }
                return try ReduceGeometry(x.shape, given: axes, keep: keep, noopEmpty: noopEmpty)
            }
            guard let shapes else {
                // noop_with_empty_axes and no axes: the input, copied.
                let y = try io.output(0, x.elementType, x.shape)
                y.raw.copyMemory(from: x.raw, byteCount: x.byteCount)
                return
            }
            let y = try io.output(0, .float, shapes.outShape)
            let dst = y.mutableFloats, src = x.floats
            let initial: Float = kind == .max ? -.infinity : kind == .min ? .infinity : kind == .prod ? 1 : 0
            for i in 0..<y.count { dst[i] = initial }
            @inline(__always) func combine(_ a: Float, _ v: Float) -> Float {
                switch kind {
                case .max: return max(a, v)
                case .min: return min(a, v)
                case .prod: return a * v
                case .sumSquare: return a + v * v
                case .l1: return a + abs(v)
                case .sum: return a + v
                }
            }
            if shapes.trailing {
                // The trailing axes (a row per output, as RMSNorm's mean over the hidden size).
                let len = x.count / max(y.count, 1)
                for o in 0..<y.count {
                    var a = initial
                    let row = src + o * len
                    for k in 0..<len { a = combine(a, row[k]) }
                    dst[o] = a
                }
            } else {
                // Walk the input once, accumulating into the output element each input maps to.
                let ost = shapes.outputStrides
                withUnsafeTemporaryAllocation(of: Int.self, capacity: max(rank, 1)) { counterBuffer in
                    guard let counter = counterBuffer.baseAddress else { return }
                    for d in 0..<rank { counter[d] = 0 }
                    var o = 0
                    for i in 0..<x.count {
                        dst[o] = combine(dst[o], src[i])
                        var d = rank - 1
                        while d >= 0 {
                            counter[d] += 1; o += ost[d]
                            if counter[d] < x.shape[d] { break }
                            o -= ost[d] * x.shape[d]; counter[d] = 0; d -= 1
                        }
                    }
                }
            }
            let n = Float(x.count / max(y.count, 1))
            if op == "ReduceMean" { for i in 0..<y.count { dst[i] /= n } }
            if op == "ReduceL2" { for i in 0..<y.count { dst[i] = dst[i].squareRoot() } }
        }
    }
}
