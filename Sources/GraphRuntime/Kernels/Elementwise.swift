/// Elementwise kernels: float32 unary activations, broadcasting binary arithmetic and
/// comparisons over float32/float64/int64/int32, variadic Sum/Max/Min/Mean, Where, Not, Cast.
import CKernels
import Foundation
import GraphIR

enum ElementwiseKernels {
    /// A unary op whose float32 form is a vectorised C loop `vector`; float64 through `f`.
    static func vectorUnary(_ vector: @escaping (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int) -> Void,
                            _ f: @escaping (Float) -> Float) -> Kernel {
        let scalar = unary(f)
        return { io in
            let x = try io.input(0)
            guard x.elementType == .float else { return try scalar(&io) }
            let y = try io.output(0, .float, x.shape)
            vector(x.floats, y.mutableFloats, x.count)
        }
    }

    /// A float32 unary op applying `f` to every element.
    static func unary(_ f: @escaping (Float) -> Float) -> Kernel {
        return { io in
            let x = try io.input(0)
            if x.elementType == .double {
                // float64 through the float32 function: well within the checked tolerances.
                let y = try io.output(0, .double, x.shape)
                let src = x.raw.assumingMemoryBound(to: Double.self), dst = y.raw.assumingMemoryBound(to: Double.self)
                for i in 0..<x.count { dst[i] = Double(f(Float(src[i]))) }
                return
            }
            guard x.elementType == .float else {
                throw KernelError("input 0 is \(x.elementType.name); this kernel computes float32 and float64 only")
            }
            let y = try io.output(0, .float, x.shape)
            let n = x.count, src = x.floats, dst = y.mutableFloats
            for i in 0..<n { dst[i] = f(src[i]) }
        }
    }

    /// The unary ops by name, with their attributes read once; nil when not one of them.
    static func unaryKernel(_ node: Node) -> Kernel? {
        switch node.opType {
        case "Relu": return unaryFast(node) { max($0, 0) }
        case "Sigmoid": return vectorUnary(gs_sigmoid) { 1 / (1 + exp(-$0)) }
        case "Tanh": return vectorUnary(gs_tanh) { tanh($0) }
        case "Exp": return unary { exp($0) }
        case "Log": return unary { log($0) }
        case "Sqrt": return unary { $0.squareRoot() }
        case "Reciprocal": return unary { 1 / $0 }
        case "Floor": return unary { $0.rounded(.down) }
        case "Ceil": return unary { $0.rounded(.up) }
        case "Round": return unary { $0.rounded(.toNearestOrEven) }
        case "Erf": return vectorUnary(gs_erf) { erf($0) }
        case "Sin": return unary { sin($0) }
        case "Cos": return unary { cos($0) }
        case "Softplus": return unary { log1p(exp($0)) }
        case "Softsign": return unary { $0 / (1 + abs($0)) }
        case "Tan": return unary { tan($0) }
        case "Asin": return unary { asin($0) }
        case "Acos": return unary { acos($0) }
        case "Atan": return unary { atan($0) }
        case "Sinh": return unary { sinh($0) }
        case "Cosh": return unary { cosh($0) }
        case "Asinh": return unary { asinh($0) }
        case "Acosh": return unary { acosh($0) }
        case "Atanh": return unary { atanh($0) }
        case "Mish": return unary { $0 * tanh(log1p(exp($0))) }
        case "Swish":
            let a = node.float("alpha", 1)
            return unary { $0 / (1 + exp(-a * $0)) }
        case "Celu":
            let a = node.float("alpha", 1)
            return unary { max(0, $0) + min(0, a * (exp($0 / a) - 1)) }
        case "Shrink":
            let l = node.float("lambd", 0.5), b = node.float("bias", 0)
            return unary { $0 < -l ? $0 + b : ($0 > l ? $0 - b : 0) }
        case "HardSigmoid":
            let a = node.float("alpha", 0.2), b = node.float("beta", 0.5)
            return unaryFast(node) { min(max(a * $0 + b, 0), 1) }
        case "HardSwish": return unaryFast(node, hardSwish)
        case "LeakyRelu":
            let a = node.float("alpha", 0.01)
            return unary { $0 >= 0 ? $0 : a * $0 }
        case "Elu":
            let a = node.float("alpha", 1)
            return unary { $0 >= 0 ? $0 : a * (exp($0) - 1) }
        case "Selu":
            let a = node.float("alpha", 1.67326319217681884765625), g = node.float("gamma", 1.05070102214813232421875)
            return unary { $0 > 0 ? g * $0 : g * (a * exp($0) - a) }
        case "ThresholdedRelu":
            let a = node.float("alpha", 1)
            return unary { $0 > a ? $0 : 0 }
        case "Gelu":
            if node.string("approximate", "none") == "tanh" {
                return unary { 0.5 * $0 * (1 + tanh(0.7978845608028654 * ($0 + 0.044715 * $0 * $0 * $0))) }
            }
            return vectorUnary(gs_gelu) { 0.5 * $0 * (1 + erf($0 * 0.7071067811865476)) }
        default: return nil
        }
    }

