/// Kernels over string tensors (elements held as UTF-8 bytes in `RuntimeTensor.strings`):
/// Equal on strings, StringConcat, StringSplit, RegexFullMatch, StringNormalizer,
/// TfIdfVectorizer (over strings or integers) and the ai.onnx.ml LabelEncoder.
import Foundation
import GraphIR

enum StringKernels {
    /// The string elements of input `i`, refusing other types.
    static func strings(_ io: KernelIO, _ i: Int) throws -> (RuntimeTensor, [[UInt8]]) {
        let t = try io.input(i)
        guard let s = t.strings else { throw KernelError("input \(i) is \(t.elementType.name), expected string") }
        return (t, s)
    }

    /// Equal of two string tensors, with broadcasting (bytes compared exactly).
    static func equal(_ a: RuntimeTensor, _ b: RuntimeTensor, _ io: inout KernelIO) throws {
        guard let sa = a.strings, let sb = b.strings else { throw KernelError("Equal compares a string with a non-string tensor") }
        let y = try io.output(0, .bool, try Shapes.broadcast(a.shape, b.shape))
        Shapes.forEachBroadcast(a.shape, b.shape, to: y.shape) { i, ia, ib in
            y.raw.storeBytes(of: sa[ia] == sb[ib] ? 1 : 0, toByteOffset: i, as: UInt8.self)
        }
    }

    static let concat: Kernel = { io in
        let (a, sa) = try strings(io, 0), (b, sb) = try strings(io, 1)
        let shape = try Shapes.broadcast(a.shape, b.shape)
        var out = [[UInt8]](repeating: [], count: shape.reduce(1, *))
        Shapes.forEachBroadcast(a.shape, b.shape, to: shape) { i, ia, ib in out[i] = sa[ia] + sb[ib] }
        io.setOutput(0, RuntimeTensor(strings: out, shape: shape))
    }

    /// StringSplit: substrings padded with "" to the longest split, and their counts. No
    /// delimiter (or an empty one) splits on runs of whitespace, dropping empty ends.
    static func split(_ node: Node) -> Kernel {
        let delimiter = node.attribute("delimiter")?.stringValue ?? ""
        // A negative maxsplit means no limit, as in Python's str.split.
        let maxsplit = node.attribute("maxsplit")?.intValue.map { $0 < 0 ? Int.max : Int($0) }
        return { io in
            let (x, sx) = try strings(io, 0)
            let parts: [[String]] = sx.map { bytes in
                let text = String(decoding: bytes, as: UTF8.self)
                if delimiter.isEmpty {
                    return text.split(maxSplits: maxsplit ?? Int.max, omittingEmptySubsequences: true,
                                      whereSeparator: { $0.isWhitespace }).map(String.init)
                }
                var out: [String] = [], rest = Substring(text), splits = 0
                while let r = rest.range(of: delimiter), maxsplit.map({ splits < $0 }) ?? true {
                    out.append(String(rest[..<r.lowerBound])); rest = rest[r.upperBound...]; splits += 1
                }
                out.append(String(rest))
                return out
            }
            let width = parts.map(\.count).max() ?? 0
            var flat: [[UInt8]] = []
            flat.reserveCapacity(parts.count * width)
            for p in parts { for k in 0..<width { flat.append(k < p.count ? Array(p[k].utf8) : []) } }
            io.setOutput(0, RuntimeTensor(strings: flat, shape: x.shape + [width]))
            let n = try io.output(1, .int64, x.shape)
            for (i, p) in parts.enumerated() { n.setDouble(Double(p.count), at: i) }
        }
    }

    /// RegexFullMatch: true where the whole string matches `pattern` (ICU syntax, which
    /// agrees with RE2 on the common subset).
    static func regexFullMatch(_ node: Node) throws -> Kernel {
        let pattern = node.attribute("pattern")?.stringValue ?? ""
        let regex: NSRegularExpression
        do { regex = try NSRegularExpression(pattern: pattern) } catch {
            throw KernelError("pattern '\(pattern)' is not a valid regular expression")
        }
        return { io in
            let (x, sx) = try strings(io, 0)
            let y = try io.output(0, .bool, x.shape)
            for (i, bytes) in sx.enumerated() {
                let text = String(decoding: bytes, as: UTF8.self)
                let range = NSRange(text.startIndex..., in: text)
                let m = regex.firstMatch(in: text, options: [.anchored], range: range)
                y.raw.storeBytes(of: m.map { $0.range == range } ?? false ? 1 : 0, toByteOffset: i, as: UInt8.self)
            }
        }
    }

