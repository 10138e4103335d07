/// The Reduce* ops for every numeric type and bool, computed in Double (float32 inputs of the
/// common ops take PoolKernels' float loop instead), including ReduceLogSum and
/// ReduceLogSumExp, empty reduced sets (the op's identity) and noop_with_empty_axes.
import Foundation
import GraphIR

enum ReduceKernels {
    /// What a reduction over `given` (every axis when empty) keeps: the reduced axes, the
    /// output shape and the input shape with reduced axes as 1. Nil when `noopEmpty` and no
    /// axes are given: the input was copied to output 0, as the op asks.
    static func shapes(_ io: inout KernelIO, _ x: RuntimeTensor, given: [Int], keep: Bool,
                       noopEmpty: Bool) throws -> (axes: Set<Int>, outShape: [Int], keptShape: [Int])? {
        let rank = x.shape.count
        var axes = given
        if axes.isEmpty {
            if noopEmpty {
                let y = try io.output(0, x.elementType, x.shape)
                y.raw.copyMemory(from: x.raw, byteCount: x.byteCount)
                return nil
            }
            axes = Array(0..<rank)
        }
        let set = Set(try axes.map { try Shapes.axis($0, rank: rank) })
        var outShape: [Int] = [], keptShape: [Int] = []
        for d in 0..<rank {
            if set.contains(d) { keptShape.append(1); if keep { outShape.append(1) } }
            else { keptShape.append(x.shape[d]); outShape.append(x.shape[d]) }
        }
        return (set, outShape, keptShape)
    }

    /// Reduces `x` for `node` into output 0; `axes` as given (attribute or input).
    static func generic(_ io: inout KernelIO, _ x: RuntimeTensor, op: String, axes given: [Int],
                        keep: Bool, noopEmpty: Bool) throws {
        let rank = x.shape.count
        guard let (_, outShape, keptShape) = try shapes(&io, x, given: given, keep: keep, noopEmpty: noopEmpty) else { return }
        let outCount = outShape.reduce(1, *)
        let initial: Double
        switch op {
        case "ReduceMax": initial = -.infinity
        case "ReduceMin": initial = .infinity
        case "ReduceProd": initial = 1
        case "ReduceLogSumExp": initial = -.infinity
        default: initial = 0
        }
        var acc = [Double](repeating: initial, count: outCount)
        // Log-sum-exp needs each set's maximum first, for a stable sum.
        var shift = [Double](repeating: 0, count: outCount)
        let ost = Shapes.broadcastStrides(keptShape, to: x.shape), st = Shapes.strides(x.shape)
        func target(_ i: Int) -> Int {
            var rem = i, o = 0
            for d in 0..<rank { let c = rem / st[d]; rem -= c * st[d]; o += c * ost[d] }
            return o
        }
        if op == "ReduceLogSumExp" {
            for i in 0..<x.count { let o = target(i); shift[o] = max(acc[o], x.double(at: i)); acc[o] = shift[o] }
            for o in 0..<outCount { if !shift[o].isFinite { shift[o] = 0 }; acc[o] = 0 }
        }
        for i in 0..<x.count {
            let v = x.double(at: i), o = target(i)
            switch op {
            case "ReduceMax": acc[o] = v.isNaN || acc[o].isNaN ? .nan : max(acc[o], v)
            case "ReduceMin": acc[o] = v.isNaN || acc[o].isNaN ? .nan : min(acc[o], v)
            case "ReduceProd": acc[o] *= v
            case "ReduceSumSquare", "ReduceL2": acc[o] += v * v
            case "ReduceL1": acc[o] += abs(v)
            case "ReduceLogSumExp": acc[o] += exp(v - shift[o])
            default: acc[o] += v
            }
        }
        let n = Double(x.count / max(outCount, 1))
        let y = try io.output(0, x.elementType, outShape)
        for o in 0..<outCount {
            var v = acc[o]
            switch op {
            case "ReduceMean": v /= n
            case "ReduceL2": v = v.squareRoot()
            case "ReduceLogSum": v = log(v)
            case "ReduceLogSumExp": v = log(v) + shift[o]
            default: break
            }
            y.setDouble(v, at: o)
        }
    }
}

/// A float reduction's shapes as its kernel keeps them between calls (`ShapeMemo`).
struct ReduceGeometry {
    /// The output shape, and the input's with reduced axes as 1.
    var outShape: [Int], keptShape: [Int]
    /// True when the reduced axes are the trailing ones (one contiguous row per output).
    var trailing: Bool
    /// The output element each input axis steps (0 on reduced axes).
    var outputStrides: [Int]

    /// Nil when `noopEmpty` and no axes are given (the op copies its input).
    init?(_ shape: [Int], given: [Int], keep: Bool, noopEmpty: Bool) throws {
        let rank = shape.count
        var axes = given
        if axes.isEmpty {
            if noopEmpty { return nil }
            axes = Array(0..<rank)
        }
        let set = Set(try axes.map { try Shapes.axis($0, rank: rank) })
        var outShape: [Int] = [], keptShape: [Int] = []
        for d in 0..<rank {
            if set.contains(d) { keptShape.append(1); if keep { outShape.append(1) } }
            else { keptShape.append(shape[d]); outShape.append(shape[d]) }
        }
        self.outShape = outShape
        self.keptShape = keptShape
        if let first = set.min() { trailing = set.count == rank - first } else { trailing = false }
        outputStrides = Shapes.broadcastStrides(keptShape, to: shape)
    }
}