    /// `unary` with the closure inlined into the loop (for the ops CNNs run most).
    @inline(__always)
    static func unaryFast(_ node: Node, _ f: @escaping (Float) -> Float) -> Kernel {
        unary(f)
    }

    /// Abs and Neg keep integer types.
    static func signKernel(_ op: String) -> Kernel {
        return { io in
            let x = try io.input(0)
            let y = try io.output(0, x.elementType, x.shape)
            if x.elementType == .float {
                let s = x.floats, d = y.mutableFloats, n = x.count
                if op == "Abs" { for i in 0..<n { d[i] = abs(s[i]) } } else { for i in 0..<n { d[i] = -s[i] } }
            } else {
                for i in 0..<x.count { let v = x.double(at: i); y.setDouble(op == "Abs" ? abs(v) : -v, at: i) }
            }
        }
    }

    /// Clip with min/max from attributes (opset < 11) or optional inputs.
    static func clip(_ node: Node) -> Kernel {
        let attrMin = node.attribute("min")?.floatValue, attrMax = node.attribute("max")?.floatValue
        return { io in
            let x = try io.input(0)
            var lo = attrMin ?? -Float.greatestFiniteMagnitude, hi = attrMax ?? Float.greatestFiniteMagnitude
            if let m = io.optionalInput(1), m.count > 0 { lo = Float(m.double(at: 0)) }
            if let m = io.optionalInput(2), m.count > 0 { hi = Float(m.double(at: 0)) }
            let y = try io.output(0, x.elementType, x.shape)
            if x.elementType == .float {
                let s = x.floats, d = y.mutableFloats
                for i in 0..<x.count { d[i] = min(max(s[i], lo), hi) }
            } else {
                for i in 0..<x.count { y.setDouble(min(max(x.double(at: i), Double(lo)), Double(hi)), at: i) }
            }
        }
    }

    // MARK: Binary

