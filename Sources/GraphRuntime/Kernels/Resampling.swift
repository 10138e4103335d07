/// Kernels that map every output position to input positions: Pad (constant, reflect, edge)
/// and Resize/Upsample (nearest for any rank and type; linear over the last two axes).
import Foundation
import GraphIR

enum ResampleKernels {
    /// Pad's modes (an unknown mode pads with the constant, as before validation flags it).
    enum PadMode { case constant, edge, wrap, reflect }

    static func pad(_ node: Node, opset: Int) -> Kernel {
        let mode = node.string("mode", "constant")
        let padMode: PadMode = mode == "edge" ? .edge : mode == "wrap" ? .wrap : mode == "reflect" ? .reflect : .constant
        let memo = ShapeMemo<(pads: [Int], shape: [Int], strides: [Int])>()
        let fillValue = TensorCache(), counterBuffer = KernelBuffer()
        return { io in
            let x = try io.input(0)
            let rank = x.shape.count
            var fill = 0.0
            if opset < 11 {
                fill = Double(node.float("value", 0))
            } else if let v = io.optionalInput(2), v.count > 0 {
                fill = v.double(at: 0)
            }
            let padsInput = opset < 11 ? nil : io.optionalInput(1), axesInput = opset < 11 ? nil : io.optionalInput(3)
            let (pads, outShape, inSt) = try memo.geometry({ $0.add(x.shape); $0.addContents(padsInput); $0.addContents(axesInput) }) {
                var pads: [Int]
                if opset < 11 {
                    guard let p = node.ints("pads") else { throw KernelError("Pad needs pads") }
                    pads = p
                } else {
                    pads = try io.input(1).int64Values().map { Int($0) }
                    if let a = axesInput {
                        let axes = try a.int64Values().map { try Shapes.axis(Int($0), rank: rank) }
                        guard pads.count == 2 * axes.count else { throw KernelError("pads \(pads) do not match axes \(axes)") }
                        var full = [Int](repeating: 0, count: 2 * rank)
                        for (k, ax) in axes.enumerated() { full[ax] = pads[k]; full[ax + rank] = pads[k + axes.count] }
                        pads = full
                    }
                }
                guard pads.count == 2 * rank else { throw KernelError("pads \(pads) do not match rank \(rank)") }
                guard pads.allSatisfy({ $0 > -(1 << 40) && $0 < 1 << 40 }) else { throw KernelError("pads \(pads) are out of range") }
                let outShape = (0..<rank).map { x.shape[$0] + pads[$0] + pads[$0 + rank] }
                for d in outShape where d < 0 { throw KernelError("padding makes a negative size \(outShape)") }
                return (pads, outShape, Shapes.strides(x.shape))
            }
            let y = try io.output(0, x.elementType, outShape)
            if y.count == 0 { return }
            let size = x.elementSize
            let fillT = try fillValue.tensor(x.elementType, [1])
            fillT.setDouble(fill, at: 0)
            // The input index an output index `i` (already shifted by the leading pad) reads
            // along a dim of size n, or nil for the fill value.
            func source(_ i: Int, _ n: Int) -> Int? {
                if i >= 0 && i < n { return i }
                switch padMode {
                case .constant: return nil
                case .edge: return n == 0 ? nil : min(max(i, 0), n - 1)
                case .wrap: return n == 0 ? nil : ((i % n) + n) % n
                case .reflect:
                    if n == 0 { return nil }
                    if n == 1 { return 0 }
                    let period = 2 * (n - 1)
                    let r = ((i % period) + period) % period
                    return r >= n ? period - r : r
                }
            }
            if rank == 0 { y.raw.copyMemory(from: x.raw, byteCount: size); return }
            // Row by row over the last axis: each row's source row is found once, its interior
            // copied as one run, only the padded ends element by element (per element, this
            // kernel was a quarter of silero_vad_16k_sequence's time).
            let last = rank - 1, n = x.shape[last], lead = pads[last], width = outShape[last]
            let lo = min(max(lead, 0), width), hi = max(lo, min(width, lead + n))
            let rows = y.count / width
            let counter = counterBuffer.pointer(Int.self, count: last)
            for d in 0..<last { counter[d] = 0 }
            for r in 0..<rows {
                let dst = y.raw + r * width * size
                var base = 0, inside = true
                for d in 0..<last {
                    guard let i = source(counter[d] - pads[d], x.shape[d]) else { inside = false; break }
                    base += i * inSt[d]
                }
                if inside {
                    if hi > lo { dst.advanced(by: lo * size).copyMemory(from: x.raw + (base + lo - lead) * size, byteCount: (hi - lo) * size) }
                    for j in 0..<width where j < lo || j >= hi {
                        let s = source(j - lead, n)
                        dst.advanced(by: j * size).copyMemory(from: s.map { x.raw + (base + $0) * size } ?? fillT.raw, byteCount: size)
                    }
                } else {
                    for j in 0..<width { dst.advanced(by: j * size).copyMemory(from: fillT.raw, byteCount: size) }
                }
                var d = last - 1
                while d >= 0 { counter[d] += 1; if counter[d] < outShape[d] { break }; counter[d] = 0; d -= 1 }
            }
        }
    }

