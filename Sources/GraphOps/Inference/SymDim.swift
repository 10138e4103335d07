/// Symbolic dimensions: integers, named symbols and integer expressions over them, kept in one
/// normalized form so that equal expressions compare equal (`seq*2 == 2*seq`,
/// `(2*seq)/2 == seq`, `batch*seq == seq*batch`).
///
/// Why a separate type instead of a new `GraphIR.Dim` case: `Dim` is what a file can say (ONNX
/// `dim_value` / `dim_param`), and every reader, writer, renderer and estimator switches over it.
/// An expression is something inference derives, with arithmetic, normalization and
/// substitution that GraphIR has no use for. So expressions live here and cross the boundary
/// as text: `SymDim.dim` turns an expression into `Dim.symbolic("2*seq")` (exactly what ONNX
/// writes as `dim_param`), and `SymDim(_ dim:)` parses such text back, so a model exported
/// with inferred shapes reads back into the same expressions.
///
/// Normal form: a sum of terms, each an integer coefficient times a sorted product of atoms.
/// An atom is a named symbol or an operation that does not distribute: floor division
/// (ceil division and modulo are written through it: `ceil(a/b) = -floor(-a/b)`,
/// `a mod b = a - b*floor(a/b)`), `max` and `min`. A constant is stored as a plain integer.
/// Arithmetic wraps on overflow rather than trapping: inference must never crash on hostile
/// input, and a wrapped size shows up as a negative dimension, which the engine reports.

/// One dimension as inference knows it (see the file header for the normal form).
public struct SymDim: Hashable, Sendable, Comparable, CustomStringConvertible {
    enum Repr: Hashable, Sendable {
        case int(Int64)
        case poly([SymTerm])  // normalized: sorted, no zero coefficients, never a lone constant
    }
    let repr: Repr

    init(repr: Repr) { self.repr = repr }

    /// A fixed size.
    public init(_ value: Int64) { repr = .int(value) }

    /// A named symbol (`batch`, `seq`).
    public static func symbol(_ name: String) -> SymDim {
        SymDim(repr: .poly([SymTerm(atoms: [.symbol(name)], coeff: 1)]))
    }

    /// The integer value when the dimension is a constant. (Not inlined: the Swift 6.3 release
    /// optimizer's copy propagation crashes on some callers when it is.)
    public var intValue: Int64? {
        @inline(never) get { intValueInline }
    }

    var intValueInline: Int64? {
        if case .int(let v) = repr { return v }
        return nil
    }

    /// The symbol's name when the dimension is exactly one named symbol.
    public var symbolName: String? {
        if case .poly(let ts) = repr, ts.count == 1, ts[0].coeff == 1, ts[0].atoms.count == 1,
           case .symbol(let s) = ts[0].atoms[0] { return s }
        return nil
    }

    /// Every symbol name the expression mentions.
    public var symbols: Set<String> {
        var out = Set<String>()
        collectSymbols(into: &out)
        return out
    }

    func collectSymbols(into out: inout Set<String>) {
        guard case .poly(let ts) = repr else { return }
        for t in ts { for a in t.atoms { a.collectSymbols(into: &out) } }
    }

    /// Builds the normal form from (possibly unsorted, unmerged) terms: sorted (atoms first),
    /// so equal products sit side by side and merge in one pass (no hashing of atom lists).
    static func normalized(_ terms: [SymTerm]) -> SymDim {
        var sorted: [SymTerm] = []
        sorted.reserveCapacity(terms.count)
        for t in terms where t.coeff != 0 {
            sorted.append(t.atoms.count > 1 ? SymTerm(atoms: t.atoms.sorted(), coeff: t.coeff) : t)
        }
        if sorted.count > 1 { sorted.sort() }
        var out: [SymTerm] = []
        out.reserveCapacity(sorted.count)
        for t in sorted {
            if let last = out.last, last.atoms == t.atoms {
                out[out.count - 1].coeff &+= t.coeff
            } else {
                if let last = out.last, last.coeff == 0 { out.removeLast() }
                out.append(t)
            }
        }
        if let last = out.last, last.coeff == 0 { out.removeLast() }
        if out.isEmpty { return SymDim(0) }
        if out.count == 1, out[0].atoms.isEmpty { return SymDim(out[0].coeff) }
        return SymDim(repr: .poly(out))
    }

    /// The terms (a constant is one term without atoms).
    var terms: [SymTerm] {
        switch repr {
        case .int(let v): return v == 0 ? [] : [SymTerm(atoms: [], coeff: v)]
        case .poly(let ts): return ts
        }
    }