    /// StringNormalizer: drops elements equal to a stop word (ignoring case unless
    /// is_case_sensitive), changes case, keeps [C] or [1, C] (one "" when nothing is left).
    static func normalizer(_ node: Node) -> Kernel {
        let action = node.string("case_change_action", "NONE")
        let sensitive = node.int("is_case_sensitive", 0) != 0
        var stops: [String] = []
        if case .strings(let s)? = node.attribute("stopwords") { stops = s.map { String(decoding: $0, as: UTF8.self) } }
        let stopSet = Set(sensitive ? stops : stops.map { $0.lowercased() })
        return { io in
            let (x, sx) = try strings(io, 0)
            guard x.shape.count == 1 || (x.shape.count == 2 && x.shape[0] == 1) else {
                throw KernelError("input must be [C] or [1, C], got \(x.shape)")
            }
            var kept: [[UInt8]] = []
            for bytes in sx {
                let text = String(decoding: bytes, as: UTF8.self)
                if stopSet.contains(sensitive ? text : text.lowercased()) { continue }
                switch action {
                case "LOWER": kept.append(Array(text.lowercased().utf8))
                case "UPPER": kept.append(Array(text.uppercased().utf8))
                default: kept.append(bytes)
                }
            }
            if kept.isEmpty { kept = [[]] }
            io.setOutput(0, RuntimeTensor(strings: kept, shape: x.shape.count == 2 ? [1, kept.count] : [kept.count]))
        }
    }

    /// ai.onnx.ml LabelEncoder: maps each key to its value (strings, int64s, floats or a
    /// tensor of either), unknown keys to the default.
    static func labelEncoder(_ node: Node) throws -> Kernel {
        enum Key: Hashable { case s([UInt8]), i(Int64), f(Float) }
        func values(_ prefix: String) throws -> (keys: [Key], type: ElementType)? {
            switch node.attribute("\(prefix)_strings") {
            case .strings(let s)?: return (s.map(Key.s), .string)
            default: break
            }
            if let v = node.attribute("\(prefix)_int64s")?.intsValue { return (v.map(Key.i), .int64) }
            if case .floats(let v)? = node.attribute("\(prefix)_floats") { return (v.map(Key.f), .float) }
            if case .tensor(let t)? = node.attribute("\(prefix)_tensor") {
                if t.elementType == .string { return (try t.stringValues().map(Key.s), .string) }
                if t.elementType == .float || t.elementType == .double {
                    return (try t.doubleValues().map { Key.f(Float($0)) }, t.elementType)
                }
                return (try t.int64Values().map(Key.i), t.elementType)
            }
            return nil
        }
        guard let keys = try values("keys"), let vals = try values("values"), keys.keys.count == vals.keys.count else {
            throw KernelError("LabelEncoder needs keys and values of equal length")
        }
        let table = Dictionary(zip(keys.keys, vals.keys), uniquingKeysWith: { a, _ in a })
        var given: Key?
        if case .tensor(let t)? = node.attribute("default_tensor") {
            if t.elementType == .string { given = try t.stringValues().first.map(Key.s) }
            else if t.elementType == .float || t.elementType == .double { given = try t.doubleValues().first.map { Key.f(Float($0)) } }
            else { given = try t.int64Values().first.map(Key.i) }
        }
        let fallback: Key
        if let given { fallback = given } else {
            switch vals.type {
            case .string: fallback = .s(Array((node.attribute("default_string")?.stringValue ?? "_Unused").utf8))
            case .float, .double: fallback = .f(node.attribute("default_float")?.floatValue ?? -0.0)
            default: fallback = .i(node.attribute("default_int64")?.intValue ?? -1)
            }
        }
        let outType = RuntimeElement.stored(vals.type)
        return { io in
            let x = try io.input(0)
            let inputKeys: [Key]
            if let s = x.strings { inputKeys = s.map(Key.s) }
            else if x.elementType == .float || x.elementType == .double { inputKeys = (0..<x.count).map { Key.f(Float(x.double(at: $0))) } }
            else { inputKeys = x.int64Values().map(Key.i) }
            let mapped = inputKeys.map { table[$0] ?? fallback }
            if outType == .string {
                io.setOutput(0, RuntimeTensor(strings: mapped.map { if case .s(let b) = $0 { return b }; return [] }, shape: x.shape))
                return
            }
            let y = try io.output(0, outType, x.shape)
            for (i, k) in mapped.enumerated() {
                switch k {
                case .i(let v): y.setDouble(Double(v), at: i)
                case .f(let v): y.setDouble(Double(v), at: i)
                case .s: y.setDouble(0, at: i)
                }
            }
        }
    }

