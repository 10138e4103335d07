/// Quantized ops (integer types; float8/int4 storage is not supported): QuantizeLinear and
/// DequantizeLinear (per-tensor, per-axis and blocked scales), DynamicQuantizeLinear,
/// QLinearMatMul and MatMulInteger, computed in Double with round-half-to-even and
/// saturation to the target type.
import Foundation
import GraphIR

enum QuantKernels {
    /// Flat index into a per-tensor, per-axis or blocked parameter for element `i` of `shape`.
    static func paramIndex(_ p: RuntimeTensor, _ shape: [Int], _ st: [Int], axis: Int, block: Int, _ i: Int) -> Int {
        if p.count == 1 { return 0 }
        var rem = i, coords = [Int](repeating: 0, count: shape.count)
        for d in 0..<shape.count { coords[d] = rem / st[d]; rem -= coords[d] * st[d] }
        if p.shape.count <= 1 && block == 0 { return coords[axis] }
        coords[axis] /= max(block, 1)
        let ps = Shapes.strides(p.shape)
        var idx = 0
        for d in 0..<min(shape.count, ps.count) { idx += coords[d] * ps[d] }
        return idx
    }

    static func limits(_ t: ElementType) -> (Double, Double)? {
        switch t {
        case .uint8: return (0, 255)
        case .int8: return (-128, 127)
        case .uint16: return (0, 65535)
        case .int16: return (-32768, 32767)
        case .int32: return (-2147483648, 2147483647)
        default: return nil
        }
    }

    /// QuantizeLinear. The result type is the zero point's (`zeroPointType`, its declared type,
    /// tells float8/int4 apart from the types they are held as), else `output_dtype`, else uint8.
    static func quantize(_ node: Node, zeroPointType: ElementType?) -> Kernel {
        let axisAttr = node.int("axis", 1), block = node.int("block_size", 0)
        let saturate = node.int("saturate", 1) != 0
        let dtype = node.attribute("output_dtype")?.intValue.flatMap { ElementType(rawValue: Int32(clamping: $0)) }
        return { io in
            let x = try io.input(0), scale = try io.input(1), zp = io.optionalInput(2)
            let declared = zeroPointType.flatMap { $0 == .undefined ? nil : $0 }
            let type = declared ?? zp?.elementType ?? (dtype.flatMap { $0 == .undefined ? nil : $0 } ?? .uint8)
            let narrow = NarrowTypes.isNarrow(type)
            let bounds = limits(type)
            guard narrow || bounds != nil else { throw KernelError("QuantizeLinear to \(type.name) is not supported") }
            let floatTarget = NarrowTypes.floatTable(type) != nil
            let axis = x.shape.isEmpty || scale.count == 1 ? 0 : try Shapes.axis(axisAttr, rank: x.shape.count)
            let y = try io.output(0, RuntimeElement.stored(type), x.shape)
            let st = Shapes.strides(x.shape)
            for i in 0..<x.count {
                let p = paramIndex(scale, x.shape, st, axis: axis, block: block, i)
                // The division happens in the scale's precision (float32 for a float scale).
                let q = scale.elementType == .double ? x.double(at: i) / scale.double(at: p)
                                                     : Double(Float(x.double(at: i)) / Float(scale.double(at: p)))
                let z = zp?.double(at: p) ?? 0
                if let (lo, hi) = bounds {
                    y.setDouble(min(max(q.rounded(.toNearestOrEven) + z, lo), hi), at: i)
                } else if floatTarget {
                    // Float targets: the sum is rounded once, into the type's grid.
                    y.setDouble(NarrowTypes.quantize(q + z, to: type, saturate: saturate) ?? .nan, at: i)
                } else {
                    y.setDouble(NarrowTypes.quantize(q.rounded(.toNearestOrEven) + z, to: type, saturate: saturate) ?? 0, at: i)
                }
            }
        }
    }

    /// DequantizeLinear; `inputType` is x's declared type (float8/int4 inputs are held widened).
    static func dequantize(_ node: Node, inputType: ElementType?) -> Kernel {
        let axisAttr = node.int("axis", 1), block = node.int("block_size", 0)
        let narrowInput = inputType.map(NarrowTypes.isNarrow) ?? false
        return { io in
            let x = try io.input(0), scale = try io.input(1), zp = io.optionalInput(2)
            guard narrowInput || limits(x.elementType) != nil else {
                throw KernelError("DequantizeLinear of \(x.elementType.name) is not supported")
            }
            let axis = x.shape.isEmpty || scale.count == 1 ? 0 : try Shapes.axis(axisAttr, rank: x.shape.count)
            let y = try io.output(0, scale.elementType, x.shape)
            let st = Shapes.strides(x.shape)
            for i in 0..<x.count {
                let p = paramIndex(scale, x.shape, st, axis: axis, block: block, i)
                y.setDouble((x.double(at: i) - (zp?.double(at: p) ?? 0)) * scale.double(at: p), at: i)
            }
        }
    }