    // MARK: Arithmetic

    public static func + (a: SymDim, b: SymDim) -> SymDim {
        if case .int(let x) = a.repr, case .int(let y) = b.repr { return SymDim(x &+ y) }
        return normalized(a.terms + b.terms)
    }

    public static prefix func - (a: SymDim) -> SymDim {
        switch a.repr {
        case .int(let v): return SymDim(0 &- v)
        case .poly(let ts): return SymDim(repr: .poly(ts.map { SymTerm(atoms: $0.atoms, coeff: 0 &- $0.coeff) }))
        }
    }

    public static func - (a: SymDim, b: SymDim) -> SymDim {
        if case .int(let x) = a.repr, case .int(let y) = b.repr { return SymDim(x &- y) }
        return a + (-b)
    }

    public static func * (a: SymDim, b: SymDim) -> SymDim {
        if case .int(let x) = a.repr, case .int(let y) = b.repr { return SymDim(x &* y) }
        if a.intValue == 0 || b.intValue == 0 { return SymDim(0) }
        var out: [SymTerm] = []
        for s in a.terms { for t in b.terms { out.append(SymTerm(atoms: s.atoms + t.atoms, coeff: s.coeff &* t.coeff)) } }
        return normalized(out)
    }

    /// Floor division (ONNX conv/pool output sizes); `nil` for a zero divisor.
    public func floorDiv(_ d: SymDim) -> SymDim? {
        if let y = d.intValue {
            if y == 0 { return nil }
            if let x = intValue { return SymDim(SymDim.floorDivide(x, y)) }
            if y == 1 { return self }
            if y == -1 { return -self }
            if y > 0, let nested = nestedQuotient(by: y) { return nested }
            if y > 0 {
                // Terms whose coefficients y divides come out exactly; a leftover constant
                // folds in when no other term remains in the numerator.
                var exact: [SymTerm] = [], rest: [SymTerm] = []
                for t in terms {
                    if t.coeff % y == 0 { exact.append(SymTerm(atoms: t.atoms, coeff: t.coeff / y)) } else { rest.append(t) }
                }
                if rest.isEmpty { return SymDim.normalized(exact) }
                if rest.count == 1, rest[0].atoms.isEmpty {
                    return SymDim.normalized(exact) + SymDim(SymDim.floorDivide(rest[0].coeff, y))
                }
                if !exact.isEmpty {
                    // floor((p*y + r)/y) = p + floor(r/y) when p is an integer expression.
                    let q = SymDim.normalized(exact)
                    let r = SymDim.normalized(rest)
                    return q + SymDim.atom(.floorDiv(r, d))
                }
            }
        }
        if self == d { return SymDim(1) }
        if d.intValue == nil, let q = exactDiv(d) { return q }
        return SymDim.atom(.floorDiv(self, d))
    }

    /// `floor((floor(x/a) + k)/y) = floor((x + k*a)/(a*y))` for positive constants `a`, `y`:
    /// chains of strided convolutions collapse into one quotient, so equal sizes reached by
    /// different paths compare equal.
    func nestedQuotient(by y: Int64) -> SymDim? {
        guard case .poly(let ts) = repr else { return nil }
        var inner: (SymDim, Int64)?
        var k: Int64 = 0
        for t in ts {
            if t.atoms.isEmpty { k = t.coeff; continue }
            guard inner == nil, t.coeff == 1, t.atoms.count == 1, case .floorDiv(let x, let a) = t.atoms[0],
                  let av = a.intValue, av > 0 else { return nil }
            inner = (x, av)
        }
        guard let (x, a) = inner else { return nil }
        let (ay, o) = a.multipliedReportingOverflow(by: y)
        if o { return nil }
        return (x + SymDim(k &* a)).floorDiv(SymDim(ay))
    }

    /// Ceiling division: `-floor(-a/b)`.
    public func ceilDiv(_ d: SymDim) -> SymDim? {
        guard let q = (-self).floorDiv(d) else { return nil }
        return -q
    }

    /// Remainder with the divisor's sign (Python `%`): `a - b*floor(a/b)`.
    public func mod(_ d: SymDim) -> SymDim? {
        guard let q = floorDiv(d) else { return nil }
        return self - d * q
    }

