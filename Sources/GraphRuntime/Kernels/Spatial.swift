/// Spatial rearrangement ops the node tests exercise: Col2Im (columns back to an N-D image,
/// overlaps summed), AffineGrid (sampling grids from affine matrices, for GridSample),
/// MaxUnpool (values back to the positions MaxPool's indices name), TensorScatter (a KV-cache
/// write along one axis, linear or circular) and MeanVarianceNormalization.
import Foundation
import GraphIR

enum SpatialKernels {
    /// Col2Im(input (N, C*prod(block), L), image_shape, block_shape) -> (N, C, *image_shape).
    static func col2im(_ node: Node) -> Kernel {
        let dilAttr = node.ints("dilations"), padAttr = node.ints("pads"), strideAttr = node.ints("strides")
        return { io in
            let x = try io.input(0)
            let image = try io.input(1).int64Values().map(Int.init), block = try io.input(2).int64Values().map(Int.init)
            let n = image.count
            guard n >= 1, block.count == n, x.shape.count == 3 else {
                throw KernelError("Col2Im needs a rank-3 input and image_shape, block_shape of one length; got \(x.shape), \(image), \(block)")
            }
            let dil = dilAttr ?? Array(repeating: 1, count: n), stride = strideAttr ?? Array(repeating: 1, count: n)
            let pads = padAttr ?? Array(repeating: 0, count: 2 * n)
            guard dil.count == n, stride.count == n, pads.count == 2 * n else { throw KernelError("dilations, strides or pads do not match \(n) spatial dims") }
            // Bounded, so the geometry below is plain arithmetic that cannot overflow.
            try KernelIO.requireBounded(block + dil + stride, "Col2Im block_shape, dilations and strides")
            try KernelIO.requireBounded(image + pads, "Col2Im image_shape and pads", lower: 0)
            guard KernelIO.checkedCount(block) != nil, KernelIO.checkedCount(image) != nil else {
                throw KernelError("Col2Im image_shape \(image) or block_shape \(block) has no addressable size")
            }
            let kSize = block.reduce(1, *)
            guard kSize > 0, x.shape[1] % kSize == 0 else { throw KernelError("input dim 1 (\(x.shape[1])) is not a multiple of the block size \(kSize)") }
            let c = x.shape[1] / kSize, batch = x.shape[0]
            var blocks: [Int] = []
            for d in 0..<n {
                let span: Int = dil[d] * (block[d] - 1) + 1
                let room: Int = image[d] + pads[d] + pads[d + n] - span
                blocks.append(room / stride[d] + 1)
            }
            guard blocks.allSatisfy({ $0 > 0 }), let nBlocks = KernelIO.checkedCount(blocks), nBlocks == x.shape[2] else { throw KernelError("input has \(x.shape[2]) blocks, the shapes give \(blocks)") }
            let y = try io.output(0, x.elementType, [batch, c] + image)
            let pixels = image.reduce(1, *)
            var acc = [Double](repeating: 0, count: batch * c * pixels)
            let kStrides = Shapes.strides(block), bStrides = Shapes.strides(blocks), iStrides = Shapes.strides(image)
            for b in 0..<batch {
                for ch in 0..<c {
                    for k in 0..<kSize {
                        for l in 0..<nBlocks {
                            var at = 0, inside = true
                            for d in 0..<n {
                                let kd = (k / kStrides[d]) % block[d], ld = (l / bStrides[d]) % blocks[d]
                                let p = ld * stride[d] - pads[d] + kd * dil[d]
                                if p < 0 || p >= image[d] { inside = false; break }
                                at += p * iStrides[d]
                            }
                            if inside {
                                acc[(b * c + ch) * pixels + at] += x.double(at: ((b * c + ch) * kSize + k) * nBlocks + l)
                            }
                        }
                    }
                }
            }
            for i in acc.indices { y.setDouble(acc[i], at: i) }
        }
    }

