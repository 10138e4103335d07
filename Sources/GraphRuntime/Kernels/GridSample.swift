/// GridSample over any number of spatial axes (opset 16 names bilinear/bicubic, opset 20
/// linear/cubic), nearest/linear/cubic taps, zeros/border/reflection padding, align_corners;
/// computed in Double, following the ONNX reference's coordinate rules.
import Foundation
import GraphIR

enum GridSampleKernels {
    static func reflect(_ x: Double, _ lo: Double, _ hi: Double) -> Double {
        let range = hi - lo
        guard range > 0 else { return lo }
        if x < lo {
            let dx = lo - x, n = Int(dx / range), r = dx - Double(n) * range
            return n % 2 == 0 ? lo + r : hi - r
        }
        if x > hi {
            let dx = x - hi, n = Int(dx / range), r = dx - Double(n) * range
            return n % 2 == 0 ? hi - r : lo + r
        }
        return x
    }

    static func cubic(_ t: Double) -> [Double] {
        let a = -0.75, x = abs(t)
        return [((a * (x + 1) - 5 * a) * (x + 1) + 8 * a) * (x + 1) - 4 * a,
                ((a + 2) * x - (a + 3)) * x * x + 1,
                ((a + 2) * (1 - x) - (a + 3)) * (1 - x) * (1 - x) + 1,
                ((a * (2 - x) - 5 * a) * (2 - x) + 8 * a) * (2 - x) - 4 * a]
    }

    static func gridSample(_ node: Node) -> Kernel {
        var mode = node.string("mode", "linear")
        if mode == "bilinear" { mode = "linear" }
        if mode == "bicubic" { mode = "cubic" }
        let padding = node.string("padding_mode", "zeros"), align = node.int("align_corners", 0) != 0
        return { io in
            let x = try io.input(0), grid = try io.input(1)
            let r = x.shape.count - 2
            guard r >= 1, grid.shape.count == r + 2, grid.shape[0] == x.shape[0], grid.shape[r + 1] == r else {
                throw KernelError("grid \(grid.shape) does not fit input \(x.shape)")
            }
            let dims = Array(x.shape.dropFirst(2)), outSpatial = Array(grid.shape[1...r])
            let n = x.shape[0], c = x.shape[1], inPlane = dims.reduce(1, *), outPlane = outSpatial.reduce(1, *)
            let y = try io.output(0, x.elementType, [n, c] + outSpatial)
            let st = Shapes.strides(dims)
            let lo = dims.map { _ in align ? 0.0 : -0.5 }, hi = dims.map { align ? Double($0 - 1) : Double($0) - 0.5 }
            for b in 0..<n {
                for o in 0..<outPlane {
                    // Per axis: the taps (index, weight).
                    var taps: [[(Int, Double)]] = []
                    for d in 0..<r {
                        let g = grid.double(at: (b * outPlane + o) * r + (r - 1 - d))
                        let len = Double(dims[d])
                        var v = align ? (g + 1) / 2 * (len - 1) : ((g + 1) * len - 1) / 2
                        if mode == "nearest" { v = v.rounded(.toNearestOrEven) }
                        // A NaN or huge coordinate samples outside the input (no trapping
                        // conversion below): padding decides, as for any far-away point.
                        if !(abs(v) <= 1e9) { v = v > 0 ? 1e9 : -1e9 }
                        if v < lo[d] || v > hi[d] {
                            if padding == "border" { v = min(max(v, 0), len - 1) }
                            else if padding == "reflection" { v = reflect(v, lo[d], hi[d]) }
                        }
                        switch mode {
                        case "nearest": taps.append([(Int(v), 1)])
                        case "cubic":
                            let f = v.rounded(.down), w = cubic(v - f)
                            taps.append((0..<4).map { (Int(f) - 1 + $0, w[$0]) })
                        default:
                            let f = v.rounded(.down)
                            taps.append([(Int(f), 1 - (v - f)), (Int(f) + 1, v - f)])
                        }
                    }
                    let combos = taps.reduce(1) { $0 * $1.count }
                    for ch in 0..<c {
                        var acc = 0.0
                        for k in 0..<combos {
                            var rem = k, w = 1.0, idx = 0, zero = false
                            for d in stride(from: r - 1, through: 0, by: -1) {
                                let (i0, wt) = taps[d][rem % taps[d].count]; rem /= taps[d].count
                                var i = i0
                                if i < 0 || i >= dims[d] {
                                    switch padding {
                                    case "border": i = min(max(i, 0), dims[d] - 1)
                                    case "reflection": i = Int(reflect(Double(i), lo[d], hi[d]))
                                    default: zero = true
                                    }
                                }
                                w *= wt; idx += min(max(i, 0), dims[d] - 1) * st[d]
                            }
                            if !zero { acc += w * x.double(at: (b * c + ch) * inPlane + idx) }
                        }
                        y.setDouble(acc, at: (b * c + ch) * outPlane + o)
                    }
                }
            }
        }
    }
}
