/// Packed rules: the general rules' answers (Elementwise.swift, NN.swift, ShapeOps.swift) for
/// the plain forms of the ops that make up most of a CNN or exported transformer, computed on
/// packed records. Each rule takes only the cases where its general rule would fold no known
/// contents it does not carry along and would report no problem; for every other case it says
/// false and the general rule runs. Window sizes, attributes and their defaults come from the
/// general rules' own helpers, so the two cannot drift apart there.
import GraphIR

enum PackedRules {
    static let table: [String: PackedRule] = {
        var t: [String: PackedRule] = [:]
        // Unary ops whose general rule folds no contents (ElementwiseRules.foldUnary).
        for op in ["Relu", "Sigmoid", "Tanh", "Erf", "Cos", "Sin", "Tan", "Exp", "Log", "HardSigmoid", "HardSwish",
                   "LeakyRelu", "Elu", "Selu", "Softplus", "Softsign", "Gelu", "Celu", "Mish", "LRN", "Softmax",
                   "LogSoftmax", "Clip", "Dropout", "InstanceNormalization"] {
            t[op] = unary
        }
        t["Identity"] = identity
        for op in ["Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "PRelu"] { t[op] = arithmetic }
        t["Conv"] = conv
        for op in ["MaxPool", "AveragePool", "LpPool"] { t[op] = pool }
        for op in ["GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"] { t[op] = globalPool }
        t["BatchNormalization"] = batchNorm
        t["Gemm"] = gemm
        t["MatMul"] = matmul
        t["Concat"] = concat
        t["Transpose"] = transpose
        t["Flatten"] = flatten
        t["Reshape"] = reshape
        t["Unsqueeze"] = unsqueeze
        t["Cast"] = cast
        t["Constant"] = constant
        t["ConstantOfShape"] = constantOfShape
        return t
    }()

    /// Type and shape of input 0, no contents (and Dropout's bool mask).
    static func unary(_ c: PackedContext) -> Bool {
        guard let x = c.tensor(0) else { return false }
        var out = x
        out.known = -1
        c.emit(out)
        if c.opType == "Dropout" {
            out.element = .bool
            c.emit(out)
        }
        return true
    }

    /// Input 0 as it is, contents included.
    static func identity(_ c: PackedContext) -> Bool {
        guard let x = c.input(0), x.kind == .tensor || (x.kind == .general && c.table.decode(x).type != nil) else {
            return false
        }
        c.emit(x)
        return true
    }

    /// Numpy broadcasting of two stored dims, as `Shapes.broadcastDim` decides; nil where that
    /// would report a problem or build a symbolic maximum.
    @inline(__always)
    static func broadcast(_ x: Int64, _ y: Int64, _ table: PackedFacts) -> Int64? {
        if x == y { return x }
        if x == 1 { return y }
        if y == 1 { return x }
        if y == PackedDim.unknown { return x }
        if x == PackedDim.unknown { return y }
        if !PackedDim.isSize(x), !PackedDim.isSize(y), table.dim(x) == table.dim(y) { return x }
        return nil
    }

    /// Broadcasts `b` into `out` (right-aligned), as `Shapes.broadcast` does.
    static func broadcast(into out: inout PackedFact, _ b: PackedFact, _ table: PackedFacts) -> Bool {
        let ra = Int(out.rank), rb = Int(b.rank)
        let r = max(ra, rb)
        guard r <= PackedFact.maxRank else { return false }
        var result = out
        result.rank = Int8(r)
        for i in 0..<r {
            let x = i < r - ra ? 1 : out[dim: i - (r - ra)]
            let y = i < r - rb ? 1 : b[dim: i - (r - rb)]
            guard let d = broadcast(x, y, table) else { return false }
            result[dim: i] = d
        }
        out = result
        return true
    }

    /// Broadcasting arithmetic when some input has no known contents (nothing to fold).
    static func arithmetic(_ c: PackedContext) -> Bool {
        let n = c.inputCount
        guard n >= 1, var out = c.ranked(0) else { return false }
        // Inputs that all have contents fold: the general rule's case, known before any work.
        var someUnknown = false
        for i in 0..<n { if let x = c.input(i), !x.mayHaveValue { someUnknown = true } }
        guard someUnknown else { return false }
        let op = c.opType
        let mixedTypes = op == "Pow" || op == "PRelu"
        for i in 1..<max(n, 1) {
            guard let x = c.ranked(i), mixedTypes || x.element == out.element else { return false }
            guard broadcast(into: &out, x, c.table) else { return false }
        }
        out.known = -1
        c.emit(out)
        return true
    }

    /// A Conv or pooling node's window attributes, read in one pass over its attributes (what
    /// `NNRules.window` reads name by name). Attributes the node leaves out take the schema's
    /// default, as there.
    struct WindowAttributes {
        var kernel: [Int64]?
        var strides: [Int64]?
        var dilations: [Int64]?
        var pads: [Int64]?
        var autoPad = "NOTSET"
        var ceilMode: Int64 = 0

        init?(_ c: PackedContext, _ a: RuleContext) {
            guard let node = c.node else { return nil }
            var sawAutoPad = false, sawCeilMode = false
            let ok = node.pointee.attributes.withUnsafeBufferPointer { buf -> Bool in
                guard let base = buf.baseAddress else { return true }
                for i in buf.indices {
                    let p = base + i
                    let name = p.pointee.name
                    switch name.utf8.count {
                    case 12 where name == "kernel_shape":
                        guard case .ints(let x) = p.pointee.value else { return false }
                        if kernel == nil { kernel = x }
                    case 7 where name == "strides":
                        guard case .ints(let x) = p.pointee.value else { return false }
                        if strides == nil { strides = x }
                    case 9 where name == "dilations":
                        guard case .ints(let x) = p.pointee.value else { return false }
                        if dilations == nil { dilations = x }
                    case 4 where name == "pads":
                        guard case .ints(let x) = p.pointee.value else { return false }
                        if pads == nil { pads = x }
                    case 8 where name == "auto_pad":
                        guard case .string(let x) = p.pointee.value else { return false }
                        if !sawAutoPad { autoPad = String(decoding: x, as: UTF8.self) }
                        sawAutoPad = true
                    case 9 where name == "ceil_mode":
                        guard case .int(let x) = p.pointee.value else { return false }
                        if !sawCeilMode { ceilMode = x }
                        sawCeilMode = true
                    default: break
                    }
                }
                return true
            }
            // A wrongly typed attribute: the general rule's reading of it decides.
            guard ok else { return nil }
            if kernel == nil { kernel = a.ints("kernel_shape") }
            if strides == nil { strides = a.ints("strides") }
            if dilations == nil { dilations = a.ints("dilations") }
            if pads == nil { pads = a.ints("pads") }
            if !sawAutoPad { autoPad = (try? a.string("auto_pad")) ?? "NOTSET" }
        }

        /// Output size of spatial dim `i` of `n` for input size `x`, as `NNRules.windowOutput`
        /// computes it (after the count checks of `NNRules.window`).
        /// nil where that throws (the general rule reports it); `.some(nil)` for an unknown size.
        func output(_ x: SymDim?, _ i: Int, spatial n: Int, kernel k: [Int64], ceil: Bool) -> SymDim?? {
            do {
                return .some(try NNRules.windowOutput(x, kernel: k[i], stride: strides?[i] ?? 1, dilation: dilations?[i] ?? 1,
                                                      padBegin: pads?[i] ?? 0, padEnd: pads?[i + n] ?? 0, autoPad: autoPad,
                                                      ceilMode: ceil))
            } catch {
                return nil
            }
        }

        /// Writes the spatial output sizes of input `x` (dims 2...) into `out`; false where
        /// `NNRules.windowOutput` throws or a size cannot be stored.
        func writeOutputs(of x: PackedFact, into out: inout PackedFact, kernel: [Int64], ceil: Bool,
                          _ c: PackedContext) -> Bool {
            let n = Int(x.rank) - 2
            for i in 0..<n {
                guard let d = output(c.table.dim(x[dim: i + 2]), i, spatial: n, kernel: kernel, ceil: ceil),
                      let v = c.encode(d) else { return false }
                out[dim: i + 2] = v
            }
            return true
        }

        /// Whether the given lists have the lengths `NNRules.window` requires.
        func fits(spatial n: Int, kernel: [Int64]) -> Bool {
            kernel.count == n && (strides?.count ?? n) == n && (dilations?.count ?? n) == n && (pads?.count ?? 2 * n) == 2 * n
        }
    }

    /// The node's window attributes, read once per shared attribute list.
    static func window(_ c: PackedContext) -> WindowAttributes? {
        guard let key = c.attributeKey else { return nil }
        for m in c.windowMemo where m.key == key { return m.value }
        let win = c.attributes.flatMap { WindowAttributes(c, $0) }
        if c.windowMemo.count < PackedContext.windowMemoSize {
            c.windowMemo.append((key, win))
        } else {
            c.windowMemo[c.windowMemoNext] = (key, win)
            c.windowMemoNext = (c.windowMemoNext + 1) % PackedContext.windowMemoSize
        }
        return win
    }

    static func conv(_ c: PackedContext) -> Bool {
        guard let x = c.ranked(0), x.rank >= 3, let w = c.tensor(1), let win = window(c) else { return false }
        let n = Int(x.rank) - 2
        var kernel = win.kernel
        if kernel == nil, w.rank == Int8(n + 2) {
            var k: [Int64] = []
            for i in 2..<(n + 2) where PackedDim.isSize(w[dim: i]) { k.append(w[dim: i]) }
            kernel = k
        }
        guard let kernel, win.fits(spatial: n, kernel: kernel) else { return false }
        var out = PackedFact.tensor(x.element, rank: n + 2)
        out[dim: 0] = x[dim: 0]
        out[dim: 1] = w.rank > 0 ? w[dim: 0] : PackedDim.unknown
        guard win.writeOutputs(of: x, into: &out, kernel: kernel, ceil: false, c) else { return false }
        c.emit(out)
        return true
    }

    static func pool(_ c: PackedContext) -> Bool {
        guard let x = c.tensor(0) else { return false }
        var out = x
        out.known = -1
        if x.rank >= 0 {
            guard x.rank >= 3, let win = window(c), let kernel = win.kernel else { return false }
            let n = Int(x.rank) - 2
            guard win.fits(spatial: n, kernel: kernel),
                  win.writeOutputs(of: x, into: &out, kernel: kernel, ceil: win.ceilMode != 0, c) else { return false }
        }
        c.emit(out)
        if x.rank >= 0, c.opType == "MaxPool" {
            out.element = .int64
            c.emit(out)
        }
        return true
    }

    static func globalPool(_ c: PackedContext) -> Bool {
        guard let x = c.tensor(0) else { return false }
        var out = x
        out.known = -1
        if x.rank >= 0 {
            guard x.rank >= 2 else { return false }
            for i in 2..<Int(x.rank) { out[dim: i] = 1 }
        }
        c.emit(out)
        return true
    }

    /// Inference-mode BatchNormalization (one output): input 0's type and shape.
    static func batchNorm(_ c: PackedContext) -> Bool {
        guard c.outputCount <= 1, let x = c.tensor(0) else { return false }
        var out = x
        out.known = -1
        c.emit(out)
        return true
    }

    static func gemm(_ c: PackedContext) -> Bool {
        guard let a = c.ranked(0), let b = c.ranked(1), a.rank == 2, b.rank == 2, let attrs = c.attributes,
              let transA = try? attrs.int("transA"), let transB = try? attrs.int("transB") else { return false }
        var out = PackedFact.tensor(a.element, rank: 2)
        out[dim: 0] = transA != 0 ? a[dim: 1] : a[dim: 0]
        out[dim: 1] = transB != 0 ? b[dim: 0] : b[dim: 1]
        c.emit(out)
        return true
    }

    /// MatMul of two operands of rank >= 2 (vectors take the general rule).
    static func matmul(_ c: PackedContext) -> Bool {
        guard let a = c.ranked(0), let b = c.ranked(1), a.element == b.element, a.rank >= 2, b.rank >= 2 else { return false }
        let ra = Int(a.rank), rb = Int(b.rank)
        let k1 = a[dim: ra - 1], k2 = b[dim: rb - 2]
        if PackedDim.isSize(k1), PackedDim.isSize(k2), k1 != k2 { return false }
        // The batch dims broadcast; then a's rows and b's columns.
        var batchA = a, batchB = b
        batchA.rank = Int8(ra - 2)
        batchB.rank = Int8(rb - 2)
        guard broadcast(into: &batchA, batchB, c.table), batchA.rank + 2 <= Int8(PackedFact.maxRank) else { return false }
        var out = batchA
        out.known = -1
        out.rank += 2
        out[dim: Int(out.rank) - 2] = a[dim: ra - 2]
        out[dim: Int(out.rank) - 1] = b[dim: rb - 1]
        c.emit(out)
        return true
    }

    /// Concat of tensors of known rank when some piece has no known contents (nothing to
    /// join; 1-D integer pieces, which the general rule tracks entry by entry, take it).
    static func concat(_ c: PackedContext) -> Bool {
        let n = c.inputCount
        var someUnknown = false
        for i in 0..<n { if let x = c.input(i), !x.mayHaveValue { someUnknown = true } }
        guard someUnknown, n > 0, let first = c.ranked(0), let a = c.attributes, let axisAttr = try? a.int("axis") else {
            return false
        }
        let rank = Int(first.rank)
        guard let axis = try? a.axis(axisAttr, rank: rank), !(rank == 1 && Shapes.isIntegral(first.element)) else { return false }
        var out = first
        out.known = -1
        var sum: SymDim? = SymDim(0)
        for i in 0..<n {
            guard let x = c.ranked(i), x.element == first.element, Int(x.rank) == rank else { return false }
            for k in 0..<rank where k != axis {
                let have = out[dim: k], next = x[dim: k]
                if have == PackedDim.unknown { out[dim: k] = next } else if PackedDim.isSize(have), PackedDim.isSize(next),
                                                                            have != next { return false }
            }
            if let s = sum, let d = c.table.dim(x[dim: axis]) { sum = s + d } else { sum = nil }
        }
        guard let total = c.encode(sum) else { return false }
        out[dim: axis] = total
        c.emit(out)
        return true
    }

    /// Transpose of a tensor without known contents.
    static func transpose(_ c: PackedContext) -> Bool {
        guard let x = c.tensor(0), !x.mayHaveValue, let a = c.attributes else { return false }
        var out = x
        if x.rank >= 0 {
            let r = Int(x.rank)
            let perm = a.ints("perm") ?? (0..<Int64(r)).reversed()
            guard ShapeOpRules.isPermutation(perm, rank: r) else { return false }
            for i in 0..<r { out[dim: i] = x[dim: Int(perm[i])] }
        }
        c.emit(out)
        return true
    }

    /// Flatten to 2-D (contents carried along, as the general rule does).
    static func flatten(_ c: PackedContext) -> Bool {
        guard let x = c.ranked(0), let a = c.attributes, let axisAttr = try? a.int("axis") else { return false }
        let r = Int(x.rank)
        let axis = axisAttr < 0 ? Int(axisAttr) + r : Int(axisAttr)
        guard axis >= 0 && axis <= r else { return false }
        var dims: [SymDim?] = []
        dims.reserveCapacity(r)
        for i in 0..<r { dims.append(c.table.dim(x[dim: i])) }
        guard let d0 = c.encode(Shapes.product(dims[..<axis])), let d1 = c.encode(Shapes.product(dims[axis...])) else {
            return false
        }
        var out = x
        out.rank = 2
        out[dim: 0] = d0
        out[dim: 1] = d1
        c.emit(out)
        return true
    }

    /// The entries of a known int64 tensor of at most six entries, each a plain size or
    /// symbol reference (nil when its contents are not known that way).
    /// `partial`: an unknown entry is kept as an unknown size instead of refusing the whole.
    /// `sizesOnly`: refuse (before decoding anything) contents with a symbolic entry.
    static func constantEntries(_ c: PackedContext, _ f: PackedFact, partial: Bool = false,
                                sizesOnly: Bool = false) -> PackedFact? {
        guard f.kind == .tensor, f.element == .int64 else { return nil }
        var out = PackedFact.tensor(.int64, rank: 0)
        if f.known <= -2 {
            let ok = c.table.withTensor(lazy: f.known) { p -> Bool in
                let dims = p.pointee.dims
                guard dims.count <= 1 else { return false }
                let n = dims.first.map { Int(clamping: $0) } ?? 1
                guard n >= 0, n <= PackedFact.maxRank else { return false }
                out.rank = Int8(n)
                func read(_ raw: UnsafeRawBufferPointer) -> Bool {
                    guard raw.count >= n * 8 else { return false }
                    for i in 0..<n {
                        let v = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))
                        guard PackedDim.isSize(v) else { return false }
                        out[dim: i] = v
                    }
                    return true
                }
                // The bytes `Tensor.withUnsafeBytes` gives, read from the data itself: calling a
                // method on the tensor behind the pointer copied the whole tensor first.
                switch p.pointee.data {
                case .raw(let bytes): return bytes.count == n * 8 && bytes.withUnsafeBytes(read)
                case .lazy(let l):
                    guard let bytes = try? l.packedBytes(elementType: .int64, elementCount: n) else { return false }
                    return bytes.withUnsafeBytes(read)
                default: return false
                }
            }
            return ok ? out : nil
        }
        guard f.known >= 0, let known = c.table.value(f) else { return nil }
        if sizesOnly {
            // Shape tensors computed from symbolic shapes (`[batch, seq, 12, 64]`) are the
            // general rules' case: refused without building their entries.
            guard case .ints(let xs) = known, xs.count <= PackedFact.maxRank else { return nil }
            out.rank = Int8(xs.count)
            for i in xs.indices {
                guard let v = xs[i].intValueInline, PackedDim.isSize(v) else { return nil }
                out[dim: i] = v
            }
            return out
        }
        guard let entries = known.partialDims, entries.count <= PackedFact.maxRank else { return nil }
        out.rank = Int8(entries.count)
        for i in entries.indices {
            guard partial || entries[i] != nil, let v = c.encode(entries[i]) else { return nil }
            out[dim: i] = v
        }
        return out
    }

    /// Reshape to a known target of constant entries (0 and one -1 resolved as the general rule
    /// does), contents carried along.
    static func reshape(_ c: PackedContext) -> Bool {
        guard let x = c.ranked(0), let shapeInput = c.tensor(1), let target = constantEntries(c, shapeInput, sizesOnly: true),
              let a = c.attributes else { return false }
        let allowZero = a.attrInt("allowzero") ?? 0
        var out = x
        out.rank = target.rank
        var inferAt: Int?
        for i in 0..<Int(target.rank) {
            let t = target[dim: i]
            guard PackedDim.isSize(t) else { return false }
            if t == 0 && allowZero == 0 {
                guard i < Int(x.rank) else { return false }
                out[dim: i] = x[dim: i]
            } else if t == -1 {
                guard inferAt == nil else { return false }
                inferAt = i
                out[dim: i] = PackedDim.unknown
            } else {
                guard t >= 0 else { return false }
                out[dim: i] = t
            }
        }
        var inDims: [SymDim?] = []
        for i in 0..<Int(x.rank) { inDims.append(c.table.dim(x[dim: i])) }
        var outDims: [SymDim?] = []
        for i in 0..<Int(out.rank) { outDims.append(c.table.dim(out[dim: i])) }
        if let k = inferAt, let total = Shapes.product(inDims[...]) {
            var rest = outDims
            rest.remove(at: k)
            if let known = Shapes.product(rest[...]) {
                if let a = total.intValue, let b = known.intValue {
                    guard b != 0, a % b == 0 else { return false }
                    out[dim: k] = a / b
                    guard PackedDim.isSize(a / b) else { return false }
                } else {
                    guard let v = c.encode(total.exactDiv(known)) else { return false }
                    out[dim: k] = v
                }
            }
        }
        if inferAt == nil, let p = Shapes.productValue(inDims[...]), let q = Shapes.productValue(outDims[...]), p != q {
            return false
        }
        c.emit(out)
        return true
    }

    /// Unsqueeze with its axes in the attribute (before opset 13), contents carried along.
    static func unsqueeze(_ c: PackedContext) -> Bool {
        guard let x = c.ranked(0), let a = c.attributes, let axes = a.ints("axes") else { return false }
        let r = Int(x.rank) + axes.count
        guard r <= PackedFact.maxRank else { return false }
        var at: UInt8 = 0
        for axis in axes {
            guard let i = try? a.axis(axis, rank: r), at & (1 << UInt8(i)) == 0 else { return false }
            at |= 1 << UInt8(i)
        }
        var out = x
        out.rank = Int8(r)
        var k = 0
        for i in 0..<r {
            if at & (1 << UInt8(i)) != 0 { out[dim: i] = 1 } else { out[dim: i] = x[dim: k]; k += 1 }
        }
        c.emit(out)
        return true
    }

    /// Cast of a tensor without known contents.
    static func cast(_ c: PackedContext) -> Bool {
        guard let x = c.tensor(0), !x.mayHaveValue, let a = c.attributes, let code = a.attrInt("to"),
              let e = ElementType(rawValue: Int32(truncatingIfNeeded: code)), e != .undefined else { return false }
        var out = x
        out.element = e
        c.emit(out)
        return true
    }

    /// Constant with a `value` tensor (the common form): its type now, its contents on first
    /// read.
    static func constant(_ c: PackedContext) -> Bool {
        guard let node = c.node else { return false }
        let table = c.table
        return node.pointee.attributes.withUnsafeBufferPointer { buf -> Bool in
            guard let a = buf.baseAddress, !buf.isEmpty, sameName(a.pointee.name, "value"),
                  case .tensor(let t) = a.pointee.value else { return false }
            let dims = t.dims
            guard dims.count <= PackedFact.maxRank, dims.allSatisfy(PackedDim.isSize) else { return false }
            var out = PackedFact.tensor(t.elementType, rank: dims.count)
            for i in dims.indices { out[dim: i] = dims[i] }
            if InferenceEngine.mayHaveContents(t.elementType, dims) { out.known = table.lazyTensor(t) }
            c.emit(out)
            return true
        }
    }

    /// ConstantOfShape of a known shape whose result is too large to keep contents for
    /// (weights): the shape's entries become the dims.
    static func constantOfShape(_ c: PackedContext) -> Bool {
        guard let shape = c.tensor(0), shape.known != -1, let key = c.attributeKey,
              var out = constantEntries(c, shape, partial: true) else { return false }
        // The fill's type, read once per shared attribute list.
        if let m = c.fillMemo, m.key == key {
            out.element = m.value ?? .float
        } else {
            let e = c.attributes?.attr("value") { $0.tensorElementType }
            c.fillMemo = (key, e)
            out.element = e ?? .float
        }
        // Contents small enough to keep are filled in by the general rule (`Shapes.count`).
        var count = 1
        for i in 0..<Int(out.rank) {
            let v = out[dim: i]
            guard PackedDim.isSize(v), v >= 0, v <= Int64(maxKnownElements) else { count = -1; break }
            count *= Int(v)
            if count > maxKnownElements { count = -1; break }
        }
        if count >= 0, Shapes.isIntegral(out.element) || count <= maxKnownFloats { return false }
        c.emit(out)
        return true
    }
}