    /// TfIdfVectorizer: counts the pool's n-grams (lengths min_gram_length...max_gram_length,
    /// items up to max_skip_count apart) in each row, into the slots ngram_indexes names, then
    /// weighs them (TF: counts, IDF: presence x weight, TFIDF: count x weight).
    static func tfidf(_ node: Node) throws -> Kernel {
        enum Item: Hashable { case s([UInt8]), i(Int64) }
        let minN = node.int("min_gram_length", 1), maxGram = node.int("max_gram_length", 1)
        let maxSkip = node.int("max_skip_count", 0), mode = node.string("mode", "TF")
        guard maxSkip >= 0, maxSkip < 1 << 20 else { throw KernelError("max_skip_count \(maxSkip) is out of range") }
        let counts = node.ints("ngram_counts") ?? [], indexes = node.ints("ngram_indexes") ?? []
        var weights: [Float] = []
        if case .floats(let w)? = node.attribute("weights") { weights = w }
        let pool: [Item]
        if case .strings(let s)? = node.attribute("pool_strings") { pool = s.map(Item.s) }
        else { pool = (node.attribute("pool_int64s")?.intsValue ?? []).map(Item.i) }
        guard minN >= 1, maxGram >= minN, !counts.isEmpty else { throw KernelError("TfIdfVectorizer needs 1 <= min_gram_length <= max_gram_length and ngram_counts") }
        guard indexes.allSatisfy({ $0 >= 0 && $0 < 1 << 40 }) else { throw KernelError("ngram_indexes \(indexes) must be slots in 0..<2^40") }
        // The pool holds n-grams up to length counts.count: longer ones never match (and a
        // hostile max_gram_length of 2^40 would otherwise loop that many times per row).
        let maxN = Swift.min(maxGram, counts.count)
        // n-gram (as items) -> output slot, per length.
        var table: [[Item]: Int] = [:]
        var ngramID = 0
        for (li, start) in counts.enumerated() {
            let n = li + 1, end = li + 1 < counts.count ? counts[li + 1] : pool.count
            guard start >= 0, start <= end, end <= pool.count, (end - start) % n == 0 else { throw KernelError("ngram_counts do not fit the pool") }
            var p = start
            while p < end {
                guard ngramID < indexes.count else { throw KernelError("ngram_indexes is shorter than the pool's n-grams") }
                table[Array(pool[p..<(p + n)])] = indexes[ngramID]
                ngramID += 1; p += n
            }
        }
        let width = (indexes.max() ?? -1) + 1
        return { io in
            let x = try io.input(0)
            let items: [Item] = x.strings.map { $0.map(Item.s) } ?? x.int64Values().map(Item.i)
            guard x.shape.count == 1 || x.shape.count == 2 else { throw KernelError("input must be [C] or [N, C], got \(x.shape)") }
            let rows = x.shape.count == 2 ? x.shape[0] : 1, cols = x.shape.last ?? 0
            let y = try io.output(0, .float, x.shape.count == 2 ? [rows, width] : [width])
            for r in 0..<rows {
                var tf = [Double](repeating: 0, count: width)
                let row = Array(items[(r * cols)..<((r + 1) * cols)])
                for n in Swift.min(minN, maxN + 1)..<(maxN + 1) {
                    // Unigrams have no gaps to skip: count them once.
                    for skip in 0...(n == 1 ? 0 : maxSkip) {
                        let step = skip + 1
                        var start = 0
                        while start + (n - 1) * step < row.count {
                            let gram = (0..<n).map { row[start + $0 * step] }
                            if let slot = table[gram] { tf[slot] += 1 }
                            start += 1
                        }
                    }
                }
                for k in 0..<width {
                    let w = k < weights.count ? Double(weights[k]) : 1
                    let v: Double
                    switch mode {
                    case "IDF": v = tf[k] > 0 ? w : 0
                    case "TFIDF": v = tf[k] * w
                    default: v = tf[k]
                    }
                    y.mutableFloats[r * width + k] = Float(v)
                }
            }
        }
    }
}
