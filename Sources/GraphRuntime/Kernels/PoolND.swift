/// Window pooling over any number of spatial axes and any numeric type, in Double: MaxPool and
/// AveragePool beyond the float32 1-D/2-D fast loops (3-D, integer inputs) and LpPool. Same
/// geometry rules as `WindowGeometry` (pads, auto_pad, strides, dilations, ceil_mode).
import Foundation
import GraphIR

enum PoolNDKernels {
    enum Mode { case max, average, lp(Double) }

    static func pool(_ node: Node, mode: Mode) -> Kernel {
        let ceil = node.int("ceil_mode", 0) != 0, includePad = node.int("count_include_pad", 0) != 0
        return { io in try run(&io, node, mode: mode, ceil: ceil, includePad: includePad) }
    }

    static func run(_ io: inout KernelIO, _ node: Node, mode: Mode, ceil: Bool, includePad: Bool) throws {
        let x = try io.input(0)
        guard let kernel = node.ints("kernel_shape"), x.shape.count == kernel.count + 2 else {
            throw KernelError("input \(x.shape) does not fit kernel_shape \(node.ints("kernel_shape") ?? [])")
        }
        if node.outputs.count > 1 && !node.outputs[1].isEmpty { throw KernelError("MaxPool's Indices output is not supported yet") }
        let r = kernel.count, spatial = Array(x.shape.dropFirst(2))
        let strides = node.ints("strides") ?? Array(repeating: 1, count: r)
        let dil = node.ints("dilations") ?? Array(repeating: 1, count: r)
        var pads = node.ints("pads") ?? Array(repeating: 0, count: 2 * r)
        guard strides.count == r, dil.count == r, pads.count == 2 * r else { throw KernelError("bad strides/dilations/pads") }
        // Bounded (2^31): the sizes below are computed with plain arithmetic.
        try KernelIO.requireBounded(strides + dil + kernel, "strides, dilations and kernel")
        try KernelIO.requireBounded(pads, "pads", lower: 0)
        let autoPad = node.string("auto_pad", "NOTSET")
        var outs: [Int] = []
        for i in 0..<r {
            let eff = (kernel[i] - 1) * dil[i] + 1
            if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
                let o = (spatial[i] + strides[i] - 1) / strides[i]
                let total = max(0, (o - 1) * strides[i] + eff - spatial[i])
                pads[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
                pads[i + r] = total - pads[i]
            } else if autoPad == "VALID" { pads[i] = 0; pads[i + r] = 0 }
            let span = spatial[i] + pads[i] + pads[i + r] - eff
            guard span >= 0 else { throw KernelError("window \(kernel) does not fit input \(spatial)") }
            var o = (ceil ? (span + strides[i] - 1) / strides[i] : span / strides[i]) + 1
            if ceil && (o - 1) * strides[i] >= spatial[i] + pads[i] { o -= 1 }
            outs.append(o)
        }
        let planes = x.shape[0] * x.shape[1], inPlane = spatial.reduce(1, *), outPlane = outs.reduce(1, *)
        let y = try io.output(0, x.elementType, [x.shape[0], x.shape[1]] + outs)
        let inSt = Shapes.strides(spatial), outSt = Shapes.strides(outs)
        var start = [Int](repeating: 0, count: r)
        // Per output, each axis's taps clipped to the input (`WindowGeometry.validRange`),
        // walked as an odometer: the work is what the window covers, never the padded taps one by one.
        var lo = [Int](repeating: 0, count: r), hi = lo, k = lo
        var meter = CancellationMeter()
        for p in 0..<planes {
            for o in 0..<outPlane {
                var rem = o
                var empty = false
                for d in 0..<r {
                    let c = rem / outSt[d]; rem -= c * outSt[d]; start[d] = c * strides[d] - pads[d]
                    (lo[d], hi[d]) = WindowGeometry.validRange(offset: start[d], stride: dil[d], size: spatial[d], out: kernel[d])
                    k[d] = lo[d]
                    if lo[d] == hi[d] { empty = true }
                }
                if !empty {
                    var taps = 1
                    for d in 0..<r { taps *= hi[d] - lo[d] }
                    try meter.add(taps, io, "in a pooling window (plane \(p))")
                }
                var acc: Double
                switch mode { case .max: acc = -.infinity; default: acc = 0 }
                // The divisor with count_include_pad, in Double: three 2^31-wide axes overflow Int.
                var n = 0, padded = 1.0
                if includePad {
                    for d in 0..<r {
                        let end = min(start[d] + (kernel[d] - 1) * dil[d] + 1, spatial[d] + pads[d + r])
                        padded *= Double((end - start[d] + dil[d] - 1) / dil[d])
                    }
                }
                while !empty {
                    var idx = 0
                    for d in 0..<r { idx += (start[d] + k[d] * dil[d]) * inSt[d] }
                    let v = x.double(at: p * inPlane + idx)
                    switch mode {
                    case .max: if v > acc || v.isNaN { acc = v }
                    case .average: acc += v
                    case .lp(let e): acc += pow(abs(v), e)
                    }
                    n += 1
                    // Next tap: the last axis fastest.
                    var d = r - 1
                    while d >= 0 {
                        k[d] += 1
                        if k[d] < hi[d] { break }
                        k[d] = lo[d]
                        d -= 1
                    }
                    if d < 0 { break }
                }
                switch mode {
                case .max: break
                case .average:
                    let count = includePad ? padded : Double(n)
                    acc = count > 0 ? acc / count : 0
                case .lp(let e): acc = pow(acc, 1 / e)
                }
                y.setDouble(acc, at: p * outPlane + o)
            }
        }
    }
}
