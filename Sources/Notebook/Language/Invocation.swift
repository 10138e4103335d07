// A command's arguments after evaluation and type checks, as handlers receive them.
//
// `Invocation.resolve` evaluates interpolations against the current variables, matches
// words to the spec's positionals, options and flags, converts each value to its
// parameter's type and reports any mismatch at the word's column. Handlers then read
// typed values without re-checking.

import Foundation

/// One evaluated argument and where it was written.
public struct Argument: Sendable {
    public var value: CellValue
    public var location: SourceLocation
}

/// A command call, ready to run.
public struct Invocation: Sendable {
    public let name: String
    public let location: SourceLocation
    /// Positionals by parameter name, and options by key.
    public private(set) var values: [String: Argument] = [:]
    /// The extra positionals of a variadic command (its last positional included).
    public private(set) var rest: [Argument] = []
    public private(set) var flags: Set<String> = []
    /// `key=value` options outside the spec's list, for commands with `extraOptions`, in order.
    public private(set) var extra: [(key: String, argument: Argument)] = []
    /// For expression-style commands, the evaluated expression.
    public private(set) var expressionValue: CellValue?
    /// The end of the line, for errors about missing arguments.
    public let end: SourceLocation
    /// The arguments as evaluated, one word each (`n12`, `alpha=0.2`, `--force`): variables
    /// already substituted, so the line means the same in any session.
    public private(set) var canonicalWords: [String] = []

    /// The command as a line that does the same thing when run again (`history export`
    /// writes these): the name and every argument with variables substituted.
    public var canonicalText: String { ([name] + canonicalWords).joined(separator: " ") }

    init(name: String, location: SourceLocation, end: SourceLocation) {
        self.name = name
        self.location = location
        self.end = end
    }

    /// Whether `--flag` was given.
    public func has(_ flag: String) -> Bool { flags.contains(flag) }

    /// The value of a positional or option, if given.
    public func value(_ name: String) -> CellValue? { values[name]?.value }

    /// Where a positional or option was written (the command name when absent).
    public func location(of name: String) -> SourceLocation { values[name]?.location ?? location }

    /// A string argument.
    public func string(_ name: String) -> String? {
        guard let v = values[name]?.value else { return nil }
        if case .string(let s) = v { return s }
        return v.displayString
    }

    /// An integer argument (already converted by `resolve`).
    public func int(_ name: String) -> Int? {
        if case .int(let i)? = values[name]?.value { return i }
        return nil
    }

    /// A numeric argument.
    public func double(_ name: String) -> Double? { values[name]?.value.numericValue }

    /// A boolean argument.
    public func bool(_ name: String) -> Bool? {
        if case .bool(let b)? = values[name]?.value { return b }
        return nil
    }

    /// A list argument's items.
    public func list(_ name: String) -> [CellValue]? {
        if case .list(let l)? = values[name]?.value { return l }
        return nil
    }

    /// A required string: fails with a `CommandError` naming the parameter.
    public func requiredString(_ name: String) throws -> String {
        guard let s = string(name) else {
            throw CellError(.command, "\(self.name) needs \(name.uppercased()); see `help \(self.name)`", at: end)
        }
        return s
    }

    /// An error that points at argument `name` (or the command).
    public func error(_ kind: CellError.Kind, _ message: String, at name: String? = nil) -> CellError {
        CellError(kind, message, at: name.map { location(of: $0) } ?? location)
    }

    // MARK: Resolution

