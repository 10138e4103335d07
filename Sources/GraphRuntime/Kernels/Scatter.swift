/// Index-selecting and scattering kernels for any element type: TopK, ScatterElements /
/// Scatter, ScatterND (with reductions), GatherND, OneHot, Compress, NonZero, EyeLike,
/// DepthToSpace / SpaceToDepth.
import Foundation
import GraphIR

enum ScatterKernels {
    static func copyElement(_ y: RuntimeTensor, _ o: Int, _ x: RuntimeTensor, _ i: Int) {
        let size = x.elementSize
        (y.raw + o * size).copyMemory(from: x.raw + i * size, byteCount: size)
    }

    static func combine(_ reduction: String, _ old: Double, _ new: Double) -> Double {
        switch reduction {
        case "add": return old + new
        case "mul": return old * new
        case "max": return max(old, new)
        case "min": return min(old, new)
        default: return new
        }
    }

    static func topK(_ node: Node) -> Kernel {
        let axisAttr = node.int("axis", -1), largest = node.int("largest", 1) != 0
        return { io in
            let x = try io.input(0), kt = try io.input(1)
            guard kt.count == 1 else { throw KernelError("K must hold one value") }
            let k = Int(kt.int64Values()[0])
            let axis = try Shapes.axis(axisAttr, rank: x.shape.count)
            let (outer, dim, inner) = IndexKernels.split(x.shape, axis)
            guard k >= 0, k <= dim else { throw KernelError("K \(k) is out of range for axis size \(dim)") }
            var shape = x.shape; shape[axis] = k
            let y = try io.output(0, x.elementType, shape), ind = try io.output(1, .int64, shape)
            for o in 0..<outer {
                for i in 0..<inner {
                    let vals = (0..<dim).map { x.double(at: (o * dim + $0) * inner + i) }
                    let order = (0..<dim).sorted { a, b in
                        if vals[a] == vals[b] { return a < b }
                        return largest ? vals[a] > vals[b] : vals[a] < vals[b]
                    }
                    for j in 0..<k {
                        let at = (o * k + j) * inner + i
                        copyElement(y, at, x, (o * dim + order[j]) * inner + i)
                        ind.setDouble(Double(order[j]), at: at)
                    }
                }
            }
        }
    }

    static func scatterElements(_ node: Node) -> Kernel {
        let axisAttr = node.int("axis", 0), reduction = node.string("reduction", "none")
        return { io in
            let x = try io.input(0), ind = try io.input(1), upd = try io.input(2)
            let rank = x.shape.count
            let axis = try Shapes.axis(axisAttr, rank: rank)
            guard ind.shape == upd.shape, ind.shape.count == rank else { throw KernelError("indices \(ind.shape) and updates \(upd.shape) do not fit data \(x.shape)") }
            try IndexKernels.checkElementIndices(ind.shape, fit: x.shape, axis: axis)
            let y = try io.output(0, x.elementType, x.shape)
            y.raw.copyMemory(from: x.raw, byteCount: x.byteCount)
            let idx = ind.int64Values(), xs = Shapes.strides(x.shape), us = Shapes.strides(ind.shape), dim = x.shape[axis]
            for u in 0..<ind.count {
                var rem = u, dst = 0
                for d in 0..<rank {
                    var c = rem / us[d]; rem -= c * us[d]
                    if d == axis {
                        c = Int(idx[u]); if c < 0 { c += dim }
                        guard c >= 0, c < dim else { throw KernelError("index \(idx[u]) is out of range for axis size \(dim)") }
                    }
                    dst += c * xs[d]
                }
                if reduction == "none" { copyElement(y, dst, upd, u) }
                else { y.setDouble(combine(reduction, y.double(at: dst), upd.double(at: u)), at: dst) }
            }
        }
    }

    static func scatterND(_ node: Node) -> Kernel {
        let reduction = node.string("reduction", "none")
        return { io in
            let x = try io.input(0), ind = try io.input(1), upd = try io.input(2)
            guard let q = ind.shape.last, q <= x.shape.count else { throw KernelError("indices \(ind.shape) do not fit data \(x.shape)") }
            let y = try io.output(0, x.elementType, x.shape)
            y.raw.copyMemory(from: x.raw, byteCount: x.byteCount)
            let idx = ind.int64Values(), xs = Shapes.strides(x.shape)
            let slice = x.shape[q...].reduce(1, *), n = ind.count / max(q, 1)
            guard upd.count == n * slice else { throw KernelError("updates \(upd.shape) do not fit") }
            for t in 0..<n {
                var base = 0
                for d in 0..<q {
                    var c = Int(idx[t * q + d]); if c < 0 { c += x.shape[d] }
                    guard c >= 0, c < x.shape[d] else { throw KernelError("index \(idx[t * q + d]) is out of range for dim \(d)") }
                    base += c * xs[d]
                }
                for s in 0..<slice {
                    if reduction == "none" { copyElement(y, base + s, upd, t * slice + s) }
                    else { y.setDouble(combine(reduction, y.double(at: base + s), upd.double(at: t * slice + s)), at: base + s) }
                }
            }
        }
    }

