/// Rules for elementwise ops: unary ops that keep type and shape, numpy-broadcasting binary
/// and variadic ops, comparisons and logic (bool results), `Where`, `Clip`, `Cast`/`CastLike`,
/// with folding of known contents (int64 shape arithmetic stays symbolic: `Shape(x)[1] * 2`
/// is `2*seq`).
import Foundation  // pow
import GraphIR

enum ElementwiseRules {
    static func register(_ t: inout [String: InferenceRule]) {
        for op in ["Relu", "Sigmoid", "Tanh", "Erf", "Sqrt", "Neg", "Reciprocal", "Cos", "Sin", "Tan", "Exp", "Log",
                   "Abs", "Floor", "Ceil", "Round", "Sign", "HardSigmoid", "HardSwish", "LeakyRelu", "Elu", "Selu",
                   "Softplus", "Softsign", "Gelu", "Identity", "Celu", "Mish", "ThresholdedRelu", "Shrink", "Acos",
                   "Asin", "Atan", "Acosh", "Asinh", "Atanh", "Cosh", "Sinh", "LRN", "Softmax", "LogSoftmax",
                   "Hardmax", "InstanceNormalization", "LpNormalization", "MeanVarianceNormalization", "CumSum",
                   "BitwiseNot", "Trilu", "Swish", "Clip", "Not", "Dropout"] {
            t[op] = unary
        }
        // Identity passes any value through unchanged: tensors, sequences and optionals alike.
        t["Identity"] = { c in [try c.facts(0)] }
        for op in ["IsNaN", "IsInf"] { t[op] = boolOfInput0 }
        for op in ["Add", "Sub", "Mul", "Div", "Pow", "Mod", "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor",
                   "PRelu", "Max", "Min", "Sum", "Mean"] {
            t[op] = arithmetic
        }
        for op in ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor"] { t[op] = comparison }
        t["Where"] = whereRule
        t["Cast"] = cast
        t["CastLike"] = cast
    }

    static func boolOfInput0(_ c: RuleContext) throws -> [ValueFacts?] {
        [.tensor(.bool, try c.tensor(0).1)]
    }

    /// Same type and shape as input 0; folds the few unary ops shape code uses.
    static func unary(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        var value: KnownValue?
        if let v = c.value(0) { value = foldUnary(c.node.opType, v, c) }
        var outs: [ValueFacts?] = [.tensor(e, d, value: value)]
        if c.node.opType == "Dropout" { outs.append(.tensor(.bool, d)) }
        return outs
    }

    static func foldUnary(_ op: String, _ v: KnownValue, _ c: RuleContext) -> KnownValue? {
        switch (op, v) {
        case ("Identity", _): return v
        case ("Neg", .ints(let xs)): return .ints(xs.map { -$0 })
        case ("Neg", .floats(let xs)): return .floats(xs.map { -$0 })
        case ("Abs", .floats(let xs)): return .floats(xs.map { Swift.abs($0) })
        case ("Abs", .ints(let xs)):
            guard let k = v.constantInts else { return nil }
            _ = xs
            return .ints(k.map { SymDim($0 == Int64.min ? $0 : Swift.abs($0)) })
        case ("Not", _):
            guard let k = v.constantInts else { return nil }
            return .ints(k.map { SymDim($0 == 0 ? 1 : 0) })
        case ("Floor", .floats(let xs)): return .floats(xs.map { $0.rounded(.down) })
        case ("Ceil", .floats(let xs)): return .floats(xs.map { $0.rounded(.up) })
        case ("Round", .floats(let xs)): return .floats(xs.map { $0.rounded(.toNearestOrEven) })
        case ("Sqrt", .floats(let xs)): return .floats(xs.map { $0.squareRoot() })
        case ("Reciprocal", .floats(let xs)): return .floats(xs.map { 1 / $0 })
        case ("Clip", _):
            return nil
        default: return nil
        }
    }

