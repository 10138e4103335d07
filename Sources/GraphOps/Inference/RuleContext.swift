/// What a per-op inference rule sees (`RuleContext`: the node, its inputs' facts, attribute
/// access, the opset) and how it says it cannot infer (`InferenceFailure`). Rules are plain
/// functions `(RuleContext) throws -> [ValueFacts?]`, one output list per node.
import GraphIR

/// Why a rule could not infer a node's outputs; becomes an `InferenceProblem`.
public struct InferenceFailure: Error, Sendable, CustomStringConvertible {
    public var reason: String
    /// Whether the shapes contradict each other, or inference simply lacks something.
    public var kind: InferenceProblem.Kind
    public init(_ reason: String, kind: InferenceProblem.Kind = .inconsistent) {
        self.reason = reason
        self.kind = kind
    }
    public var description: String { reason }
}

/// A rule: the outputs' facts in output order (shorter lists and nil entries mean unknown).
/// Rules throw only `InferenceFailure` (untyped `throws`: typed throws on stored function
/// values crashes the Swift 6.3 compiler).
typealias InferenceRule = (RuleContext) throws -> [ValueFacts?]

/// Elements beyond which tensor contents are not tracked (shape tensors are far smaller).
let maxKnownElements = 4096

/// Float initializers and constants are tracked up to this size: scales, sizes and clip bounds
/// are a handful of elements, and decoding every bias would cost more than inference.
let maxKnownFloats = 16

/// The node being inferred, with its inputs' facts.
struct RuleContext {
    /// The node, valid for the rule call (the engine walks the node array in place).
    let nodePointer: UnsafePointer<Node>
    var node: Node { _read { yield nodePointer.pointee } }
    /// Facts per input position; nil for an omitted optional input or an unknown value.
    let inputs: [ValueFacts?]
    /// Which input positions name a value (read once by the engine: `has(i)` then costs no
    /// access to the node's names).
    let given: InputPresence
    /// Opset version of the node's domain.
    let opset: Int64
    /// The node's domain (normalized: `""` for ai.onnx).
    var domain: String { op.domain }
    /// Where the op's schema comes from (attribute defaults), looked up only when a rule asks
    /// for an attribute the node leaves out. Held by `op`, not copied into every context.
    var registry: OpRegistry { op.registry }
    /// The op's resolution for this inference call: the schema is looked up once per op type,
    /// not once per attribute a node leaves out.
    let op: OpBinding
    /// Infers a subgraph given its inputs' facts (bodies see the current scope); `quiet` keeps
    /// its problems out of the report (a branch that never runs).
    /// Nil for nodes without bodies (nothing to retain per node).
    let bodyInference: BodyInference?

    typealias BodyInference = (_ attribute: String, _ inputs: [ValueFacts?], _ quiet: Bool) throws -> [ValueFacts?]

    /// Infers the body in attribute `attribute` with the given input facts.
    func inferBody(_ attribute: String, _ inputs: [ValueFacts?]) throws -> [ValueFacts?] {
        guard let bodyInference else { throw InferenceFailure("no body '\(attribute)'") }
        return try bodyInference(attribute, inputs, false)
    }

    /// Infers a body that never runs (an If branch a known condition excludes) for the types of
    /// its own values, without reporting its problems.
    func inferUnusedBody(_ attribute: String, _ inputs: [ValueFacts?]) {
        _ = try? bodyInference?(attribute, inputs, true)
    }

    /// The op's schema at the node's opset, nil when unknown.
    var schema: OpSchema? { op.schema }

    var inputCount: Int { given.count }

    /// True when input `i` is given (not omitted).
    func has(_ i: Int) -> Bool {
        if i < 64 { return given.contains(i) }
        return i < node.inputs.count && !node.inputs[i].isEmpty
    }