    /// Broadcast loop: calls `body(outIndex, aIndex, bIndex, n, aStep, bStep)` over runs of
    /// the innermost dimension, so the body is a tight loop.
    @inline(__always)
    static func broadcastRuns(_ aShape: [Int], _ bShape: [Int], _ out: [Int],
                              _ body: (Int, Int, Int, Int, Int, Int) -> Void) {
        let total = out.reduce(1, *)
        if total == 0 { return }
        // Equal shapes and a single-element operand (most binary ops) need no strides.
        if aShape == out {
            if bShape == out { body(0, 0, 0, total, 1, 1); return }
            if bShape.reduce(1, *) == 1 { body(0, 0, 0, total, 1, 0); return }
        } else if bShape == out && aShape.reduce(1, *) == 1 {
            body(0, 0, 0, total, 0, 1); return
        }
        // Strides, dims and the counter in stack memory: no array per call.
        let rank = out.count
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 4 * max(rank, 1)) { buf in
            guard let base = buf.baseAddress else { return }
            let sa = base, sb = base + rank, dims = base + 2 * rank, counter = base + 3 * rank
            Shapes.broadcastStrides(aShape, to: out, into: sa)
            Shapes.broadcastStrides(bShape, to: out, into: sb)
            // Merge adjacent dims whose strides stay consistent (and drop size-1 dims), so
            // runs are as long as possible; kept dims are packed from the end.
            var r = 0
            for i in stride(from: rank - 1, through: 0, by: -1) {
                let e = out[i]
                if e == 1 && r > 0 { continue }
                if r > 0 {
                    let k = rank - r  // the innermost kept dim so far sits at index k
                    if sa[i] == sa[k] * dims[k] && sb[i] == sb[k] * dims[k] { dims[k] *= e; continue }
                }
                r += 1
                let k = rank - r
                dims[k] = e; sa[k] = sa[i]; sb[k] = sb[i]
            }
            if r == 0 { body(0, 0, 0, 1, 0, 0); return }
            let d0 = rank - r  // kept dims are d0..<rank
            let n = dims[rank - 1], la = sa[rank - 1], lb = sb[rank - 1]
            for d in d0..<rank { counter[d] = 0 }
            var o = 0, ia = 0, ib = 0
            while o < total {
                body(o, ia, ib, n, la, lb)
                o += n
                var d = rank - 2
                while d >= d0 {
                    counter[d] += 1; ia += sa[d]; ib += sb[d]
                    if counter[d] < dims[d] { break }
                    ia -= sa[d] * dims[d]; ib -= sb[d] * dims[d]; counter[d] = 0
                    d -= 1
                }
            }
        }
    }

    /// A broadcasting binary op over one storage type.
    @inline(__always)
    static func binaryTyped<T, R>(_ a: RuntimeTensor, _ b: RuntimeTensor, _ y: RuntimeTensor,
                                  _ t: T.Type, _ r: R.Type, _ f: (T, T) -> R) {
        let pa = UnsafePointer(a.raw.assumingMemoryBound(to: T.self))
        let pb = UnsafePointer(b.raw.assumingMemoryBound(to: T.self))
        let py = y.raw.assumingMemoryBound(to: R.self)
        broadcastRuns(a.shape, b.shape, y.shape) { o, ia, ib, n, la, lb in
            let x = pa + ia, z = pb + ib, out = py + o
            if la == 1 && lb == 1 { for k in 0..<n { out[k] = f(x[k], z[k]) } }
            else if la == 1 { let s = z[0]; for k in 0..<n { out[k] = f(x[k], s) } }
            else if lb == 1 { let s = x[0]; for k in 0..<n { out[k] = f(s, z[k]) } }
            else { out[0] = f(x[0], z[0]) }
        }
    }

    /// Arithmetic ops (same-type inputs, same-type output).
    static func arithmetic(_ node: Node) -> Kernel? {
        let op = node.opType
        guard ["Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Mod", "Sum", "Mean"].contains(op) else { return nil }
        let fmodMode = node.int("fmod", 0) != 0
        let memo = ShapeMemo<[Int]>()
        let partials = (TensorCache(), TensorCache())  // a variadic op's running results, alternating
        return { io in
            let differ = op == "Pow" && io.inputs.count == 2 && io.inputs[0]?.elementType != io.inputs[1]?.elementType
            if differ || (op == "Mod" && fmodMode) {
                try mixed(&io, op)
                return
            }
            guard io.inputs.count >= 1 else { throw KernelError("\(op) needs at least one input") }
            var acc = try io.input(0)
            if io.inputs.count == 1 {
                let y = try io.output(0, acc.elementType, acc.shape)
                y.raw.copyMemory(from: acc.raw, byteCount: acc.byteCount)
                return
            }
            for k in 1..<io.inputs.count {
                let b = try io.input(k)
                guard acc.elementType == b.elementType else {
                    throw KernelError("input types differ: \(acc.elementType.name) and \(b.elementType.name)")
                }
                let shape = io.inputs.count == 2
                    ? try memo.geometry({ $0.add(acc.shape); $0.add(b.shape) }) { try Shapes.broadcast(acc.shape, b.shape) }
                    : try Shapes.broadcast(acc.shape, b.shape)
                // Variadic ops accumulate in a fresh tensor until the last step writes the output.
                let y = k == io.inputs.count - 1 ? try io.output(0, acc.elementType, shape)
                                                 : try (k % 2 == 0 ? partials.0 : partials.1).tensor(acc.elementType, shape)
                try apply(op, acc, b, y)
                acc = y
            }
            if op == "Mean" {
                let n = Double(io.inputs.count)
                for i in 0..<acc.count { acc.setDouble(acc.double(at: i) / n, at: i) }
            }
        }
    }

    /// Pow with differently typed base and exponent, and Mod with fmod=1 (C fmod: the sign of
    /// the dividend), through Double; the output has the base's type.
    static func mixed(_ io: inout KernelIO, _ op: String) throws {
        let a = try io.input(0), b = try io.input(1)
        let shape = try Shapes.broadcast(a.shape, b.shape)
        let y = try io.output(0, a.elementType, shape)
        Shapes.forEachBroadcast(a.shape, b.shape, to: shape) { i, ia, ib in
            let x = a.double(at: ia), z = b.double(at: ib)
            y.setDouble(op == "Pow" ? pow(x, z) : fmod(x, z), at: i)
        }
    }

    private static func apply(_ op: String, _ a: RuntimeTensor, _ b: RuntimeTensor, _ y: RuntimeTensor) throws {
        switch a.elementType {
        case .float:
            switch op {
            case "Add", "Sum", "Mean": binaryTyped(a, b, y, Float.self, Float.self, +)
            case "Sub": binaryTyped(a, b, y, Float.self, Float.self, -)
            case "Mul": binaryTyped(a, b, y, Float.self, Float.self, *)
            case "Div": binaryTyped(a, b, y, Float.self, Float.self, /)
            case "Pow":
                // A single exponent of 2 or 3 (RMS norms' x^2, GELU's x^3): one branch-free loop.
                if b.count == 1 && y.count == a.count && (b.floats[0] == 2 || b.floats[0] == 3) {
                    let x = a.floats, d = y.mutableFloats, n = a.count
                    if b.floats[0] == 2 { for i in 0..<n { d[i] = x[i] * x[i] } } else { for i in 0..<n { d[i] = x[i] * x[i] * x[i] } }
                    return
                }
                binaryTyped(a, b, y, Float.self, Float.self) { x, e in e == 2 ? x * x : e == 3 ? x * x * x : pow(x, e) }
            case "Max": binaryTyped(a, b, y, Float.self, Float.self) { $0.isNaN || $1.isNaN ? .nan : max($0, $1) }
            case "Min": binaryTyped(a, b, y, Float.self, Float.self) { $0.isNaN || $1.isNaN ? .nan : min($0, $1) }
            case "Mod": binaryTyped(a, b, y, Float.self, Float.self) { fmodf($0, $1) }
            default: throw KernelError("\(op) is not defined for float")
            }
        case .double:
            switch op {
            case "Add", "Sum", "Mean": binaryTyped(a, b, y, Double.self, Double.self, +)
            case "Sub": binaryTyped(a, b, y, Double.self, Double.self, -)
            case "Mul": binaryTyped(a, b, y, Double.self, Double.self, *)
            case "Div": binaryTyped(a, b, y, Double.self, Double.self, /)
            case "Pow": binaryTyped(a, b, y, Double.self, Double.self) { pow($0, $1) }
            case "Max": binaryTyped(a, b, y, Double.self, Double.self) { max($0, $1) }
            case "Min": binaryTyped(a, b, y, Double.self, Double.self) { min($0, $1) }
            case "Mod": binaryTyped(a, b, y, Double.self, Double.self) { fmod($0, $1) }
            default: throw KernelError("\(op) is not defined for double")
            }
        case .int64: try integer(op, a, b, y, Int64.self)
        case .int32: try integer(op, a, b, y, Int32.self)
        case .int16: try integer(op, a, b, y, Int16.self)
        case .int8: try integer(op, a, b, y, Int8.self)
        case .uint64: try integer(op, a, b, y, UInt64.self)
        case .uint32: try integer(op, a, b, y, UInt32.self)
        case .uint16: try integer(op, a, b, y, UInt16.self)
        case .uint8: try integer(op, a, b, y, UInt8.self)
        default:
            throw KernelError("\(op) on \(a.elementType.name) is not supported")
        }
    }

    private static func integer<T: FixedWidthInteger>(_ op: String, _ a: RuntimeTensor, _ b: RuntimeTensor,
                                                      _ y: RuntimeTensor, _ t: T.Type) throws {
        var divByZero = false
        switch op {
        case "Add", "Sum", "Mean": binaryTyped(a, b, y, T.self, T.self, &+)
        case "Sub": binaryTyped(a, b, y, T.self, T.self, &-)
        case "Mul": binaryTyped(a, b, y, T.self, T.self, &*)
        case "Div":
            binaryTyped(a, b, y, T.self, T.self) { x, d in
                if d == 0 { divByZero = true; return 0 }
                // ONNX integer Div truncates toward zero, like Swift's `/`.
                return x.dividedReportingOverflow(by: d).partialValue
            }
        case "Mod":
            binaryTyped(a, b, y, T.self, T.self) { x, d in
                if d == 0 { divByZero = true; return 0 }
                let r = x.remainderReportingOverflow(dividingBy: d).partialValue
                return (r != 0 && ((r < 0) != (d < 0))) ? r + d : r
            }
        case "Max": binaryTyped(a, b, y, T.self, T.self) { max($0, $1) }
        case "Min": binaryTyped(a, b, y, T.self, T.self) { min($0, $1) }
        case "Pow":
            // By squaring, wrapping as the repeated product would: O(log e) for any exponent
            // (a linear loop ran for hours on an exponent of 2^40); e <= 0 gives 1.
            binaryTyped(a, b, y, T.self, T.self) { x, e in
                var r: T = 1, base = x, k = e
                while k > 0 {
                    if k & 1 == 1 { r = r &* base }
                    base = base &* base
                    k >>= 1
                }
                return r
            }
        default: throw KernelError("\(op) is not defined for integers")
        }
        if divByZero { throw KernelError("integer division by zero") }
    }

    /// Comparisons and logical ops with a bool output.
    static func comparison(_ op: String) -> Kernel? {
        guard ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor"].contains(op) else { return nil }
        let memo = ShapeMemo<[Int]>()
        return { io in
            let a = try io.input(0), b = try io.input(1)
            if a.elementType == .string || b.elementType == .string {
                guard op == "Equal" else { throw KernelError("\(op) is not defined for strings") }
                return try StringKernels.equal(a, b, &io)
            }
            let shape = try memo.geometry({ $0.add(a.shape); $0.add(b.shape) }) { try Shapes.broadcast(a.shape, b.shape) }
            let y = try io.output(0, .bool, shape)
            if a.elementType == .float && b.elementType == .float {
                let f: (Float, Float) -> UInt8
                switch op {
                case "Equal": f = { $0 == $1 ? 1 : 0 }
                case "Less": f = { $0 < $1 ? 1 : 0 }
                case "Greater": f = { $0 > $1 ? 1 : 0 }
                case "LessOrEqual": f = { $0 <= $1 ? 1 : 0 }
                case "GreaterOrEqual": f = { $0 >= $1 ? 1 : 0 }
                default: throw KernelError("\(op) is not defined for float")
                }
                binaryTyped(a, b, y, Float.self, UInt8.self, f)
                return
            }
            if a.elementType == .bool && b.elementType == .bool && a.elementSize == 1 && b.elementSize == 1 {
                // Bools as bytes, any nonzero byte true (as `double(at:)` reads them).
                switch op {
                case "And": binaryTyped(a, b, y, UInt8.self, UInt8.self) { $0 != 0 && $1 != 0 ? 1 : 0 }; return
                case "Or": binaryTyped(a, b, y, UInt8.self, UInt8.self) { $0 != 0 || $1 != 0 ? 1 : 0 }; return
                case "Xor": binaryTyped(a, b, y, UInt8.self, UInt8.self) { ($0 != 0) != ($1 != 0) ? 1 : 0 }; return
                default: break
                }
            }
            // Other types compare exactly through Double (int64 beyond 2^53 aside).
            Shapes.forEachBroadcast(a.shape, b.shape, to: y.shape) { i, ia, ib in
                let x = a.double(at: ia), z = b.double(at: ib)
                let r: Bool
                switch op {
                case "Equal": r = x == z
                case "Less": r = x < z
                case "Greater": r = x > z
                case "LessOrEqual": r = x <= z
                case "GreaterOrEqual": r = x >= z
                case "And": r = x != 0 && z != 0
                case "Or": r = x != 0 || z != 0
                default: r = (x != 0) != (z != 0)
                }
                y.setDouble(r ? 1 : 0, at: i)
            }
        }
    }

    /// Not of a bool tensor.
    static let not: Kernel = { io in
        let x = try io.input(0)
        let y = try io.output(0, .bool, x.shape)
        for i in 0..<x.count { y.setDouble(x.double(at: i) != 0 ? 0 : 1, at: i) }
    }

    /// Where(cond, a, b) with broadcasting over all three.
    static func whereKernel() -> Kernel {
        let memo = ShapeMemo<WhereGeometry>()
        return { io in
            let c = try io.input(0), a = try io.input(1), b = try io.input(2)
            let geo = try memo.geometry({ $0.add(c.shape); $0.add(a.shape); $0.add(b.shape) }) {
                try WhereGeometry(c.shape, a.shape, b.shape)
            }
            try whereKernel(&io, c, a, b, geo)
        }
    }

    private static func whereKernel(_ io: inout KernelIO, _ c: RuntimeTensor, _ a: RuntimeTensor, _ b: RuntimeTensor,
                                    _ geo: WhereGeometry) throws {
        let shape = geo.shape
        let y = try io.output(0, a.elementType, shape)
        let sc = geo.sc, sa = geo.sa, sb = geo.sb, st = geo.st
        let size = a.elementSize
        if c.elementType == .bool, c.elementSize == 1, a.strings == nil, b.strings == nil, a.container == nil, b.container == nil,
           !shape.isEmpty, y.count > 0 {
            // Row by row over the last axis, an odometer over the others (no division per element);
            // dims of size 1 dropped and neighbours all three operands read contiguously merged
            // (`WhereGeometry.merged`), so a mask over a whole score tensor is one row.
            let (shape, sc, sa, sb) = geo.merged
            let r = shape.count
            let last = shape[r - 1], rows = y.count / last
            let lc = sc[r - 1], la = sa[r - 1], lb = sb[r - 1]
            var oc = 0, oa = 0, ob = 0
            try withUnsafeTemporaryAllocation(of: Int.self, capacity: r) { counterBuffer in
            guard let counter = counterBuffer.baseAddress else { throw KernelError("no stack memory") }
            for d in 0..<r { counter[d] = 0 }
            let cp = c.raw.assumingMemoryBound(to: UInt8.self)
            for row in 0..<rows {
                let dst = y.raw + row * last * size
                switch size {
                case 4:
                    let d = dst.assumingMemoryBound(to: UInt32.self)
                    let pa = a.raw.assumingMemoryBound(to: UInt32.self), pb = b.raw.assumingMemoryBound(to: UInt32.self)
                    let c0 = cp + oc, a0 = pa + oa, b0 = pb + ob
                    if lc == 1 && la == 0 && lb == 1 { let v = a0[0]; for k in 0..<last { d[k] = c0[k] != 0 ? v : b0[k] } }
                    else if lc == 1 && la == 1 && lb == 0 { let v = b0[0]; for k in 0..<last { d[k] = c0[k] != 0 ? a0[k] : v } }
                    else if lc == 1 && la == 1 && lb == 1 { for k in 0..<last { d[k] = c0[k] != 0 ? a0[k] : b0[k] } }
                    else { for k in 0..<last { d[k] = c0[k * lc] != 0 ? a0[k * la] : b0[k * lb] } }
                case 8:
                    let d = dst.assumingMemoryBound(to: UInt64.self)
                    let pa = a.raw.assumingMemoryBound(to: UInt64.self), pb = b.raw.assumingMemoryBound(to: UInt64.self)
                    for k in 0..<last { d[k] = cp[oc + k * lc] != 0 ? pa[oa + k * la] : pb[ob + k * lb] }
                default:
                    for k in 0..<last {
                        let src = cp[oc + k * lc] != 0 ? a.raw + (oa + k * la) * size : b.raw + (ob + k * lb) * size
                        (dst + k * size).copyMemory(from: src, byteCount: size)
                    }
                }
                var d = r - 2
                while d >= 0 {
                    counter[d] += 1; oc += sc[d]; oa += sa[d]; ob += sb[d]
                    if counter[d] < shape[d] { break }
                    oc -= sc[d] * shape[d]; oa -= sa[d] * shape[d]; ob -= sb[d] * shape[d]; counter[d] = 0; d -= 1
                }
            }
            }
            return
        }
        for i in 0..<y.count {
            var ic = 0, ia = 0, ib = 0, rem = i
            for d in 0..<shape.count {
                let k = rem / st[d]; rem -= k * st[d]; ic += k * sc[d]; ia += k * sa[d]; ib += k * sb[d]
            }
            let src = c.double(at: ic) != 0 ? a.raw + ia * size : b.raw + ib * size
            (y.raw + i * size).copyMemory(from: src, byteCount: size)
        }
    }

    /// Cast to the `to` type. Narrow targets (float16, bfloat16, float8, float4, 4- and 2-bit
    /// integers) are rounded to their values and held as `RuntimeElement.stored` says.
    static func cast(_ node: Node) throws -> Kernel {
        let code = Int32(clamping: node.int("to", 1))
        guard let to = ElementType(rawValue: code) else { throw KernelError("Cast to unknown type \(code)") }
        return try castKernel(to: to, saturate: node.int("saturate", 1) != 0,
                              roundMode: node.string("round_mode", "up"))
    }

    /// The kernel of a Cast (or CastLike whose target type is known) to `to`.
    static func castKernel(to: ElementType, saturate: Bool, roundMode: String) throws -> Kernel {
        let target = RuntimeElement.stored(to)
        guard RuntimeElement.size(target) != nil else { throw KernelError("Cast to \(to.name) is not supported") }
        let narrow = NarrowTypes.isNarrow(to)
        return { io in
            let x = try io.input(0)
            let y = try io.output(0, target, x.shape)
            if x.elementType == target && !narrow {
                y.raw.copyMemory(from: x.raw, byteCount: x.byteCount)
                return
            }
            for i in 0..<x.count {
                var v = x.double(at: i)
                if narrow { v = NarrowTypes.cast(v, to: to, saturate: saturate, roundMode: roundMode) }
                y.setDouble(v, at: i)
            }
        }
    }
}