    static let dynamicQuantize: Kernel = { io in
        let x = try io.input(0)
        var lo = 0.0, hi = 0.0
        for i in 0..<x.count { let v = Double(Float(x.double(at: i))); lo = min(lo, v); hi = max(hi, v) }
        let scale = Double(Float((hi - lo) / 255))
        let zp = scale == 0 ? 0 : min(max(Double((Float(-lo) / Float(scale)).rounded(.toNearestOrEven)), 0), 255)
        let y = try io.output(0, .uint8, x.shape)
        for i in 0..<x.count {
            let q = scale == 0 ? zp : Double((Float(x.double(at: i)) / Float(scale)).rounded(.toNearestOrEven)) + zp
            y.setDouble(min(max(q, 0), 255), at: i)
        }
        let s = try io.output(1, .float, []), z = try io.output(2, .uint8, [])
        s.setDouble(scale, at: 0); z.setDouble(zp, at: 0)
    }

    /// Batched matrix product of Double matrices with numpy broadcasting; `a(b, i, k)` and
    /// `bv(b, k, j)` read the operands of output batch `b`.
    static func matmulShape(_ a: [Int], _ b: [Int]) throws -> (batch: [Int], m: Int, k: Int, n: Int, out: [Int]) {
        guard a.count >= 1, b.count >= 1 else { throw KernelError("MatMul operands must not be scalars") }
        let aS = a.count == 1 ? [1, a[0]] : a, bS = b.count == 1 ? [b[0], 1] : b
        let m = aS[aS.count - 2], k = aS[aS.count - 1], kb = bS[bS.count - 2], n = bS[bS.count - 1]
        guard k == kb else { throw KernelError("inner dimensions differ: \(a) x \(b)") }
        let batch = try Shapes.broadcast(Array(aS.dropLast(2)), Array(bS.dropLast(2)))
        var out = batch
        if a.count > 1 { out.append(m) }
        if b.count > 1 { out.append(n) }
        return (batch, m, k, n, out)
    }

    /// Integer matmul: (A - a_zp) x (B - b_zp) with zero points per tensor, per row of A or per
    /// column of B; writes into `y` through `store`.
    static func integerProduct(_ a: RuntimeTensor, _ b: RuntimeTensor, _ azp: RuntimeTensor?, _ bzp: RuntimeTensor?,
                               _ store: (Int, Double) -> Void) throws {
        let (batch, m, k, n, _) = try matmulShape(a.shape, b.shape)
        let aB = Array((a.shape.count == 1 ? [1, a.shape[0]] : a.shape).dropLast(2))
        let bB = Array((b.shape.count == 1 ? [b.shape[0], 1] : b.shape).dropLast(2))
        let sa = Shapes.broadcastStrides(aB, to: batch), sb = Shapes.broadcastStrides(bB, to: batch), st = Shapes.strides(batch)
        for t in 0..<batch.reduce(1, *) {
            var ia = 0, ib = 0, rem = t
            for d in 0..<batch.count { let c = rem / st[d]; rem -= c * st[d]; ia += c * sa[d]; ib += c * sb[d] }
            for i in 0..<m {
                let za = azp.map { $0.count == 1 ? $0.double(at: 0) : $0.double(at: i) } ?? 0
                for j in 0..<n {
                    let zb = bzp.map { $0.count == 1 ? $0.double(at: 0) : $0.double(at: j) } ?? 0
                    var acc = 0.0
                    for p in 0..<k { acc += (a.double(at: ia * m * k + i * k + p) - za) * (b.double(at: ib * k * n + p * n + j) - zb) }
                    store((t * m + i) * n + j, acc)
                }
            }
        }
    }

    static let matmulInteger: Kernel = { io in
        let a = try io.input(0), b = try io.input(1)
        let shape = try matmulShape(a.shape, b.shape).out
        let y = try io.output(0, .int32, shape)
        try integerProduct(a, b, io.optionalInput(2), io.optionalInput(3)) { y.setDouble($1, at: $0) }
    }

