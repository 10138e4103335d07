/// Small generator and linear-algebra kernels, in Double: the Hann/Hamming/Blackman windows,
/// Det (LU with partial pivoting per matrix), CenterCropPad and ReverseSequence.
import Foundation
import GraphIR

enum SignalKernels {
    static func window(_ node: Node) -> Kernel {
        let periodic = node.int("periodic", 1) != 0, op = node.opType
        let type = ElementType(rawValue: Int32(clamping: node.int("output_datatype", 1))) ?? .float
        return { io in
            let s = try io.input(0)
            guard s.count == 1 else { throw KernelError("size must be a scalar") }
            let n = s.saturatingInt(at: 0)
            guard n >= 0 else { throw KernelError("size \(n) is negative") }
            let y = try io.output(0, RuntimeElement.stored(type), [n])
            let denom = Double(periodic ? n : n - 1)
            for i in 0..<n {
                let t = denom > 0 ? 2 * Double.pi * Double(i) / denom : 0
                let v: Double
                switch op {
                case "HannWindow": v = 0.5 - 0.5 * cos(t)
                case "HammingWindow": v = 25.0 / 46 - (21.0 / 46) * cos(t)
                default: v = 0.42 - 0.5 * cos(t) + 0.08 * cos(2 * t)
                }
                y.setDouble(v, at: i)
            }
        }
    }

    static let det: Kernel = { io in
        let x = try io.input(0)
        let r = x.shape.count
        guard r >= 2, x.shape[r - 1] == x.shape[r - 2] else { throw KernelError("Det needs square matrices, got \(x.shape)") }
        let m = x.shape[r - 1], mats = x.count / max(m * m, 1)
        let y = try io.output(0, x.elementType, Array(x.shape.dropLast(2)))
        for b in 0..<mats {
            var a = (0..<(m * m)).map { x.double(at: b * m * m + $0) }
            var det = 1.0
            for c in 0..<m {
                var p = c
                for i in c..<m where abs(a[i * m + c]) > abs(a[p * m + c]) { p = i }
                if a[p * m + c] == 0 { det = 0; break }
                if p != c { for j in 0..<m { a.swapAt(p * m + j, c * m + j) }; det = -det }
                det *= a[c * m + c]
                for i in (c + 1)..<max(m, c + 1) {
                    let f = a[i * m + c] / a[c * m + c]
                    for j in c..<m { a[i * m + j] -= f * a[c * m + j] }
                }
            }
            y.setDouble(det, at: b)
        }
    }

    static func centerCropPad(_ node: Node) -> Kernel {
        let axesAttr = node.ints("axes")
        return { io in
            let x = try io.input(0), s = try io.input(1).int64Values().map { Int($0) }
            let rank = x.shape.count
            let axes = try (axesAttr ?? Array(0..<rank)).map { try Shapes.axis($0, rank: rank) }
            guard axes.count == s.count else { throw KernelError("shape \(s) does not match axes \(axes)") }
            try KernelIO.requireBounded(s, "CenterCropPad shape", lower: 0)
            var outShape = x.shape, offset = [Int](repeating: 0, count: rank)  // input index = output index + offset
            for (k, a) in axes.enumerated() {
                outShape[a] = s[k]
                offset[a] = s[k] <= x.shape[a] ? (x.shape[a] - s[k]) / 2 : -((s[k] - x.shape[a]) / 2)
            }
            let y = try io.output(0, x.elementType, outShape)
            let os = Shapes.strides(outShape), xs = Shapes.strides(x.shape), size = x.elementSize
            for o in 0..<y.count {
                var rem = o, idx = 0, inside = true
                for d in 0..<rank {
                    let c = rem / os[d]; rem -= c * os[d]
                    let i = c + offset[d]
                    if i < 0 || i >= x.shape[d] { inside = false; break }
                    idx += i * xs[d]
                }
                if inside { (y.raw + o * size).copyMemory(from: x.raw + idx * size, byteCount: size) }
                else { (y.raw + o * size).initializeMemory(as: UInt8.self, repeating: 0, count: size) }
            }
        }
    }

    static func reverseSequence(_ node: Node) -> Kernel {
        let batchAxis = node.int("batch_axis", 1), timeAxis = node.int("time_axis", 0)
        return { io in
            let x = try io.input(0), lens = try io.input(1).int64Values()
            guard x.shape.count >= 2, Set([batchAxis, timeAxis]) == Set([0, 1]) else { throw KernelError("batch/time axes must be 0 and 1") }
            guard lens.count == x.shape[batchAxis], lens.allSatisfy({ $0 >= 0 && $0 <= Int64(x.shape[timeAxis]) }) else {
                throw KernelError("sequence_lens \(lens) must hold \(x.shape[batchAxis]) lengths in 0...\(x.shape[timeAxis])")
            }
            let y = try io.output(0, x.elementType, x.shape)
            let st = Shapes.strides(x.shape), size = x.elementSize
            for o in 0..<x.count {
                var rem = o, coords = [Int](repeating: 0, count: x.shape.count)
                for d in 0..<x.shape.count { coords[d] = rem / st[d]; rem -= coords[d] * st[d] }
                let b = coords[batchAxis], t = coords[timeAxis]
                guard b < lens.count else { throw KernelError("sequence_lens has \(lens.count) entries") }
                let l = Int(lens[b])
                if t < l { coords[timeAxis] = l - 1 - t }
                var src = 0
                for d in 0..<x.shape.count { src += coords[d] * st[d] }
                (y.raw + o * size).copyMemory(from: x.raw + src * size, byteCount: size)
            }
        }
    }
}

