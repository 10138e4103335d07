/// Index-driven kernels for any element type: GatherElements, Trilu, ArgMax/ArgMin, CumSum,
/// Hardmax and CastLike. Values go through Double where arithmetic is needed.
import Foundation
import GraphIR

enum IndexKernels {
    /// (outer, dim, inner) sizes around `axis`.
    static func split(_ shape: [Int], _ axis: Int) -> (Int, Int, Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    static func gatherElements(_ node: Node) -> Kernel {
        let axisAttr = node.int("axis", 0)
        return { io in
            let x = try io.input(0), ind = try io.input(1)
            let rank = x.shape.count
            guard ind.shape.count == rank else { throw KernelError("indices rank \(ind.shape.count) differs from data rank \(rank)") }
            let axis = try Shapes.axis(axisAttr, rank: rank)
            try checkElementIndices(ind.shape, fit: x.shape, axis: axis)
            let y = try io.output(0, x.elementType, ind.shape)
            let idx = ind.int64Values(), xs = Shapes.strides(x.shape), os = Shapes.strides(ind.shape), size = x.elementSize
            let dim = x.shape[axis]
            for o in 0..<y.count {
                var rem = o, src = 0
                for d in 0..<rank {
                    var c = rem / os[d]; rem -= c * os[d]
                    if d == axis {
                        c = Int(idx[o]); if c < 0 { c += dim }
                        guard c >= 0, c < dim else { throw KernelError("index \(idx[o]) is out of range for axis size \(dim)") }
                    }
                    src += c * xs[d]
                }
                (y.raw + o * size).copyMemory(from: x.raw + src * size, byteCount: size)
            }
        }
    }

    /// GatherElements and ScatterElements read (or write) data at the indices' own coordinates
    /// on every axis but `axis`, so the indices may be no larger than the data there (onnxruntime
    /// checks the same): a larger one would address memory outside the data.
    static func checkElementIndices(_ indices: [Int], fit data: [Int], axis: Int) throws {
        for d in indices.indices where d != axis && indices[d] > data[d] {
            throw KernelError("indices shape \(indices) is larger than data shape \(data) on axis \(d) (\(indices[d]) > \(data[d]))")
        }
    }

    static func trilu(_ node: Node) -> Kernel {
        let upper = node.int("upper", 1) != 0
        return { io in
            let x = try io.input(0)
            let k = try io.optionalInput(1).map { t -> Int in
                guard t.count == 1 else { throw KernelError("k must be a scalar") }
                return Int(t.int64Values()[0])
            } ?? 0
            guard x.shape.count >= 2 else { throw KernelError("Trilu needs rank >= 2, got \(x.shape)") }
            let y = try io.output(0, x.elementType, x.shape)
            y.raw.copyMemory(from: x.raw, byteCount: x.byteCount)
            let r = x.shape.count, n = x.shape[r - 2], m = x.shape[r - 1], size = x.elementSize
            let mats = x.count / max(n * m, 1)
            for b in 0..<mats {
                for i in 0..<n {
                    for j in 0..<m {
                        let keep = upper ? j - i >= k : j - i <= k
                        if !keep { (y.raw + ((b * n + i) * m + j) * size).initializeMemory(as: UInt8.self, repeating: 0, count: size) }
                    }
                }
            }
        }
    }

    static func argExtreme(_ node: Node, max isMax: Bool) -> Kernel {
        let axisAttr = node.int("axis", 0), keep = node.int("keepdims", 1) != 0
        let last = node.int("select_last_index", 0) != 0
        return { io in
            let x = try io.input(0)
            let axis = try Shapes.axis(axisAttr, rank: x.shape.count)
            let (outer, dim, inner) = split(x.shape, axis)
            guard dim > 0 else { throw KernelError("cannot take an arg extreme over an empty axis") }
            var shape = x.shape
            if keep { shape[axis] = 1 } else { shape.remove(at: axis) }
            let y = try io.output(0, .int64, shape)
            let out = y.raw.assumingMemoryBound(to: Int64.self)
            for o in 0..<outer {
                for i in 0..<inner {
                    var best = x.double(at: o * dim * inner + i), at = 0
                    for k in 1..<max(dim, 1) {
                        let v = x.double(at: (o * dim + k) * inner + i)
                        let better = isMax ? (last ? v >= best : v > best) : (last ? v <= best : v < best)
                        if better { best = v; at = k }
                    }
                    out[o * inner + i] = Int64(at)
                }
            }
        }
    }

    static func cumulative(_ node: Node, product: Bool) -> Kernel {
        let exclusive = node.int("exclusive", 0) != 0, reverse = node.int("reverse", 0) != 0
        return { io in
            let x = try io.input(0), a = try io.input(1)
            guard a.count == 1 else { throw KernelError("axis must be a scalar") }
            let axis = try Shapes.axis(Int(a.int64Values()[0]), rank: x.shape.count)
            let (outer, dim, inner) = split(x.shape, axis)
            let y = try io.output(0, x.elementType, x.shape)
            for o in 0..<outer {
                for i in 0..<inner {
                    var acc: Double = product ? 1 : 0
                    for s in 0..<dim {
                        let k = reverse ? dim - 1 - s : s, at = (o * dim + k) * inner + i
                        let v = x.double(at: at)
                        if exclusive { y.setDouble(acc, at: at) }
                        acc = product ? acc * v : acc + v
                        if !exclusive { y.setDouble(acc, at: at) }
                    }
                }
            }
        }
    }

    /// Hardmax: 1 at the first maximum along `axis` (opset >= 13) or over the flattened
    /// dims from `axis` on (before).
    static func hardmax(_ node: Node, opset: Int) -> Kernel {
        let axisAttr = node.int("axis", opset < 13 ? 1 : -1)
        return { io in
            let x = try io.input(0)
            let axis = try Shapes.axis(axisAttr, rank: x.shape.count)
            let outer = x.shape[..<axis].reduce(1, *)
            let dim = opset < 13 ? x.shape[axis...].reduce(1, *) : x.shape[axis]
            let inner = opset < 13 ? 1 : x.shape[(axis + 1)...].reduce(1, *)
            let y = try io.output(0, x.elementType, x.shape)
            for i in 0..<y.count { y.setDouble(0, at: i) }
            for o in 0..<outer {
                for i in 0..<inner where dim > 0 {
                    var best = -Double.infinity, at = 0
                    for k in 0..<dim { let v = x.double(at: (o * dim + k) * inner + i); if v > best { best = v; at = k } }
                    y.setDouble(1, at: (o * dim + at) * inner + i)
                }
            }
        }
    }

    /// CastLike: Cast to the element type of input 1.
    /// CastLike: a Cast to the type of input 1. `likeType` is that input's declared type, which
    /// tells narrow targets apart (a float8 input is held as float32, like a float one).
    static func castLike(_ node: Node, likeType: ElementType?) throws -> Kernel {
        let saturate = node.int("saturate", 1) != 0, roundMode = node.string("round_mode", "up")
        if let likeType, likeType != .undefined {
            return try ElementwiseKernels.castKernel(to: likeType, saturate: saturate, roundMode: roundMode)
        }
        return { io in
            let x = try io.input(0), like = try io.input(1)
            let y = try io.output(0, like.elementType, x.shape)
            if x.elementType == like.elementType { y.raw.copyMemory(from: x.raw, byteCount: x.byteCount); return }
            for i in 0..<x.count { y.setDouble(x.double(at: i), at: i) }
        }
    }
}
