/// Reading symbolic dimensions from text and crossing the boundary to `GraphIR.Dim` (see
/// SymDim.swift for why expressions stay out of GraphIR). Grammar: sums and differences of
/// products and floor quotients (`/`) of integers, identifiers, `max(a,b)`, `min(a,b)` and
/// parenthesized expressions — the form `SymDim.description` prints.
import GraphIR

extension SymDim {
    /// Parses `2*seq`, `(H-3)/2+1`, `max(a,b)`; nil when the text is not such an expression.
    public init?(parsing text: String) {
        var p = SymParser(Array(text.utf8))
        guard let d = p.sum(), p.atEnd else { return nil }
        self = d
    }

    /// From a file's dimension: `known` is the integer; `symbolic` text is parsed as an expression
    /// when it is one (what `dim` wrote), else it names one symbol; `unknown` gives nil.
    public init?(_ dim: Dim) {
        switch dim {
        case .known(let v): self.init(v)
        case .symbolic(let s):
            let isExpression = s.utf8.contains { $0 == 43 || $0 == 45 || $0 == 42 || $0 == 47 || $0 == 40 }
            if isExpression, let e = SymDim(parsing: s) { self = e } else { self = .symbol(s) }
        case .unknown: return nil
        }
    }

    /// The file form: an integer, a symbol, or an expression's text as the symbol's name.
    public var dim: Dim {
        if let v = intValue { return .known(v) }
        return .symbolic(symbolName ?? description)
    }
}

/// Recursive-descent parser over UTF-8 bytes.
struct SymParser {
    let s: [UInt8]
    var i = 0
    var depth = 0
    init(_ s: [UInt8]) { self.s = s }

    var atEnd: Bool { mutating get { skipSpace(); return i == s.count } }

    mutating func skipSpace() { while i < s.count, s[i] == 32 { i += 1 } }

    mutating func eat(_ c: UInt8) -> Bool {
        skipSpace()
        if i < s.count, s[i] == c { i += 1; return true }
        return false
    }

    mutating func sum() -> SymDim? {
        depth += 1
        defer { depth -= 1 }
        if depth > 64 { return nil }
        var neg = eat(45)  // leading '-'
        guard var acc = product() else { return nil }
        if neg { acc = -acc }
        while true {
            if eat(43) { neg = false } else if eat(45) { neg = true } else { return acc }
            guard let t = product() else { return nil }
            acc = neg ? acc - t : acc + t
        }
    }

    mutating func product() -> SymDim? {
        guard var acc = factor() else { return nil }
        while true {
            if eat(42) {
                guard let f = factor() else { return nil }
                acc = acc * f
            } else if eat(47) {
                guard let f = factor(), let q = acc.floorDiv(f) else { return nil }
                acc = q
            } else { return acc }
        }
    }

    mutating func factor() -> SymDim? {
        skipSpace()
        guard i < s.count else { return nil }
        if eat(40) {
            guard let e = sum(), eat(41) else { return nil }
            return e
        }
        if s[i] >= 48 && s[i] <= 57 {
            var v: Int64 = 0
            while i < s.count, s[i] >= 48 && s[i] <= 57 {
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(s[i] - 48))
                if o1 || o2 { return nil }
                v = a; i += 1
            }
            return SymDim(v)
        }
        guard isIdentStart(s[i]) else { return nil }
        let start = i
        while i < s.count, isIdentStart(s[i]) || (s[i] >= 48 && s[i] <= 57) || s[i] == 46 { i += 1 }
        let name = String(decoding: s[start..<i], as: UTF8.self)
        if name == "max" || name == "min" {
            guard eat(40), let a = sum(), eat(44), let b = sum(), eat(41) else { return nil }
            return name == "max" ? SymDim.maximum(a, b) : SymDim.minimum(a, b)
        }
        return .symbol(name)
    }

    func isIdentStart(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 }
}