    /// Facts of a required input.
    func facts(_ i: Int) throws -> ValueFacts {
        guard has(i) else { throw InferenceFailure("input \(i) is missing") }
        guard let f = inputs[i], f.type != nil else {
            throw InferenceFailure("input \(i) ('\(node.inputs[i])') has an unknown type", kind: .unknownInput)
        }
        return f
    }

    /// Element type and dims of a tensor input (rank may be unknown). Read in place: no copy
    /// of the input's facts on the way.
    func tensor(_ i: Int) throws -> (ElementType, [SymDim?]?) {
        if has(i), let t = inputs.withUnsafeBufferPointer({ b -> (ElementType, [SymDim?]?)? in
            if case .tensor(let e, let d)? = b[i]?.type { return (e, d) }
            return nil
        }) { return t }
        let f = try facts(i)
        throw InferenceFailure("input \(i) ('\(node.inputs[i])') is not a tensor (\(f.type?.description ?? "?"))")
    }

    /// Element type of a tensor input.
    func elementType(_ i: Int) throws -> ElementType {
        if has(i), let e = inputs.withUnsafeBufferPointer({ b -> ElementType? in
            if case .tensor(let e, _)? = b[i]?.type { return e }
            return nil
        }) { return e }
        return try tensor(i).0
    }

    /// Whether input `i` has known contents (without copying them).
    func hasValue(_ i: Int) -> Bool {
        has(i) && inputs.withUnsafeBufferPointer { b in b[i]?.value != nil }
    }

    /// Dims of a tensor input whose rank must be known.
    func dims(_ i: Int) throws -> [SymDim?] {
        let (_, d) = try tensor(i)
        guard let d else { throw InferenceFailure("input \(i) ('\(node.inputs[i])') has an unknown rank", kind: .unknownInput) }
        return d
    }

    /// Known contents of an optional input (nil when absent or unknown).
    func value(_ i: Int) -> KnownValue? { has(i) ? inputs[i]?.value : nil }

    /// Known contents of a required input as symbolic integers.
    func intValues(_ i: Int) throws -> [SymDim] {
        guard let v = value(i)?.dims else {
            throw InferenceFailure("input \(i) ('\(has(i) ? node.inputs[i] : "")') has unknown contents", kind: .unknownInput)
        }
        return v
    }

    /// Known contents of a required input as constant integers.
    func constInts(_ i: Int) throws -> [Int64] {
        guard let v = value(i)?.constantInts else {
            throw InferenceFailure("input \(i) ('\(has(i) ? node.inputs[i] : "")') has unknown contents", kind: .unknownInput)
        }
        return v
    }

    // MARK: Attributes

