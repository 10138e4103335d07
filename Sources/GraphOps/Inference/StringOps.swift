/// Rules for string and text ops (StringNormalizer, StringConcat, StringSplit, RegexFullMatch,
/// TfIdfVectorizer) and ImageDecoder. Sizes that depend on the data (stop words removed, the
/// number of substrings, a decoded image's size) stay unknown; rank and type are known.
import GraphIR

enum StringRules {
    static func register(_ t: inout [String: InferenceRule]) {
        t["StringNormalizer"] = stringNormalizer
        t["StringConcat"] = stringConcat
        t["StringSplit"] = stringSplit
        t["RegexFullMatch"] = regexFullMatch
        t["TfIdfVectorizer"] = tfIdfVectorizer
        t["ImageDecoder"] = imageDecoder
    }

    static func stringInput(_ c: RuleContext, _ i: Int) throws -> [SymDim?]? {
        let (e, d) = try c.tensor(i)
        guard e == .string else { throw InferenceFailure("input \(i) is \(e.name), expected string") }
        return d
    }

    /// `[C]` or `[1, C]`; stop words may remove entries, so C' is unknown.
    static func stringNormalizer(_ c: RuleContext) throws -> [ValueFacts?] {
        guard let d = try stringInput(c, 0) else { return [.tensor(.string, nil)] }
        switch d.count {
        case 1: return [.tensor(.string, [nil])]
        case 2:
            guard d[0]?.intValue ?? 1 == 1 else { throw InferenceFailure("input is [\(d[0]?.description ?? "?"), C], expected [1, C]") }
            return [.tensor(.string, [SymDim(1), nil])]
        default: throw InferenceFailure("input has rank \(d.count), expected [C] or [1, C]")
        }
    }

    static func stringConcat(_ c: RuleContext) throws -> [ValueFacts?] {
        guard let a = try stringInput(c, 0), let b = try stringInput(c, 1) else { return [.tensor(.string, nil)] }
        return [.tensor(.string, try Shapes.broadcast(a, b))]
    }

    /// Substrings `[..., k]` with k the most substrings of any element (unknown); counts have
    /// the input's shape.
    static func stringSplit(_ c: RuleContext) throws -> [ValueFacts?] {
        let d = try stringInput(c, 0)
        return [.tensor(.string, d.map { $0 + [nil] }), .tensor(.int64, d)]
    }

    static func regexFullMatch(_ c: RuleContext) throws -> [ValueFacts?] {
        [.tensor(.bool, try stringInput(c, 0))]
    }

    /// `[C]` gives `[max(ngram_indexes)+1]`, `[N, C]` gives `[N, max(ngram_indexes)+1]`.
    static func tfIdfVectorizer(_ c: RuleContext) throws -> [ValueFacts?] {
        let (_, d) = try c.tensor(0)
        guard let indexes = c.ints("ngram_indexes"), let top = indexes.max() else {
            throw InferenceFailure("attribute 'ngram_indexes' is missing or empty")
        }
        guard indexes.allSatisfy({ $0 >= 0 }), top < Int64.max else {
            throw InferenceFailure("ngram_indexes \(indexes) must be non-negative slots below 2^63 - 1")
        }
        let width = SymDim(top + 1)
        guard let d else { return [.tensor(.float, nil)] }
        switch d.count {
        case 1: return [.tensor(.float, [width])]
        case 2: return [.tensor(.float, [d[0], width])]
        default: throw InferenceFailure("input has rank \(d.count), expected 1 or 2")
        }
    }

    /// A decoded image `[H, W, C]`: its size comes from the encoded bytes.
    static func imageDecoder(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, _) = try c.tensor(0)
        guard e == .uint8 else { throw InferenceFailure("input is \(e.name), expected uint8") }
        return [.tensor(.uint8, [nil, nil, nil])]
    }
}