    /// Broadcast shape of every given input (variadic ops take any number).
    static func broadcastAll(_ c: RuleContext, _ indices: Range<Int>) throws -> [SymDim?]? {
        var out: [SymDim?]?
        var first = true
        for i in indices where c.has(i) {
            let (_, d) = try c.tensor(i)
            guard let d else { out = nil; first = false; continue }
            if first { out = d; first = false } else if let o = out { out = try Shapes.broadcast(o, d) }
        }
        return first ? [] : out
    }

    static func arithmetic(_ c: RuleContext) throws -> [ValueFacts?] {
        guard c.inputCount >= 1 else { throw InferenceFailure("needs at least one input") }
        let e = try c.elementType(0)
        for i in 1..<c.inputCount where c.has(i) {
            let ei = try c.elementType(i)
            if ei != e && c.node.opType != "Pow" && c.node.opType != "PRelu" && c.node.opType != "BitShift" {
                throw InferenceFailure("input \(i) is \(ei.name), input 0 is \(e.name)")
            }
        }
        let dims = try broadcastAll(c, 0..<c.inputCount)
        var value: KnownValue?
        if let dims, c.inputCount == 2, c.hasValue(0), c.hasValue(1) {
            value = fold2(c, dims) { x, y in foldArithmetic(c.node.opType, x, y, isInt: Shapes.isIntegral(e)) }
        } else if let dims, c.inputCount >= 1, (0..<c.inputCount).allSatisfy({ c.hasValue($0) }),
                  ["Max", "Min", "Sum"].contains(c.node.opType) {
            var acc: KnownValue? = c.value(0)
            var accDims = try c.dims(0)
            for i in 1..<c.inputCount {
                guard let a = acc else { break }
                let di = try c.dims(i)
                let outDims = try Shapes.broadcast(accDims, di)
                acc = foldBroadcast(a, accDims, c.value(i)!, di, outDims) { x, y in
                    foldArithmetic(c.node.opType == "Sum" ? "Add" : c.node.opType, x, y, isInt: Shapes.isIntegral(e))
                }
                accDims = outDims
            }
            value = acc
            _ = dims
        }
        return [.tensor(e, dims, value: value)]
    }

    static func comparison(_ c: RuleContext) throws -> [ValueFacts?] {
        _ = try c.elementType(0)
        let dims = try broadcastAll(c, 0..<2)
        var value: KnownValue?
        if let dims, c.hasValue(0), c.hasValue(1) {
            value = fold2(c, dims) { x, y in foldComparison(c.node.opType, x, y) }
        }
        return [.tensor(.bool, dims, value: value)]
    }

    /// Elementwise fold of inputs 0 and 1 into `dims` (static shapes only).
    static func fold2(_ c: RuleContext, _ dims: [SymDim?], _ f: (Scalar, Scalar) -> Scalar?) -> KnownValue? {
        guard let a = c.value(0), let b = c.value(1), let da = try? c.dims(0), let db = try? c.dims(1) else { return nil }
        return foldBroadcast(a, da, b, db, dims, f)
    }

    /// One element of a known tensor: a symbolic integer or a float.
    enum Scalar {
        case int(SymDim)
        case float(Double)
        /// An unknown entry of partly known contents: any result it enters is unknown.
        case unknown
        var double: Double? {
            switch self {
            case .float(let x): return x
            case .int(let d): return d.intValue.map { Double($0) }
            case .unknown: return nil
            }
        }
    }

    static func scalars(_ v: KnownValue) -> [Scalar] {
        switch v {
        case .ints(let xs): return xs.map { .int($0) }
        case .floats(let xs): return xs.map { .float($0) }
        case .partialInts(let xs): return xs.map { $0.map { .int($0) } ?? .unknown }
        }
    }