    /// AffineGrid(theta (N, 2, 3) or (N, 3, 4), size [N, C, (D,) H, W]) -> (N, (D,) H, W, 2|3).
    static func affineGrid(_ node: Node) -> Kernel {
        let align = node.int("align_corners", 0) != 0
        return { io in
            let theta = try io.input(0)
            let size = try io.input(1).int64Values().map(Int.init)
            guard size.count == 4 || size.count == 5 else { throw KernelError("size must have 4 or 5 values, got \(size)") }
            let spatial = Array(size.dropFirst(2)), nd = spatial.count, batch = size[0]
            guard theta.shape == [batch, nd, nd + 1] else { throw KernelError("theta \(theta.shape) does not fit size \(size)") }
            // Normalised coordinate of position i along a dim of n points.
            func coord(_ i: Int, _ n: Int) -> Double {
                if align { return n == 1 ? -1 : -1 + 2 * Double(i) / Double(n - 1) }
                return (2 * Double(i) + 1) / Double(n) - 1
            }
            let y = try io.output(0, theta.elementType, [batch] + spatial + [nd])
            let count = spatial.reduce(1, *), st = Shapes.strides(spatial)
            var homo = [Double](repeating: 1, count: nd + 1)
            for b in 0..<batch {
                for p in 0..<count {
                    // Homogeneous point (x, y[, z], 1): x runs along the last dim.
                    for d in 0..<nd { homo[nd - 1 - d] = coord((p / st[d]) % spatial[d], spatial[d]) }
                    for r in 0..<nd {
                        var v = 0.0
                        for k in 0...nd { v += theta.double(at: (b * nd + r) * (nd + 1) + k) * homo[k] }
                        y.setDouble(v, at: (b * count + p) * nd + r)
                    }
                }
            }
        }
    }

    /// MaxUnpool(X, I, output_shape?): each X value goes to the flat position I names within
    /// the unpooled shape, the rest zero; a larger output_shape pads at the end of each dim.
    static func maxUnpool(_ node: Node) -> Kernel {
        let kernel = node.ints("kernel_shape") ?? [], padAttr = node.ints("pads"), strideAttr = node.ints("strides")
        return { io in
            let x = try io.input(0), idx = try io.input(1)
            let n = kernel.count
            guard n >= 1, x.shape.count == n + 2, idx.shape == x.shape else {
                throw KernelError("MaxUnpool needs kernel_shape for \(x.shape.count - 2) dims and indices shaped like X")
            }
            let pads = padAttr ?? Array(repeating: 0, count: 2 * n), stride = strideAttr ?? Array(repeating: 1, count: n)
            guard pads.count == 2 * n, stride.count == n else {
                throw KernelError("MaxUnpool strides \(stride) and pads \(pads) do not fit rank \(n)")
            }
            try KernelIO.requireBounded(kernel + stride, "MaxUnpool kernel_shape and strides")
            try KernelIO.requireBounded(pads, "MaxUnpool pads", lower: 0)
            var inferred = Array(x.shape.prefix(2))
            for d in 0..<n { inferred.append((x.shape[d + 2] - 1) * stride[d] - pads[d] - pads[n + d] + kernel[d]) }
            let shape = io.optionalInput(2).map { $0.int64Values().map(Int.init) } ?? inferred
            guard shape.count == inferred.count, zip(shape, inferred).allSatisfy({ $0 >= $1 }) else {
                throw KernelError("output_shape \(shape) is smaller than the unpooled shape \(inferred)")
            }
            _ = try KernelIO.checkedBytes(inferred, 8, what: "the unpooled shape")
            var flat = [Double](repeating: 0, count: inferred.reduce(1, *))
            let ix = idx.int64Values()
            for i in 0..<x.count {
                let at = Int(ix[i])
                guard at >= 0, at < flat.count else { throw KernelError("index \(at) is outside the output") }
                flat[at] = x.double(at: i)
            }
            let y = try io.output(0, x.elementType, shape)
            let yStrides = Shapes.strides(shape), fStrides = Shapes.strides(inferred)
            for i in 0..<y.count { y.setDouble(0, at: i) }
            for i in flat.indices {
                var at = 0
                for d in 0..<inferred.count { at += ((i / fStrides[d]) % inferred[d]) * yStrides[d] }
                y.setDouble(flat[i], at: at)
            }
        }
    }