    /// Resize (opset >= 10) and Upsample: output sizes from `sizes` or `scales`.
    static func resize(_ node: Node, opset: Int) -> Kernel {
        let mode = node.string("mode", "nearest")
        let ctm = opset < 11 ? "asymmetric" : node.string("coordinate_transformation_mode", "half_pixel")
        let nearestMode = opset < 11 ? "floor" : node.string("nearest_mode", "round_prefer_floor")
        let isUpsample = node.opType == "Upsample"
        let axesAttr = node.ints("axes"), policy = node.string("keep_aspect_ratio_policy", "stretch")
        let antialias = node.int("antialias", 0) != 0, excludeOutside = node.int("exclude_outside", 0) != 0
        let cubicA = Double(node.float("cubic_coeff_a", -0.75))
        let memo = ShapeMemo<ResizeGeometry>()
        return { io in
            let x = try io.input(0)
            let scaleInput = isUpsample || opset < 11 ? io.optionalInput(1) : io.optionalInput(2)
            let sizesInput = !isUpsample && opset >= 11 ? io.optionalInput(3) : nil
            let geo = try memo.geometry({ $0.add(x.shape); $0.addContents(scaleInput); $0.addContents(sizesInput) }) {
                let rank = x.shape.count
                var scales: [Double] = [], outShape: [Int] = []
                var fromSizes = false
                // `axes` (opset 18) names the axes the sizes/scales are for; the others keep their size.
                let axes = try axesAttr.map { try $0.map { try Shapes.axis($0, rank: rank) } } ?? Array(0..<rank)
                if let s = sizesInput, s.count > 0 {
                    let given = s.int64Values().map { Int($0) }
                    fromSizes = true
                    guard given.count == axes.count else { throw KernelError("sizes \(given) do not match axes \(axes)") }
                    outShape = x.shape
                    scales = Array(repeating: 1, count: rank)
                    if policy == "stretch" {
                        for (k, a) in axes.enumerated() { outShape[a] = given[k]; scales[a] = Double(given[k]) / Double(max(x.shape[a], 1)) }
                    } else {
                        let ratios = axes.enumerated().map { Double(given[$0.offset]) / Double(max(x.shape[$0.element], 1)) }
                        let r = (policy == "not_larger" ? ratios.min() : ratios.max()) ?? 1
                        for a in axes { outShape[a] = clampedInt((r * Double(x.shape[a]) + 0.5).rounded(.down)); scales[a] = r }
                    }
                } else if let s = scaleInput, s.count > 0 {
                    let given = (0..<s.count).map { s.double(at: $0) }
                    guard given.count == axes.count else { throw KernelError("scales \(given) do not match axes \(axes)") }
                    scales = Array(repeating: 1, count: rank)
                    for (k, a) in axes.enumerated() { scales[a] = given[k] }
                    outShape = try sizes(x.shape, scales)
                } else if let s = node.attribute("scales")?.floatsValueList {
                    scales = s.map { Double($0) }
                    guard scales.count == rank else { throw KernelError("scales \(scales) do not match rank \(rank)") }
                    outShape = try sizes(x.shape, scales)
                } else {
                    throw KernelError("Resize needs scales or sizes")
                }
                // Refused before the per-position tables below are built for it (a huge size
                // would allocate them first).
                _ = try KernelIO.checkedBytes(outShape, RuntimeElement.size(x.elementType) ?? 4, what: "Resize output")
                try KernelIO.requireBounded(outShape, "Resize output shape", lower: 0)
                func source(_ o: Int, _ d: Int) -> Double {
                    let inLen = Double(x.shape[d]), outLen = Double(outShape[d]), s = scales[d]
                    let xo = Double(o)
                    switch ctm {
                    case "asymmetric": return xo / s
                    // With scales given, the reference takes the unrounded in * scale as the output length.
                    case "align_corners":
                        let len = fromSizes ? outLen : inLen * s
                        return len <= 1 ? 0 : xo * (inLen - 1) / (len - 1)
                    case "half_pixel_symmetric":
                        let adjustment = outLen / (inLen * s), offset = inLen / 2 * (1 - adjustment)
                        return offset + (xo + 0.5) / s - 0.5
                    case "pytorch_half_pixel": return outLen > 1 ? (xo + 0.5) / s - 0.5 : 0
                    case "tf_half_pixel_for_nn": return (xo + 0.5) / s
                    default: return (xo + 0.5) / s - 0.5
                    }
                }
                var geometry = ResizeGeometry(outShape: outShape)
                if mode == "nearest" {
                    var tables: [[Int]] = []
                    for d in 0..<rank {
                        tables.append((0..<outShape[d]).map { o in
                            let v = source(o, d)
                            var i: Double
                            switch nearestMode {
                            case "floor": i = v.rounded(.down)
                            case "ceil": i = v.rounded(.up)
                            case "round_prefer_ceil": i = v.rounded(.toNearestOrAwayFromZero)
                            default: i = (v - v.rounded(.down) == 0.5) ? v.rounded(.down) : v.rounded()
                            }
                            return min(max(Int(i), 0), x.shape[d] - 1)
                        })
                    }
                    geometry.nearest = tables
                } else if mode == "cubic", x.elementType == .float, rank >= 2 {
                    func taps(_ d: Int) -> [[(Int, Double)]] {
                        (0..<outShape[d]).map { o in
                            let v = source(o, d), base = v.rounded(.down), r = v - base, n = x.shape[d]
                            let t = [r + 1, r, 1 - r, 2 - r]
                            var w = t.map { a -> Double in
                                let z = abs(a)
                                if z <= 1 { return ((cubicA + 2) * z - (cubicA + 3)) * z * z + 1 }
                                if z < 2 { return ((cubicA * z - 5 * cubicA) * z + 8 * cubicA) * z - 4 * cubicA }
                                return 0
                            }
                            let idx = (0..<4).map { Int(base) - 1 + $0 }
                            if excludeOutside {
                                for k in 0..<4 where idx[k] < 0 || idx[k] >= n { w[k] = 0 }
                                let sum = w.reduce(0, +)
                                if sum != 0 { w = w.map { $0 / sum } }
                            }
                            return (0..<4).map { (min(max(idx[$0], 0), n - 1), w[$0]) }
                        }
                    }
                    geometry.cubic = (taps(rank - 2), taps(rank - 1))
                } else if mode == "linear", x.elementType == .float, rank >= 2 {
                    func taps(_ d: Int) -> [(Int, Int, Float)] {
                        (0..<outShape[d]).map { o in
                            let v = min(max(source(o, d), 0), Double(x.shape[d] - 1))
                            let i0 = min(max(clampedInt(v.rounded(.down)), 0), max(x.shape[d] - 1, 0)), i1 = min(i0 + 1, x.shape[d] - 1)
                            return (i0, i1, Float(v - Double(i0)))
                        }
                    }
                    geometry.linear = (taps(rank - 2), taps(rank - 1))
                }
                return geometry
            }
            let rank = x.shape.count, outShape = geo.outShape
            let y = try io.output(0, x.elementType, outShape)
            if y.count == 0 { return }
            if mode == "nearest" {
                let tables = geo.nearest
                let size = x.elementSize
                // Common case: float, only the last two axes resized: copy row by row.
                if size == 4, rank >= 2, (0..<(rank - 2)).allSatisfy({ outShape[$0] == x.shape[$0] }) {
                    let h = x.shape[rank - 2], w = x.shape[rank - 1], oh = outShape[rank - 2], ow = outShape[rank - 1]
                    let planes = x.count / max(h * w, 1), ty = tables[rank - 2], tx = tables[rank - 1]
                    let src = x.raw.assumingMemoryBound(to: UInt32.self), dst = y.raw.assumingMemoryBound(to: UInt32.self)
                    for p in 0..<planes {
                        for oy in 0..<oh {
                            let srow = src + p * h * w + ty[oy] * w, drow = dst + (p * oh + oy) * ow
                            if oy > 0 && ty[oy] == ty[oy - 1] { drow.update(from: drow - ow, count: ow); continue }
                            for ox in 0..<ow { drow[ox] = srow[tx[ox]] }
                        }
                    }
                    return
                }
                let inSt = Shapes.strides(x.shape)
                var counter = [Int](repeating: 0, count: rank)
                for o in 0..<y.count {
                    var idx = 0
                    for d in 0..<rank { idx += tables[d][counter[d]] * inSt[d] }
                    (y.raw + o * size).copyMemory(from: x.raw + idx * size, byteCount: size)
                    var d = rank - 1
                    while d >= 0 { counter[d] += 1; if counter[d] < outShape[d] { break }; counter[d] = 0; d -= 1 }
                }
                return
            }
            if antialias && mode != "nearest" { throw KernelError("Resize with antialias is not supported yet") }
            if ctm == "tf_crop_and_resize" { throw KernelError("Resize with tf_crop_and_resize is not supported yet") }
            if mode == "cubic", x.elementType == .float, rank >= 2,
               (0..<(rank - 2)).allSatisfy({ outShape[$0] == x.shape[$0] }) {
                // Keys cubic convolution, 4 taps per axis, edge-clamped; exclude_outside drops
                // taps outside the input and renormalizes.
                guard let (ty, tx) = geo.cubic else { throw KernelError("Resize has no cubic taps") }
                let h = x.shape[rank - 2], w = x.shape[rank - 1], oh = outShape[rank - 2], ow = outShape[rank - 1]
                let src = x.floats, dst = y.mutableFloats
                for p in 0..<(x.count / max(h * w, 1)) {
                    let s = src + p * h * w
                    for yy in 0..<oh {
                        for xx in 0..<ow {
                            var acc = 0.0
                            for (iy, wy) in ty[yy] { for (ix, wx) in tx[xx] { acc += wy * wx * Double(s[iy * w + ix]) } }
                            dst[p * oh * ow + yy * ow + xx] = Float(acc)
                        }
                    }
                }
                return
            }
            guard mode == "linear", x.elementType == .float, rank >= 2 else {
                throw KernelError("Resize mode '\(mode)' on \(x.elementType.name) rank \(rank) is not supported yet")
            }
            for d in 0..<(rank - 2) where outShape[d] != x.shape[d] {
                throw KernelError("linear Resize of axis \(d) (not one of the last two) is not supported yet")
            }
            guard let (ty, tx) = geo.linear else { throw KernelError("Resize has no linear taps") }
            let h = x.shape[rank - 2], w = x.shape[rank - 1], oh = outShape[rank - 2], ow = outShape[rank - 1]
            let planes = x.count / max(h * w, 1)
            let src = x.floats, dst = y.mutableFloats
            for p in 0..<planes {
                let s = src + p * h * w, o = dst + p * oh * ow
                for (yy, (y0, y1, wy)) in ty.enumerated() {
                    for (xx, (x0, x1, wx)) in tx.enumerated() {
                        let top = s[y0 * w + x0] * (1 - wx) + s[y0 * w + x1] * wx
                        let bottom = s[y1 * w + x0] * (1 - wx) + s[y1 * w + x1] * wx
                        o[yy * ow + xx] = top * (1 - wy) + bottom * wy
                    }
                }
            }
        }
    }
}

/// Resize's shapes as its kernel keeps them between calls (`ShapeMemo`): the output shape and
/// the source positions of each output row and column for the mode (nearest: one index per
/// output position and axis; cubic: 4 taps with weights; linear: 2 taps and a weight).
struct ResizeGeometry {
    var outShape: [Int]
    var nearest: [[Int]] = []
    var cubic: (rows: [[(Int, Double)]], columns: [[(Int, Double)]])?
    var linear: (rows: [(Int, Int, Float)], columns: [(Int, Int, Float)])?
}

/// Output sizes floor(in * scale), refusing non-finite, non-positive or absurd scales.
private func sizes(_ shape: [Int], _ scales: [Double]) throws -> [Int] {
    try zip(shape, scales).map { d, s in
        let v = (Double(d) * s).rounded(.down)
        guard s > 0, v.isFinite, v < 9e15 else { throw KernelError("scale \(s) is not a usable resize factor") }
        return Int(v)
    }
}

extension AttributeValue {
    /// The float list of a `floats` attribute.
    var floatsValueList: [Float]? { if case .floats(let f) = self { return f }; return nil }
}