    static func pack(_ xs: [Scalar]) -> KnownValue? {
        if xs.allSatisfy({ if case .float = $0 { return false } else { return true } }) {
            return KnownValue.ints(partial: xs.map { if case .int(let d) = $0 { return d } else { return nil } })
        }
        guard xs.count <= maxKnownFloats else { return nil }
        var out: [Double] = []
        for x in xs { guard let d = x.double else { return nil }; out.append(d) }
        return .floats(out)
    }

    /// Broadcasting fold over row-major contents; nil when a shape is not static or any
    /// element does not fold.
    static func foldBroadcast(_ a: KnownValue, _ da: [SymDim?], _ b: KnownValue, _ db: [SymDim?], _ out: [SymDim?],
                              _ f: (Scalar, Scalar) -> Scalar?) -> KnownValue? {
        foldBroadcastN([a, b], [da, db], out) { xs in f(xs[0], xs[1]) }
    }

    /// N-ary broadcasting fold (see `foldBroadcast`).
    static func foldBroadcastN(_ values: [KnownValue], _ dims: [[SymDim?]], _ out: [SymDim?],
                               _ f: ([Scalar]) -> Scalar?) -> KnownValue? {
        guard let n = Shapes.count(out) else { return nil }
        var sizes: [[Int]] = []
        for (v, d) in zip(values, dims) {
            guard let c = Shapes.count(d), c == v.count, d.count <= out.count else { return nil }
            sizes.append(d.map { Int($0?.intValue ?? 0) })
        }
        let od = out.map { Int($0?.intValue ?? 0) }
        let inputs = values.map(scalars)
        var res: [Scalar] = []
        res.reserveCapacity(n)
        var args = [Scalar](repeating: .int(SymDim(0)), count: values.count)
        for flat in 0..<n {
            for j in values.indices {
                let dj = sizes[j]
                var rem = flat, idx = 0, stride = 1, k = od.count - 1
                let off = od.count - dj.count
                while k >= 0 {
                    let size = max(od[k], 1)
                    let coord = rem % size
                    rem /= size
                    if k >= off {
                        let s = dj[k - off]
                        idx += (s == 1 ? 0 : coord) * stride
                        stride *= s
                    }
                    k -= 1
                }
                args[j] = inputs[j][idx]
            }
            if args.contains(where: { if case .unknown = $0 { return true } else { return false } }) {
                res.append(.unknown)
                continue
            }
            guard let r = f(args) else { return nil }
            res.append(r)
        }
        return pack(res)
    }

    static func foldArithmetic(_ op: String, _ x: Scalar, _ y: Scalar, isInt: Bool) -> Scalar? {
        if isInt, case .int(let a) = x, case .int(let b) = y {
            switch op {
            case "Add": return .int(a + b)
            case "Sub": return .int(a - b)
            case "Mul": return .int(a * b)
            case "Div":
                if let p = a.intValue, let q = b.intValue {
                    guard q != 0 else { return nil }
                    return .int(SymDim(q == -1 ? 0 &- p : p / q))  // C truncation, as ONNX integer Div
                }
                // Symbolic sizes are non-negative, where truncation is floor division.
                guard let q = b.intValue, q > 0, let r = a.floorDiv(b) else { return nil }
                return .int(r)
            case "Mod":
                guard let q = b.intValue, q != 0 else { return nil }
                if let p = a.intValue {
                    let r = q == -1 ? 0 : p % q
                    return .int(SymDim((r != 0 && (r < 0) != (q < 0)) ? r + q : r))
                }
                return a.mod(b).map { .int($0) }
            case "Max": return .int(SymDim.maximum(a, b))
            case "Min": return .int(SymDim.minimum(a, b))
            case "Pow":
                guard let p = a.intValue, let q = b.intValue, q >= 0, q < 64 else { return nil }
                var r: Int64 = 1
                for _ in 0..<q { r = r &* p }
                return .int(SymDim(r))
            default: return nil
            }
        }
        guard let a = x.double, let b = y.double else { return nil }
        let r: Double
        switch op {
        case "Add": r = a + b
        case "Sub": r = a - b
        case "Mul": r = a * b
        case "Div": r = a / b
        case "Pow": r = pow(a, b)
        case "Max": r = Swift.max(a, b)
        case "Min": r = Swift.min(a, b)
        default: return nil
        }
        return .float(r)
    }