    static let qlinearMatmul: Kernel = { io in
        let a = try io.input(0), aS = try io.input(1), aZ = try io.input(2)
        let b = try io.input(3), bS = try io.input(4), bZ = try io.input(5), yS = try io.input(6), yZ = io.optionalInput(7)
        let type = yZ?.elementType ?? .uint8
        guard let (lo, hi) = limits(type) else { throw KernelError("QLinearMatMul to \(type.name) is not supported") }
        let (_, m, _, n, shape) = try matmulShape(a.shape, b.shape)
        let y = try io.output(0, type, shape)
        let ys = yS.double(at: 0), yz = yZ?.double(at: 0) ?? 0
        try integerProduct(a, b, aZ, bZ) { idx, acc in
            let i = (idx / n) % max(m, 1), j = idx % n
            let sa = aS.count == 1 ? aS.double(at: 0) : aS.double(at: i), sb = bS.count == 1 ? bS.double(at: 0) : bS.double(at: j)
            // Scales are float32 in the spec: their product is taken in float32 too.
            let real = Double(Float(sa) * Float(sb)) * acc / ys
            y.setDouble(min(max(real.rounded(.toNearestOrEven) + yz, lo), hi), at: idx)
        }
    }
}

extension QuantKernels {
    /// A float32 copy of `t` minus its zero point (per tensor, or per output channel for weights).
    static func centered(_ t: RuntimeTensor, _ zp: RuntimeTensor?) -> RuntimeTensor {
        let out = RuntimeTensor(zeros: .float, shape: t.shape)
        let per = t.count / max(t.shape.first ?? 1, 1), p = out.mutableFloats
        for i in 0..<t.count {
            let z = zp.map { $0.count == 1 ? $0.double(at: 0) : $0.double(at: min(i / max(per, 1), $0.count - 1)) } ?? 0
            p[i] = Float(t.double(at: i) - z)
        }
        return out
    }

    /// ConvInteger: the float32 Conv of the centered operands (exact for 8-bit inputs), as int32.
    static func convInteger(_ node: Node) -> Kernel {
        let conv = ConvKernels.conv(node)
        return { io in
            let x = try io.input(0), w = try io.input(1)
            var inner = KernelIO(inputs: [centered(x, io.optionalInput(2)), centered(w, io.optionalInput(3))], outputs: [],
                                 step: nil, arena: io.arena)
            try conv(&inner)
            guard let r = inner.outputs.first ?? nil else { throw KernelError("Conv produced no output") }
            let y = try io.output(0, .int32, r.shape)
            for i in 0..<r.count { y.setDouble(Double(r.floats[i]).rounded(), at: i) }
        }
    }

    /// QLinearConv: integer Conv of the centered operands plus the int32 bias, rescaled by
    /// x_scale * w_scale / y_scale (w_scale per output channel allowed), rounded and saturated.
    static func qlinearConv(_ node: Node) -> Kernel {
        let conv = ConvKernels.conv(node)
        return { io in
            let x = try io.input(0), xs = try io.input(1), xz = try io.input(2)
            let w = try io.input(3), ws = try io.input(4), wz = try io.input(5), ys = try io.input(6), yz = io.optionalInput(7)
            let type = yz?.elementType ?? .uint8
            guard let (lo, hi) = limits(type) else { throw KernelError("QLinearConv to \(type.name) is not supported") }
            var inner = KernelIO(inputs: [centered(x, xz), centered(w, wz)], outputs: [], step: nil, arena: io.arena)
            try conv(&inner)
            guard let r = inner.outputs.first ?? nil, r.shape.count >= 2 else { throw KernelError("Conv produced no output") }
            let bias = io.optionalInput(8), m = r.shape[1], plane = r.count / max(r.shape[0] * m, 1)
            let y = try io.output(0, type, r.shape)
            for i in 0..<r.count {
                let ch = (i / max(plane, 1)) % m
                let scale = Double(Float(xs.double(at: 0)) * Float(ws.count == 1 ? ws.double(at: 0) : ws.double(at: ch))) / ys.double(at: 0)
                let acc = Double(r.floats[i]).rounded() + (bias?.double(at: ch) ?? 0)
                y.setDouble(min(max((acc * scale).rounded(.toNearestOrEven) + (yz?.double(at: 0) ?? 0), lo), hi), at: i)
            }
        }
    }
}