    /// True when the expression is provably >= 0 given that every symbol is a size (>= 0):
    /// non-negative coefficients over symbols and non-negative quotients, maxima and minima.
    public var isNonNegative: Bool {
        switch repr {
        case .int(let v): return v >= 0
        case .poly(let ts):
            for t in ts {
                guard t.coeff > 0 else { return false }
                for a in t.atoms {
                    switch a {
                    case .symbol: continue
                    case .floorDiv(let x, let y): if !(x.isNonNegative && y.isNonNegative) { return false }
                    case .max(let x, let y): if !(x.isNonNegative || y.isNonNegative) { return false }
                    case .min(let x, let y): if !(x.isNonNegative && y.isNonNegative) { return false }
                    }
                }
            }
            return true
        }
    }

    /// Exact quotient when `d` is one term (`c*atoms`) dividing every term; nil otherwise.
    /// Reshape's `-1` needs it: `(batch*seq*768)/(batch*12)` is `64*seq`.
    public func exactDiv(_ d: SymDim) -> SymDim? {
        let dt = d.terms
        guard dt.count == 1, dt[0].coeff != 0 else { return nil }
        let c = dt[0].coeff
        var out: [SymTerm] = []
        for t in terms {
            guard t.coeff % c == 0 else { return nil }
            var atoms = t.atoms
            for a in dt[0].atoms {
                guard let i = atoms.firstIndex(of: a) else { return nil }
                atoms.remove(at: i)
            }
            out.append(SymTerm(atoms: atoms, coeff: c == -1 ? 0 &- t.coeff : t.coeff / c))
        }
        return SymDim.normalized(out)
    }

    /// The larger of two sizes (folded when their difference is a constant or provably
    /// non-negative, symbols being sizes).
    public static func maximum(_ a: SymDim, _ b: SymDim) -> SymDim {
        let diff = a - b
        if let k = diff.intValue { return k >= 0 ? a : b }
        if diff.isNonNegative { return a }
        if (-diff).isNonNegative { return b }
        // max(p, min(p, q)) = p
        if case .min(let p, let q)? = b.singleAtom, p == a || q == a { return a }
        if case .min(let p, let q)? = a.singleAtom, p == b || q == b { return b }
        return atom(.max(Swift.min(a, b), Swift.max(a, b)))
    }

    /// The smaller of two sizes (folded when their difference is a constant).
    public static func minimum(_ a: SymDim, _ b: SymDim) -> SymDim {
        let diff = a - b
        if let k = diff.intValue { return k <= 0 ? a : b }
        if diff.isNonNegative { return b }
        if (-diff).isNonNegative { return a }
        // min(p, max(p, q)) = p
        if case .max(let p, let q)? = b.singleAtom, p == a || q == a { return a }
        if case .max(let p, let q)? = a.singleAtom, p == b || q == b { return b }
        return atom(.min(Swift.min(a, b), Swift.max(a, b)))
    }

    /// The atom when the expression is exactly one atom with coefficient 1.
    var singleAtom: SymAtom? {
        if case .poly(let ts) = repr, ts.count == 1, ts[0].coeff == 1, ts[0].atoms.count == 1 { return ts[0].atoms[0] }
        return nil
    }

    /// True when the two sizes provably differ (their difference is a non-zero constant, or
    /// at least 1 given that symbols are sizes).
    public func provablyDiffers(from b: SymDim) -> Bool {
        let d = self - b
        if let k = d.intValue { return k != 0 }
        return (d - SymDim(1)).isNonNegative || (-d - SymDim(1)).isNonNegative
    }

    static func atom(_ a: SymAtom) -> SymDim { SymDim(repr: .poly([SymTerm(atoms: [a], coeff: 1)])) }

    /// Python-style floor division of integers (the divisor is non-zero).
    static func floorDivide(_ x: Int64, _ y: Int64) -> Int64 {
        if y == -1 { return 0 &- x }
        let q = x / y
        return (x % y != 0 && ((x < 0) != (y < 0))) ? q - 1 : q
    }

    // MARK: Substitution

    /// Replaces bound symbols by their values and renormalizes; unbound symbols stay.
    public func substituting(_ bindings: [String: SymDim]) -> SymDim {
        guard case .poly(let ts) = repr, !bindings.isEmpty else { return self }
        var sum = SymDim(0)
        for t in ts {
            var p = SymDim(t.coeff)
            for a in t.atoms { p = p * a.substituting(bindings) }
            sum = sum + p
        }
        return sum
    }

    // MARK: Order and text