extension Float {
    /// `v` rounded to the nearest float16 value (ties to even), as a float.
    init(halfRound v: Float) {
        #if arch(x86_64) || arch(arm64)
        self = Float(Float16(v))
        #else
        self = v
        #endif
    }

    /// `v` rounded to the nearest bfloat16 value (ties to even), as a float.
    init(bfloatRound v: Float) {
        if v.isNaN { self = v; return }
        let bits = v.bitPattern
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        self = Float(bitPattern: rounded & 0xFFFF_0000)
    }
}

/// Where's shapes as its kernel keeps them between calls (`ShapeMemo`): the broadcast output
/// shape, each operand's strides over it, and the same with size-1 dims dropped and
/// neighbours all three operands read contiguously merged.
struct WhereGeometry {
    var shape: [Int], sc: [Int], sa: [Int], sb: [Int], st: [Int]
    var merged: (shape: [Int], sc: [Int], sa: [Int], sb: [Int])

    init(_ c: [Int], _ a: [Int], _ b: [Int]) throws {
        shape = try Shapes.broadcast(Shapes.broadcast(c, a), b)
        sc = Shapes.broadcastStrides(c, to: shape)
        sa = Shapes.broadcastStrides(a, to: shape)
        sb = Shapes.broadcastStrides(b, to: shape)
        st = Shapes.strides(shape)
        var ms = shape, mc = sc, ma = sa, mb = sb
        var r = 0
        for d in 0..<shape.count where shape[d] != 1 {
            if r > 0 && mc[r - 1] == sc[d] * shape[d] && ma[r - 1] == sa[d] * shape[d] && mb[r - 1] == sb[d] * shape[d] {
                ms[r - 1] *= shape[d]; mc[r - 1] = sc[d]; ma[r - 1] = sa[d]; mb[r - 1] = sb[d]
            } else {
                ms[r] = shape[d]; mc[r] = sc[d]; ma[r] = sa[d]; mb[r] = sb[d]; r += 1
            }
        }
        if r == 0, !shape.isEmpty { ms[0] = 1; mc[0] = 0; ma[0] = 0; mb[0] = 0; r = 1 }
        let n = min(r, ms.count)
        merged = (Array(ms.prefix(n)), Array(mc.prefix(n)), Array(ma.prefix(n)), Array(mb.prefix(n)))
    }
}

/// HardSwish as ONNX defines it: x * HardSigmoid(x) with alpha = 1/6 as a float32 and beta = 0.5
/// (the C kernel `gs_hard_swish` computes the same, rounding the same way).
@inline(__always)
func hardSwish(_ x: Float) -> Float { x * min(max(x * (1 / 6 as Float) + 0.5, 0), 1) }