extension NormKernels {
    /// InstanceNormalization (per n, c over the spatial axes) and GroupNormalization (per n,
    /// group; scale/bias per channel, or per group as in opset 18).
    static func groupNorm(_ node: Node, instance: Bool) -> Kernel {
        let eps = Double(node.float("epsilon", 1e-5)), groupsAttr = node.int("num_groups", 1)
        return { io in
            let x = try io.input(0), scale = try io.input(1), bias = try io.input(2)
            guard x.shape.count >= 2 else { throw KernelError("input must be at least 2-D") }
            let n = x.shape[0], c = x.shape[1], inner = x.count / max(n * c, 1)
            let groups = instance ? c : groupsAttr
            guard groups > 0, c % groups == 0 else { throw KernelError("\(c) channels do not split into \(groups) groups") }
            let per = c / groups, y = try io.output(0, x.elementType, x.shape)
            for b in 0..<n {
                for g in 0..<groups {
                    let base = (b * c + g * per) * inner, len = per * inner
                    var mean = 0.0
                    for i in 0..<len { mean += x.double(at: base + i) }
                    mean /= Double(max(len, 1))
                    var v = 0.0
                    for i in 0..<len { let d = x.double(at: base + i) - mean; v += d * d }
                    let inv = 1 / (v / Double(max(len, 1)) + eps).squareRoot()
                    for i in 0..<len {
                        let ch = g * per + i / inner, p = scale.count == c ? ch : g
                        y.setDouble((x.double(at: base + i) - mean) * inv * scale.double(at: p) + bias.double(at: p), at: base + i)
                    }
                }
            }
        }
    }
}

extension SignalKernels {
    /// BitCast between element types of the same size (the bytes are copied unchanged).
    static func bitCast(_ node: Node) throws -> Kernel {
        guard let to = ElementType(rawValue: Int32(clamping: node.int("to", 0))), let size = RuntimeElement.size(to),
              to != .float16, to != .bfloat16 else {
            throw KernelError("BitCast to type \(node.int("to", 0)) is not supported")
        }
        return { io in
            let x = try io.input(0)
            guard x.elementSize == size, x.elementType != .float16, x.elementType != .bfloat16 else {
                throw KernelError("BitCast from \(x.elementType.name) to \(to.name) (a size change) is not supported")
            }
            let y = try io.output(0, to, x.shape)
            y.raw.copyMemory(from: x.raw, byteCount: x.byteCount)
        }
    }

    /// DFT along one signal axis of a real ([..., 1]) or complex ([..., 2]) input: optional
    /// dft_length (zero-padded or truncated), inverse (scaled by 1/n), onesided output.
    static func dft(_ node: Node, opset: Int) -> Kernel {
        let inverse = node.int("inverse", 0) != 0, onesided = node.int("onesided", 0) != 0
        let axisAttr = node.int("axis", 1)
        return { io in
            let x = try io.input(0)
            let rank = x.shape.count
            guard rank >= 2, let last = x.shape.last, last == 1 || last == 2 else { throw KernelError("DFT input must end in 1 or 2, got \(x.shape)") }
            var axis = axisAttr
            if opset >= 20 { axis = io.optionalInput(2).flatMap { $0.count > 0 ? $0.saturatingInt(at: 0) : nil } ?? -2 }
            axis = axis < 0 ? axis + rank : axis
            guard axis >= 0, axis < rank - 1 else { throw KernelError("DFT axis \(axis) is out of range for \(x.shape)") }
            let len = x.shape[axis]
            let n = io.optionalInput(1).flatMap { $0.count > 0 ? $0.saturatingInt(at: 0) : nil }
                ?? (inverse && onesided ? 2 * (len - 1) : len)
            guard n > 0 else { throw KernelError("dft_length \(n) must be positive") }
            // Inverse of a one-sided spectrum: the full spectrum by Hermitian symmetry, real output.
            let hermitian = inverse && onesided
            let outLen = onesided && !inverse ? n / 2 + 1 : n, outLast = hermitian ? 1 : 2
            var shape = x.shape; shape[axis] = outLen; shape[rank - 1] = outLast
            let y = try io.output(0, x.elementType, shape)
            let outer = x.shape[..<axis].reduce(1, *), inner = x.shape[(axis + 1)..<(rank - 1)].reduce(1, *)
            let sign = inverse ? 1.0 : -1.0
            for o in 0..<outer {
                for i in 0..<inner {
                    for k in 0..<outLen {
                        var re = 0.0, im = 0.0
                        for t in 0..<(hermitian ? n : min(n, len)) {
                            let src = hermitian && t >= len ? n - t : t
                            guard src < len else { continue }
                            let base = ((o * len + src) * inner + i) * last
                            let xr = x.double(at: base)
                            var xi = last == 2 ? x.double(at: base + 1) : 0
                            if hermitian && t >= len { xi = -xi }
                            let a = sign * 2 * Double.pi * Double(k * t % n) / Double(n)
                            re += xr * cos(a) - xi * sin(a)
                            im += xr * sin(a) + xi * cos(a)
                        }
                        if inverse { re /= Double(n); im /= Double(n) }
                        let ob = ((o * outLen + k) * inner + i) * outLast
                        y.setDouble(re, at: ob)
                        if outLast == 2 { y.setDouble(im, at: ob + 1) }
                    }
                }
            }
        }
    }
}