    /// Evaluates and checks `words` against `spec`.
    static func resolve(spec: CommandSpec, location: SourceLocation, words: [RawWord], expression: Expression?,
                        end: SourceLocation, variables: [String: CellValue]) throws -> Invocation {
        var inv = Invocation(name: spec.name, location: location, end: end)
        let evaluator = ExprEvaluator(variables: variables)
        if let expression {
            inv.expressionValue = try evaluator.evaluate(expression)
            return inv
        }
        var positionalIndex = 0
        for word in words {
            switch word.form {
            case .flag(let name):
                guard spec.flags.contains(where: { $0.name == name }) else {
                    let known = spec.flags.map { "--" + $0.name }
                    let hint = known.isEmpty ? "it takes no flags" : "its flags: \(known.joined(separator: ", "))"
                    throw CellError(.command, "\(spec.name) has no flag --\(name); \(hint)", at: word.location)
                }
                inv.flags.insert(name)
                inv.canonicalWords.append("--" + name)
            case .option(let key):
                guard let param = spec.option(key) ?? spec.positionals.first(where: { $0.name == key && !isKeyword($0) }) else {
                    if let kind = spec.extraOptions {
                        let raw = try evaluate(word, lenient(evaluator, for: kind))
                        let arg = Argument(value: try coerce(raw, to: kind, name: key, at: word.valueLocation), location: word.valueLocation)
                        guard !inv.extra.contains(where: { $0.key == key }) else {
                            throw CellError(.command, "\(key)= is given twice; give it once", at: word.location)
                        }
                        inv.extra.append((key, arg))
                        inv.canonicalWords.append(key + "=" + arg.value.word)
                        continue
                    }
                    // Text commands (`echo batch=$b`) take `key=value` words as text.
                    if spec.variadic, spec.options.isEmpty, let last = spec.positionals.last {
                        let text = CellValue.string(key + "=" + (try evaluate(word, evaluator)).displayString)
                        inv.rest.append(Argument(value: try coerce(text, to: last.kind, name: last.name, at: word.location),
                                                 location: word.location))
                        inv.canonicalWords.append(text.word)
                        continue
                    }
                    throw CellError(.command, unknownOptionMessage(spec: spec, key: key), at: word.location)
                }
                let raw = try evaluate(word, lenient(evaluator, for: param.kind))
                var value = try coerce(raw, to: param.kind, name: param.name, at: word.valueLocation)
                if let earlier = inv.values[param.name] {
                    // a repeated list option adds its items (`shape=a:1x3 shape=b:1x8`); anything else would silently drop one
                    guard case .list(let before) = earlier.value, case .list(let more) = value else {
                        throw CellError(.command, "\(param.name)= is given twice; give it once", at: word.location)
                    }
                    value = .list(before + more)
                }
                inv.canonicalWords.append(key + "=" + (try coerce(raw, to: param.kind, name: param.name, at: word.valueLocation)).word)
                inv.values[param.name] = Argument(value: value, location: word.valueLocation)
            case .positional:
                let kind = positionalIndex < spec.positionals.count ? spec.positionals[positionalIndex].kind
                    : (spec.variadic ? spec.positionals.last?.kind : nil)
                let raw = try evaluate(word, kind.map { lenient(evaluator, for: $0) } ?? evaluator)
                if positionalIndex < spec.positionals.count {
                    let param = spec.positionals[positionalIndex]
                    if case .keyword(let keyword) = param.kind {
                        guard raw.displayString == keyword else {
                            throw CellError(.command, "expected '\(keyword)' here; usage: \(spec.usage)", at: word.location)
                        }
                        positionalIndex += 1
                        inv.canonicalWords.append(keyword)
                        continue
                    }
                    let arg = Argument(value: try coerce(raw, to: param.kind, name: param.name, at: word.location),
                                       location: word.location)
                    // A single word a list parameter took reads back as itself (`annotate Add@0`,
                    // not `annotate ["Add@0"]`) in history and journals.
                    if case .list = arg.value, case .string = raw { inv.canonicalWords.append(raw.word) } else {
                        inv.canonicalWords.append(arg.value.word)
                    }
                    inv.values[param.name] = arg
                    if spec.variadic && positionalIndex == spec.positionals.count - 1 {
                        inv.rest.append(arg)
                    } else {
                        positionalIndex += 1
                    }
                } else if spec.variadic, let last = spec.positionals.last {
                    let arg = Argument(value: try coerce(raw, to: last.kind, name: last.name, at: word.location),
                                       location: word.location)
                    inv.rest.append(arg)
                    inv.canonicalWords.append(arg.value.word)
                } else {
                    throw CellError(.command, "\(spec.name) takes at most \(spec.positionals.filter { !isKeyword($0) }.count) positional argument(s); usage: \(spec.usage)",
                                    at: word.location)
                }
            }
        }
        for param in spec.positionals + spec.options where param.isRequired && inv.values[param.name] == nil {
            throw CellError(.command, "\(spec.name) needs \(param.name.uppercased()) (\(param.help)); usage: \(spec.usage)", at: end)
        }
        return inv
    }

    /// Lists of names (`highlight=[query, key]`) read unknown bare words as text.
    private static func lenient(_ evaluator: ExprEvaluator, for kind: ParameterKind) -> ExprEvaluator {
        guard case .list(let inner) = kind else { return evaluator }
        switch inner {
        case .string, .node, .nodeOrPath, .opType, .hardware, .graphName, .version, .plugin, .path, .choice:
            var e = evaluator
            e.bareNamesAsStrings = true
            return e
        default:
            return evaluator
        }
    }