    /// TensorScatter(past_cache, update, write_indices?) -> present_cache: the update's slices
    /// along `axis` written at each batch entry's index (modulo the axis size when circular).
    static func tensorScatter(_ node: Node) -> Kernel {
        let axisAttr = node.int("axis", -2), mode = node.string("mode", "linear")
        return { io in
            let cache = try io.input(0), update = try io.input(1)
            guard mode == "linear" || mode == "circular" else { throw KernelError("mode '\(mode)' is not linear or circular") }
            let rank = cache.shape.count
            let axis = try Shapes.axis(axisAttr, rank: rank)
            guard axis >= 1, update.shape.count == rank,
                  (0..<rank).allSatisfy({ $0 == axis ? update.shape[$0] <= cache.shape[$0] : update.shape[$0] == cache.shape[$0] }) else {
                throw KernelError("update \(update.shape) does not fit cache \(cache.shape) along axis \(axis)")
            }
            let starts = io.optionalInput(2)?.int64Values().map(Int.init) ?? Array(repeating: 0, count: cache.shape[0])
            let y = try io.output(0, cache.elementType, cache.shape)
            y.raw.copyMemory(from: cache.raw, byteCount: cache.byteCount)
            let size = cache.elementSize
            let outer = cache.shape[..<axis].reduce(1, *), inner = cache.shape[(axis + 1)...].reduce(1, *)
            let perBatch = outer / max(cache.shape[0], 1)
            let maxLen = cache.shape[axis], len = update.shape[axis]
            for o in 0..<outer {
                let start = starts[o / max(perBatch, 1)]
                for s in 0..<len {
                    var pos = start &+ s
                    if mode == "circular" {
                        guard maxLen > 0 else { throw KernelError("a circular write into an empty cache axis") }
                        pos = ((pos % maxLen) + maxLen) % maxLen
                    }
                    guard pos >= 0, pos < maxLen else { throw KernelError("write position \(pos) is outside the cache axis of \(maxLen)") }
                    (y.raw + ((o * maxLen + pos) * inner) * size)
                        .copyMemory(from: update.raw + ((o * len + s) * inner) * size, byteCount: inner * size)
                }
            }
        }
    }

    /// MeanVarianceNormalization: (X - E[X]) / (sqrt(E[X²] - E[X]²) + 1e-9) over `axes`.
    static func mvn(_ node: Node) -> Kernel {
        let axesAttr = node.ints("axes") ?? [0, 2, 3]
        return { io in
            let x = try io.input(0)
            let rank = x.shape.count
            let axes = Set(try axesAttr.map { try Shapes.axis($0, rank: rank) })
            let st = Shapes.strides(x.shape)
            // Group key: the index with the reduced axes zeroed.
            var sums: [Int: (Double, Double, Int)] = [:]
            func key(_ i: Int) -> Int {
                var k = 0
                for d in 0..<rank where !axes.contains(d) { k += ((i / st[d]) % x.shape[d]) * st[d] }
                return k
            }
            for i in 0..<x.count {
                let v = x.double(at: i), k = key(i)
                let s = sums[k] ?? (0, 0, 0)
                sums[k] = (s.0 + v, s.1 + v * v, s.2 + 1)
            }
            let y = try io.output(0, x.elementType, x.shape)
            for i in 0..<x.count {
                guard let s = sums[key(i)] else { continue }
                let mean = s.0 / Double(s.2), variance = max(s.1 / Double(s.2) - mean * mean, 0)
                y.setDouble((x.double(at: i) - mean) / (variance.squareRoot() + 1e-9), at: i)
            }
        }
    }
}