    static func foldComparison(_ op: String, _ x: Scalar, _ y: Scalar) -> Scalar? {
        func bool(_ b: Bool) -> Scalar { .int(SymDim(b ? 1 : 0)) }
        if case .int(let a) = x, case .int(let b) = y, op == "Equal" {
            if a == b { return bool(true) }
            if a.provablyDiffers(from: b) { return bool(false) }  // `seq` is never -1
            return nil  // different symbols may still be equal at run time
        }
        guard let a = x.double, let b = y.double else {
            // `seq + 1 > seq` and the like: a constant difference decides.
            if case .int(let p) = x, case .int(let q) = y, let d = (p - q).intValue {
                switch op {
                case "Less": return bool(d < 0)
                case "Greater": return bool(d > 0)
                case "LessOrEqual": return bool(d <= 0)
                case "GreaterOrEqual": return bool(d >= 0)
                default: return nil
                }
            }
            return nil
        }
        switch op {
        case "Equal": return bool(a == b)
        case "Less": return bool(a < b)
        case "Greater": return bool(a > b)
        case "LessOrEqual": return bool(a <= b)
        case "GreaterOrEqual": return bool(a >= b)
        case "And": return bool(a != 0 && b != 0)
        case "Or": return bool(a != 0 || b != 0)
        case "Xor": return bool((a != 0) != (b != 0))
        default: return nil
        }
    }

    /// `Where(cond, X, Y)`: broadcast of all three; folds when all are known, choosing per
    /// element by the condition itself (no sentinel values).
    static func whereRule(_ c: RuleContext) throws -> [ValueFacts?] {
        let e = try c.elementType(1)
        let ey = try c.elementType(2)
        guard e == ey else { throw InferenceFailure("X is \(e.name) but Y is \(ey.name)") }
        let dims = try broadcastAll(c, 0..<3)
        var value: KnownValue?
        if let dims, let cv = c.value(0), let xv = c.value(1), let yv = c.value(2),
           let dc = try? c.dims(0), let dx = try? c.dims(1), let dy = try? c.dims(2) {
            value = foldBroadcastN([cv, xv, yv], [dc, dx, dy], dims) { args in
                guard case .int(let k) = args[0], let flag = k.intValue else { return nil }
                return flag != 0 ? args[1] : args[2]
            }
        }
        return [.tensor(e, dims, value: value)]
    }

    /// `Cast(to)` and `CastLike(target)`: the new element type; known contents convert.
    static func cast(_ c: RuleContext) throws -> [ValueFacts?] {
        let (_, d) = try c.tensor(0)
        let to: ElementType
        if c.node.opType == "CastLike" {
            to = try c.elementType(1)
        } else {
            guard let code = c.attrInt("to"), let e = ElementType(rawValue: Int32(truncatingIfNeeded: code)),
                  e != .undefined else { throw InferenceFailure("attribute 'to' is missing or not an element type") }
            to = e
        }
        var value: KnownValue?
        if let v = c.value(0) {
            if to == .bool {
                value = v.constantInts.map { .ints($0.map { SymDim($0 != 0 ? 1 : 0) }) }
                if case .floats(let xs) = v { value = .ints(xs.map { SymDim($0 != 0 ? 1 : 0) }) }
            } else if Shapes.isIntegral(to) {
                if case .floats(let xs) = v {
                    if xs.allSatisfy({ $0.isFinite && Swift.abs($0) < 9.2e18 }) { value = .ints(xs.map { SymDim(Int64($0)) }) }
                } else { value = v }
            } else if Shapes.isFloating(to) {
                value = v.doubles.map { .floats($0) }
            }
        }
        return [.tensor(to, d, value: value)]
    }
}