    static func gatherND(_ node: Node) -> Kernel {
        let batchDims = node.int("batch_dims", 0)
        let memo = ShapeMemo<(shape: [Int], strides: [Int])>()
        return { io in
            let x = try io.input(0), ind = try io.input(1)
            guard let q = ind.shape.last, batchDims >= 0, q >= 0, batchDims < ind.shape.count, q <= x.shape.count, batchDims + q <= x.shape.count else {
                throw KernelError("indices \(ind.shape) do not fit data \(x.shape)")
            }
            let (outShape, xs) = memo.geometry({ $0.add(x.shape); $0.add(ind.shape) }) {
                (Array(ind.shape.dropLast()) + Array(x.shape[(batchDims + q)...]), Shapes.strides(x.shape))
            }
            let y = try io.output(0, x.elementType, outShape)
            // int64 indices read in place; other index types through a converted copy.
            let converted: [Int64]? = ind.elementType == .int64 ? nil : ind.int64Values()
            let pointer = ind.raw.assumingMemoryBound(to: Int64.self)
            @inline(__always) func index(_ i: Int) -> Int64 { converted?[i] ?? pointer[i] }
            let slice = x.shape[(batchDims + q)...].reduce(1, *)
            let batch = x.shape[..<batchDims].reduce(1, *), perBatch = ind.count / max(q, 1) / max(batch, 1)
            let batchStride = batchDims > 0 ? xs[batchDims - 1] : 0
            for b in 0..<batch {
                for t in 0..<perBatch {
                    let row = b * perBatch + t
                    var base = b * batchStride
                    for d in 0..<q {
                        let dim = x.shape[batchDims + d]
                        var c = Int(index(row * q + d)); if c < 0 { c += dim }
                        guard c >= 0, c < dim else { throw KernelError("index \(index(row * q + d)) is out of range") }
                        base += c * xs[batchDims + d]
                    }
                    for s in 0..<slice { copyElement(y, row * slice + s, x, base + s) }
                }
            }
        }
    }

    static func oneHot(_ node: Node) -> Kernel {
        let axisAttr = node.int("axis", -1)
        return { io in
            let ind = try io.input(0), depthT = try io.input(1), values = try io.input(2)
            guard depthT.count == 1, values.count == 2 else { throw KernelError("depth must be a scalar and values hold two") }
            let depth = depthT.saturatingInt(at: 0)
            guard depth > 0 else { throw KernelError("depth \(depth) must be positive") }
            let rank = ind.shape.count + 1
            let axis = try Shapes.axis(axisAttr, rank: rank)
            var shape = ind.shape; shape.insert(depth, at: axis)
            let y = try io.output(0, values.elementType, shape)
            let outer = ind.shape[..<axis].reduce(1, *), inner = ind.shape[axis...].reduce(1, *)
            for o in 0..<outer {
                for d in 0..<depth {
                    for i in 0..<inner {
                        var v = ind.saturatingInt(at: o * inner + i); if v < 0 { v += depth }
                        copyElement(y, (o * depth + d) * inner + i, values, v == d ? 1 : 0)
                    }
                }
            }
        }
    }

    static func compress(_ node: Node) -> Kernel {
        let axisAttr = node.attribute("axis")?.intValue.map { Int($0) }
        return { io in
            var x = try io.input(0)
            let cond = try io.input(1)
            if axisAttr == nil { x = x.reshaped([x.count]) }
            let axis = try Shapes.axis(axisAttr ?? 0, rank: x.shape.count)
            let (outer, dim, inner) = IndexKernels.split(x.shape, axis)
            let keep = (0..<min(dim, cond.count)).filter { cond.double(at: $0) != 0 }
            var shape = x.shape; shape[axis] = keep.count
            let y = try io.output(0, x.elementType, shape)
            for o in 0..<outer {
                for (j, k) in keep.enumerated() {
                    for i in 0..<inner { copyElement(y, (o * keep.count + j) * inner + i, x, (o * dim + k) * inner + i) }
                }
            }
        }
    }

    static let nonZero: Kernel = { io in
        let x = try io.input(0)
        let hits = (0..<x.count).filter { x.double(at: $0) != 0 }
        let rank = x.shape.count, st = Shapes.strides(x.shape)
        let y = try io.output(0, .int64, [rank, hits.count])
        for (j, h) in hits.enumerated() {
            var rem = h
            for d in 0..<rank { let c = rem / st[d]; rem -= c * st[d]; y.setDouble(Double(c), at: d * hits.count + j) }
        }
    }

    static func eyeLike(_ node: Node) -> Kernel {
        let k = node.int("k", 0), dtype = node.attribute("dtype")?.intValue.flatMap { ElementType(rawValue: Int32(clamping: $0)) }
        return { io in
            let x = try io.input(0)
            guard x.shape.count == 2 else { throw KernelError("EyeLike needs a 2-D input, got \(x.shape)") }
            let type = dtype ?? x.elementType
            let y = try io.output(0, type, x.shape)
            for r in 0..<x.shape[0] { for c in 0..<x.shape[1] { y.setDouble(c - r == k ? 1 : 0, at: r * x.shape[1] + c) } }
        }
    }