    private static func isKeyword(_ p: Parameter) -> Bool {
        if case .keyword = p.kind { return true }
        return false
    }

    private static func unknownOptionMessage(spec: CommandSpec, key: String) -> String {
        let names = spec.options.map(\.name)
        if let close = Suggest.closest(to: key, in: names) {
            return "\(spec.name) has no option '\(key)'; did you mean '\(close)'?"
        }
        return names.isEmpty ? "\(spec.name) takes no options" : "\(spec.name) has no option '\(key)'; its options: \(names.joined(separator: ", "))"
    }

    private static func evaluate(_ word: RawWord, _ evaluator: ExprEvaluator) throws -> CellValue {
        switch word.value {
        case nil: return .bool(true)
        case .expression(let e)?: return try evaluator.evaluate(e)
        case .parts(let parts)?:
            if parts.count == 1, case .interpolation(let e) = parts[0] { return try evaluator.evaluate(e) }
            var text = ""
            for part in parts {
                switch part {
                case .text(let t): text += t
                case .interpolation(let e): text += try evaluator.evaluate(e).displayString
                }
            }
            return .string(text)
        }
    }

    /// Converts a value to a parameter's type, with a message naming the parameter.
    static func coerce(_ value: CellValue, to kind: ParameterKind, name: String, at location: SourceLocation) throws -> CellValue {
        func fail(_ expected: String) -> CellError {
            CellError(.type, "\(name) must be \(expected), not \(value.literal)", at: location)
        }
        switch kind {
        case .int:
            switch value {
            case .int: return value
            case .float(let d) where d.rounded() == d && d.magnitude < 9e18: return .int(Int(d))
            case .string(let s):
                let cleaned = s.replacingOccurrences(of: "_", with: "")
                if let i = Int(cleaned) { return .int(i) }
                if let scaled = parseScaled(cleaned) { return .int(scaled) }
                throw fail("an integer")
            default: throw fail("an integer")
            }
        case .float:
            if let d = value.numericValue { return .float(d) }
            if case .string(let s) = value, let d = Double(s) { return .float(d) }
            throw fail("a number")
        case .bool:
            switch value {
            case .bool: return value
            case .int(let i) where i == 0 || i == 1: return .bool(i == 1)
            case .string(let s):
                switch s.lowercased() {
                case "true", "yes", "on", "1": return .bool(true)
                case "false", "no", "off", "0": return .bool(false)
                default: throw fail("true or false")
                }
            default: throw fail("true or false")
            }
        case .choice(let options):
            let s = value.displayString
            if options.contains(s) { return .string(s) }
            if let match = options.first(where: { $0.lowercased() == s.lowercased() }) { return .string(match) }
            throw CellError(.value, "\(name) must be one of \(options.joined(separator: ", ")), not \(value.literal)", at: location)
        case .list(let inner):
            let items: [CellValue]
            switch value {
            case .list(let l): items = l
            case .string(let s): items = s.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) }
            default: items = [value]
            }
            return .list(try items.map { try coerce($0, to: inner, name: name, at: location) })
        case .any:
            return value
        case .string, .path, .node, .nodeOrPath, .graphName, .version, .plugin, .opType, .hardware, .variable, .keyword:
            if case .string = value { return value }
            switch value {
            case .list, .dict: throw fail("a single word")
            default: return .string(value.displayString)
            }
        }
    }

    /// Reads `4k`, `2M`, `1G` style integers (powers of 1000), common in batch and token counts.
    private static func parseScaled(_ s: String) -> Int? {
        guard let last = s.last, let base = Int(s.dropLast()) else { return nil }
        let scale: Int
        switch last {
        case "k", "K": scale = 1_000
        case "M": scale = 1_000_000
        case "G": scale = 1_000_000_000
        default: return nil
        }
        let (r, o) = base.multipliedReportingOverflow(by: scale)
        return o ? nil : r
    }
}

/// "Did you mean" suggestions by edit distance.
enum Suggest {
    static func closest(to word: String, in candidates: [String]) -> String? {
        let w = Array(word.lowercased().unicodeScalars)
        var best: (String, Int)? = nil
        for c in candidates {
            let d = distance(w, Array(c.lowercased().unicodeScalars))
            if d <= max(1, w.count / 3), d < (best?.1 ?? Int.max) { best = (c, d) }
        }
        return best?.0
    }

    static func distance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