    /// The attribute as given on the node (found by index: no copy of the other attributes).
    func attr(_ name: String) -> AttributeValue? {
        nodePointer.pointee.attributes.withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress else { return nil }
            for i in buf.indices where sameName(base[i].name, name) { return base[i].value }
            return nil
        }
    }

    /// The first attribute named `name`, matched in place by `read` (which takes only what
    /// it needs out of the value: no copy of a tensor or list it does not return). Read through
    /// the element pointer: the buffer's subscript copies the whole attribute.
    @inline(__always)
    func attr<R>(_ name: String, _ read: (borrowing AttributeValue) -> R?) -> R? {
        nodePointer.pointee.attributes.withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress else { return nil }
            for i in buf.indices where sameName(base[i].name, name) { return read(base[i].value) }
            return nil
        }
    }

    /// An int attribute as given on the node (nil when absent or not an int).
    func attrInt(_ name: String) -> Int64? {
        attr(name) { v in
            if case .int(let x) = v { return x }
            return nil
        }
    }

    /// The schema's default of an attribute the node leaves out.
    func schemaDefault(_ name: String) -> AttributeDefault? { op.attributeDefault(name) }

    /// An int attribute, else the schema's default; throws when neither exists.
    func int(_ name: String) throws -> Int64 {
        if let v = attrInt(name) { return v }
        if case .int(let v)? = schemaDefault(name) { return v }
        throw InferenceFailure("attribute '\(name)' is missing and has no default")
    }

    /// A float attribute, else the schema's default; throws when neither exists.
    func float(_ name: String) throws -> Double {
        if let v = attr(name)?.floatValue { return Double(v) }
        switch schemaDefault(name) {
        case .float(let v)?: return v
        case .int(let v)?: return Double(v)
        default: throw InferenceFailure("attribute '\(name)' is missing and has no default")
        }
    }

    /// An ints attribute, else the schema's default, else nil (many are optional without one).
    func ints(_ name: String) -> [Int64]? {
        if let v = attr(name, { v -> [Int64]? in
            if case .ints(let x) = v { return x }
            return nil
        }) { return v }
        if case .ints(let v)? = schemaDefault(name) { return v }
        return nil
    }

    /// A floats attribute, else the schema's default, else nil.
    func floats(_ name: String) -> [Double]? {
        if case .floats(let v)? = attr(name) { return v.map { Double($0) } }
        if case .floats(let v)? = schemaDefault(name) { return v }
        return nil
    }

    /// A string attribute, else the schema's default; throws when neither exists.
    func string(_ name: String) throws -> String {
        if let v = attr(name)?.stringValue { return v }
        if case .string(let v)? = schemaDefault(name) { return v }
        throw InferenceFailure("attribute '\(name)' is missing and has no default")
    }

    /// Normalizes a possibly negative axis against `rank`.
    func axis(_ a: Int64, rank: Int, what: String = "axis") throws -> Int {
        let r = Int64(rank)
        guard a >= -r && a < r else { throw InferenceFailure("\(what) \(a) is out of range for rank \(rank)") }
        return Int(a < 0 ? a + r : a)
    }
}

/// The given (non-empty) input positions of a node, as a bit set over the first 64 and a
/// count; positions from 64 on are read from the node itself.
struct InputPresence {
    /// The number of input positions (given or not).
    private(set) var count = 0
    private var bits: UInt64 = 0

    /// Adds the next position.
    @inline(__always)
    mutating func append(_ isGiven: Bool) {
        if isGiven && count < 64 { bits |= 1 << UInt64(count) }
        count += 1
    }

    /// Whether position `i` (< 64) is given.
    @inline(__always)
    func contains(_ i: Int) -> Bool { i >= 0 && i < count && bits & (1 << UInt64(i)) != 0 }
}

/// String equality that settles different lengths without the standard library's general
/// comparison (which unequal strings otherwise take): attribute, op and value names are
/// compared on every node.
@inline(__always)
func sameName(_ a: String, _ b: String) -> Bool { a.utf8.count == b.utf8.count && a == b }

/// Helpers shared by rules.
enum Shapes {
    /// Multidirectional (numpy) broadcasting of symbolic shapes.
    static func broadcast(_ a: [SymDim?], _ b: [SymDim?]) throws -> [SymDim?] {
        if a == b { return a }  // the common case (residual adds): no new array
        if b.count < a.count, b.allSatisfy({ $0?.intValue == 1 }) { return a }
        var out: [SymDim?] = []
        out.reserveCapacity(max(a.count, b.count))
        try broadcast(into: &out, a[...], b[...])
        return out
    }

    /// `broadcast(a, b)` appended to `out` (no intermediate arrays: MatMul's batch dims).
    static func broadcast(into out: inout [SymDim?], _ a: ArraySlice<SymDim?>, _ b: ArraySlice<SymDim?>) throws {
        if a.elementsEqual(b) || (b.count < a.count && b.allSatisfy({ $0?.intValueInline == 1 })) {
            out.append(contentsOf: a)
            return
        }
        let n = max(a.count, b.count)
        for i in 0..<n {
            let x = i < n - a.count ? SymDim?.some(SymDim(1)) : a[a.startIndex + i - (n - a.count)]
            let y = i < n - b.count ? SymDim?.some(SymDim(1)) : b[b.startIndex + i - (n - b.count)]
            out.append(try broadcastDim(x, y))
        }
    }

