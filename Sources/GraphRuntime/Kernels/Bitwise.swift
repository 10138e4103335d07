/// Integer bit ops (BitShift, BitwiseAnd/Or/Xor/Not) over every integer type, IsNaN/IsInf,
/// Sign and PRelu (slope broadcast onto the input).
import CKernels
import Foundation
import GraphIR

enum BitKernels {
    /// Broadcasting bit op on the two inputs' raw integer patterns.
    static func binary(_ node: Node) -> Kernel {
        let op = node.opType, left = node.string("direction", "LEFT") == "LEFT"
        return { io in
            let a = try io.input(0), b = try io.input(1)
            guard a.elementType == b.elementType else { throw KernelError("input types differ: \(a.elementType.name) and \(b.elementType.name)") }
            let shape = try Shapes.broadcast(a.shape, b.shape)
            let y = try io.output(0, a.elementType, shape)
            func run<T: FixedWidthInteger>(_ t: T.Type) {
                ElementwiseKernels.binaryTyped(a, b, y, T.self, T.self) { x, z in
                    switch op {
                    case "BitShift":
                        let n = Int(truncatingIfNeeded: z)
                        if n < 0 || n >= T.bitWidth { return 0 }
                        return left ? x << n : x >> n
                    case "BitwiseAnd": return x & z
                    case "BitwiseOr": return x | z
                    default: return x ^ z
                    }
                }
            }
            switch a.elementType {
            case .uint8: run(UInt8.self)
            case .uint16: run(UInt16.self)
            case .uint32: run(UInt32.self)
            case .uint64: run(UInt64.self)
            case .int8: run(Int8.self)
            case .int16: run(Int16.self)
            case .int32: run(Int32.self)
            case .int64: run(Int64.self)
            case .bool where op != "BitShift": run(UInt8.self)
            default: throw KernelError("\(op) on \(a.elementType.name) is not supported")
            }
        }
    }

    static let not: Kernel = { io in
        let x = try io.input(0)
        let y = try io.output(0, x.elementType, x.shape)
        guard x.elementType != .float, x.elementType != .double else { throw KernelError("BitwiseNot of \(x.elementType.name) is not supported") }
        let n = x.byteCount, s = x.raw.assumingMemoryBound(to: UInt8.self), d = y.raw.assumingMemoryBound(to: UInt8.self)
        for i in 0..<n { d[i] = ~s[i] }
    }

    static func classify(_ node: Node) -> Kernel {
        let nan = node.opType == "IsNaN"
        let pos = node.int("detect_positive", 1) != 0, neg = node.int("detect_negative", 1) != 0
        return { io in
            let x = try io.input(0)
            let y = try io.output(0, .bool, x.shape)
            if nan && x.elementType == .float {
                gs_is_nan(x.floats, y.raw.assumingMemoryBound(to: UInt8.self), x.count)
                return
            }
            for i in 0..<x.count {
                let v = x.double(at: i)
                let r = nan ? v.isNaN : (v.isInfinite && ((v > 0 && pos) || (v < 0 && neg)))
                y.setDouble(r ? 1 : 0, at: i)
            }
        }
    }

    static let sign: Kernel = { io in
        let x = try io.input(0)
        let y = try io.output(0, x.elementType, x.shape)
        for i in 0..<x.count { let v = x.double(at: i); y.setDouble(v > 0 ? 1 : (v < 0 ? -1 : (v.isNaN ? .nan : 0)), at: i) }
    }

    static let prelu: Kernel = { io in
        let x = try io.input(0), slope = try io.input(1)
        let shape = try Shapes.broadcast(x.shape, slope.shape)
        guard shape == x.shape else { throw KernelError("slope \(slope.shape) does not broadcast onto \(x.shape)") }
        let y = try io.output(0, x.elementType, shape)
        let ss = Shapes.broadcastStrides(slope.shape, to: shape), st = Shapes.strides(shape)
        for i in 0..<y.count {
            let v = x.double(at: i)
            y.setDouble(v < 0 ? v * NormKernels.broadcastValue(slope, shape, ss, st, i) : v, at: i)
        }
    }
}