    public static func < (a: SymDim, b: SymDim) -> Bool {
        switch (a.repr, b.repr) {
        case (.int(let x), .int(let y)): return x < y
        case (.int, .poly): return true
        case (.poly, .int): return false
        case (.poly(let x), .poly(let y)): return x.lexicographicallyPrecedes(y)
        }
    }

    /// Text such as `2*seq`, `(H-3)/2+1`, `batch*seq`; `/` is floor division. `SymDim(parsing:)`
    /// reads it back.
    public var description: String {
        switch repr {
        case .int(let v): return String(v)
        case .poly(let ts):
            // Constant last reads naturally: `(H-3)/2+1`.
            var ordered = ts.filter { !$0.atoms.isEmpty }
            ordered.append(contentsOf: ts.filter { $0.atoms.isEmpty })
            var s = ""
            for (i, t) in ordered.enumerated() {
                let wrap = t.atoms.count > 1 || abs(t.coeff) != 1
                let body = t.atoms.map { a -> String in
                    if wrap, case .floorDiv = a { return "(\(a))" }
                    return a.description
                }.joined(separator: "*")
                let mag = t.coeff == Int64.min ? "9223372036854775808" : String(abs(t.coeff))
                let text = t.atoms.isEmpty ? mag : (abs(t.coeff) == 1 ? body : mag + "*" + body)
                if i == 0 { s += (t.coeff < 0 ? "-" : "") + text } else { s += (t.coeff < 0 ? "-" : "+") + text }
            }
            return s
        }
    }

    /// True when the printed form needs parentheses as an operand of `*` or `/`.
    var isCompound: Bool {
        guard case .poly(let ts) = repr else { return intValue.map { $0 < 0 } ?? false }
        return ts.count > 1 || ts[0].coeff < 0
    }
}

/// One term of a sum: coefficient times a product of atoms (empty for the constant).
struct SymTerm: Hashable, Sendable, Comparable {
    var atoms: [SymAtom]
    var coeff: Int64

    static func < (a: SymTerm, b: SymTerm) -> Bool {
        if a.atoms != b.atoms {
            if a.atoms.count != b.atoms.count { return a.atoms.count > b.atoms.count }
            return a.atoms.lexicographicallyPrecedes(b.atoms)
        }
        return a.coeff < b.coeff
    }
}

/// A factor that does not distribute over sums.
indirect enum SymAtom: Hashable, Sendable, Comparable, CustomStringConvertible {
    case symbol(String)
    case floorDiv(SymDim, SymDim)
    case max(SymDim, SymDim)
    case min(SymDim, SymDim)

    var rank: Int {
        switch self {
        case .symbol: return 0
        case .floorDiv: return 1
        case .max: return 2
        case .min: return 3
        }
    }

    var operands: (SymDim, SymDim)? {
        switch self {
        case .symbol: return nil
        case .floorDiv(let a, let b), .max(let a, let b), .min(let a, let b): return (a, b)
        }
    }

    static func < (a: SymAtom, b: SymAtom) -> Bool {
        if a.rank != b.rank { return a.rank < b.rank }
        if case .symbol(let x) = a, case .symbol(let y) = b { return x < y }
        guard let (a0, a1) = a.operands, let (b0, b1) = b.operands else { return false }
        return a0 != b0 ? a0 < b0 : a1 < b1
    }

    func collectSymbols(into out: inout Set<String>) {
        if case .symbol(let s) = self { out.insert(s); return }
        if let (x, y) = operands { x.collectSymbols(into: &out); y.collectSymbols(into: &out) }
    }

    func substituting(_ bindings: [String: SymDim]) -> SymDim {
        switch self {
        case .symbol(let s): return bindings[s] ?? SymDim.atom(self)
        case .floorDiv(let x, let y):
            let nx = x.substituting(bindings), ny = y.substituting(bindings)
            return nx.floorDiv(ny) ?? SymDim.atom(.floorDiv(nx, ny))
        case .max(let x, let y): return SymDim.maximum(x.substituting(bindings), y.substituting(bindings))
        case .min(let x, let y): return SymDim.minimum(x.substituting(bindings), y.substituting(bindings))
        }
    }

    var description: String {
        func operand(_ d: SymDim) -> String { d.isCompound ? "(\(d))" : d.description }
        switch self {
        case .symbol(let s): return s
        case .floorDiv(let x, let y): return "\(operand(x))/\(operand(y))"
        case .max(let x, let y): return "max(\(x),\(y))"
        case .min(let x, let y): return "min(\(x),\(y))"
        }
    }
}