    static func broadcastDim(_ x: SymDim?, _ y: SymDim?) throws -> SymDim? {
        if let x, let y {
            if x == y { return x }
            if x.intValue == 1 { return y }
            if y.intValue == 1 { return x }
            if let a = x.intValue, let b = y.intValue {
                throw InferenceFailure("dimensions \(a) and \(b) do not broadcast")
            }
            // Different expressions: a valid model has them equal or one of them 1, so the
            // result is the larger; known only when one is provably at least the other
            // (`seq` against `min(128,seq)`). Zero-size against 1 is not modelled.
            let m = SymDim.maximum(x, y)
            return m == x || m == y ? m : nil
        }
        if let x, x.intValue != 1 { return x }  // the other is unknown: it is 1 or equal
        if let y, y.intValue != 1 { return y }
        return nil
    }

    /// Product of dims (nil when any is unknown).
    static func product(_ dims: ArraySlice<SymDim?>) -> SymDim? {
        var p = SymDim(1)
        for d in dims { guard let d else { return nil }; p = p * d }
        return p
    }

    /// `product(dims)?.intValue` without building the symbolic product: constant when every
    /// dim is (or one is 0), else nil. A product with a non-constant factor is non-constant
    /// unless coefficients wrap, so where they might (a bound on them overflows) the symbolic
    /// product decides.
    static func productValue(_ dims: ArraySlice<SymDim?>) -> Int64? {
        var ints: Int64 = 1, bound: UInt64 = 1
        var symbolic = false, zero = false, overflow = false
        for d in dims {
            guard let d else { return nil }
            var size: UInt64
            switch d.repr {
            case .int(let v):
                if v == 0 { zero = true }
                ints = ints &* v
                size = v.magnitude
            case .poly(let ts):
                symbolic = true
                size = 0
                for t in ts {
                    let (s, o) = size.addingReportingOverflow(t.coeff.magnitude)
                    size = s
                    overflow = overflow || o
                }
            }
            let (b, o) = bound.multipliedReportingOverflow(by: size)
            bound = b
            overflow = overflow || o || b > UInt64(Int64.max)
        }
        if zero { return 0 }
        if !symbolic { return ints }
        return overflow ? product(dims)?.intValue : nil
    }

    /// Static element count of a fully known shape.
    static func count(_ dims: [SymDim?]) -> Int? {
        var n = 1
        for d in dims {
            guard let v = d?.intValue, v >= 0, v <= Int64(maxKnownElements) else { return nil }
            n *= Int(v)
            if n > maxKnownElements { return nil }
        }
        return n
    }

    /// Symbolic dims of a tensor's fixed shape. A 1-D shape of up to 64 elements (every
    /// int64 shape initializer, every bias) is one of a few constant arrays, shared: a retain
    /// instead of a fresh array per initializer.
    static func dims(_ xs: [Int64]) -> [SymDim?] {
        if xs.count == 1, xs[0] >= 0, xs[0] < Int64(vectorShapes.count) { return vectorShapes[Int(xs[0])] }
        return xs.map { SymDim($0) }
    }

    /// `[n]` for n in 0...64, built once (a constant table, like the rule table).
    static let vectorShapes: [[SymDim?]] = (0...64).map { [SymDim(Int64($0))] }

    /// Whether an element type is integral (contents kept as `SymDim`).
    static func isIntegral(_ e: ElementType) -> Bool {
        switch e {
        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64, .bool, .int4, .uint4, .int2, .uint2:
            return true
        default: return false
        }
    }

    static func isFloating(_ e: ElementType) -> Bool {
        switch e {
        case .float, .double, .float16, .bfloat16: return true
        default: return false
        }
    }
}