    /// DepthToSpace (DCR or CRD) and SpaceToDepth on NCHW.
    static func depthSpace(_ node: Node, toSpace: Bool) -> Kernel {
        let bs = node.int("blocksize", 1), crd = node.string("mode", "DCR") == "CRD"
        return { io in
            let x = try io.input(0)
            guard x.shape.count == 4, bs > 0, bs < 1 << 31 else { throw KernelError("needs a 4-D input and a blocksize in 1..<2^31") }
            let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
            if toSpace {
                guard c % (bs * bs) == 0 else { throw KernelError("channels \(c) not divisible by blocksize² \(bs * bs)") }
                let oc = c / (bs * bs)
                let y = try io.output(0, x.elementType, [n, oc, h * bs, w * bs])
                for b in 0..<n { for o in 0..<oc { for yy in 0..<(h * bs) { for xx in 0..<(w * bs) {
                    let (i, j) = (yy % bs, xx % bs)
                    let ch = crd ? (o * bs + i) * bs + j : (i * bs + j) * oc + o
                    copyElement(y, ((b * oc + o) * h * bs + yy) * w * bs + xx, x, ((b * c + ch) * h + yy / bs) * w + xx / bs)
                } } } }
            } else {
                guard h % bs == 0, w % bs == 0 else { throw KernelError("spatial \(h)x\(w) not divisible by blocksize \(bs)") }
                let oh = h / bs, ow = w / bs, oc = c * bs * bs
                let y = try io.output(0, x.elementType, [n, oc, oh, ow])
                for b in 0..<n { for ch in 0..<oc { for yy in 0..<oh { for xx in 0..<ow {
                    let blk = ch / c, cc = ch % c, (i, j) = (blk / bs, blk % bs)
                    copyElement(y, ((b * oc + ch) * oh + yy) * ow + xx, x, ((b * c + cc) * h + yy * bs + i) * w + xx * bs + j)
                } } } }
            }
        }
    }
}

extension ScatterKernels {
    /// NonMaxSuppression: per batch and class, greedy selection by descending score of boxes
    /// whose IoU with every box already kept is at most iou_threshold.
    static func nonMaxSuppression(_ node: Node) -> Kernel {
        let center = node.int("center_point_box", 0) != 0
        return { io in
            let boxes = try io.input(0), scores = try io.input(1)
            guard boxes.shape.count == 3, boxes.shape[2] == 4, scores.shape.count == 3,
                  scores.shape[0] == boxes.shape[0], scores.shape[2] == boxes.shape[1] else {
                throw KernelError("boxes \(boxes.shape) and scores \(scores.shape) do not fit")
            }
            let maxOut = io.optionalInput(2).flatMap { $0.count > 0 ? $0.saturatingInt(at: 0) : nil } ?? 0
            let iouT = io.optionalInput(3).flatMap { $0.count > 0 ? $0.double(at: 0) : nil } ?? 0
            let scoreT = io.optionalInput(4).flatMap { $0.count > 0 ? $0.double(at: 0) : nil }
            let (nb, nc, n) = (scores.shape[0], scores.shape[1], scores.shape[2])
            func corners(_ b: Int, _ i: Int) -> (Double, Double, Double, Double) {
                let v = (0..<4).map { boxes.double(at: (b * n + i) * 4 + $0) }
                if center { return (v[1] - v[3] / 2, v[0] - v[2] / 2, v[1] + v[3] / 2, v[0] + v[2] / 2) }
                return (min(v[0], v[2]), min(v[1], v[3]), max(v[0], v[2]), max(v[1], v[3]))
            }
            func iou(_ a: (Double, Double, Double, Double), _ c: (Double, Double, Double, Double)) -> Double {
                let ih = max(0, min(a.2, c.2) - max(a.0, c.0)), iw = max(0, min(a.3, c.3) - max(a.1, c.1))
                let inter = ih * iw, union = (a.2 - a.0) * (a.3 - a.1) + (c.2 - c.0) * (c.3 - c.1) - inter
                return union <= 0 ? 0 : inter / union
            }
            var selected: [(Int, Int, Int)] = []
            if maxOut > 0 {
                for b in 0..<nb {
                    for c in 0..<nc {
                        var order = (0..<n).filter { i in scoreT.map { scores.double(at: (b * nc + c) * n + i) > $0 } ?? true }
                        order.sort { scores.double(at: (b * nc + c) * n + $0) > scores.double(at: (b * nc + c) * n + $1) }
                        var kept: [Int] = []
                        for i in order where kept.count < maxOut {
                            let box = corners(b, i)
                            if kept.allSatisfy({ iou(corners(b, $0), box) <= iouT }) { kept.append(i) }
                        }
                        selected += kept.map { (b, c, $0) }
                    }
                }
            }
            let y = try io.output(0, .int64, [selected.count, 3])
            for (k, s) in selected.enumerated() {
                y.setDouble(Double(s.0), at: 3 * k); y.setDouble(Double(s.1), at: 3 * k + 1); y.setDouble(Double(s.2), at: 3 * k + 2)
            }
        }
    }
}
