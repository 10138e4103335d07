// Context-aware completion and inspection.
//
// Both look at the logical line around the cursor: the first word completes to command
// names; later words complete by the parameter they fill (option names, enum values,
// file paths, node names and hierarchy paths, op types, graph and hardware ids);
// `$` completes variables. Inspection shows a command's help, a variable's value, or
// whatever the session knows about a node or path. Cursor positions count Unicode
// scalars, as protocol 5.2+ requires.

import Foundation
import JupyterKernel

/// The words of the logical line up to the cursor.
struct CursorContext {
    /// Complete words before the one being typed.
    var words: [String]
    /// The word under the cursor, up to the cursor.
    var partial: String
    /// Where `partial` starts, in scalars from the start of the code.
    var partialStart: Int
    /// The cursor, clamped to the code.
    var cursor: Int
    /// The rest of the word after the cursor (for inspection).
    var suffix: String

    init(code: String, cursor requested: Int) {
        let scalars = Array(code.unicodeScalars)
        let cursor = max(0, min(requested, scalars.count))
        self.cursor = cursor
        // Start of the logical line: back over physical lines continued with a trailing backslash.
        var lineStart = cursor
        while lineStart > 0 && scalars[lineStart - 1] != "\n" { lineStart -= 1 }
        while lineStart > 0 {
            var k = lineStart - 2
            while k >= 0 && (scalars[k] == " " || scalars[k] == "\t") { k -= 1 }
            guard k >= 0, scalars[k] == "\\" else { break }
            var p = k
            while p > 0 && scalars[p - 1] != "\n" { p -= 1 }
            lineStart = p
        }
        var words: [String] = []
        var current = String.UnicodeScalarView()
        var currentStart = lineStart
        var quote: Unicode.Scalar? = nil
        var depth = 0
        var i = lineStart
        while i < cursor {
            let c = scalars[i]
            if let q = quote {
                if c == q { quote = nil }
                current.append(c)
            } else if c == "#" {
                // A comment: nothing after it completes.
                words = []
                current = String.UnicodeScalarView()
                currentStart = cursor
                break
            } else if (c == " " || c == "\t" || c == "\n" || c == "\\") && depth == 0 {
                if !current.isEmpty { words.append(String(current)) }
                current = String.UnicodeScalarView()
                currentStart = i + 1
            } else {
                if c == "\"" || c == "'" { quote = c }
                if c == "[" || c == "(" || c == "{" { depth += 1 }
                if c == "]" || c == ")" || c == "}" { depth = max(0, depth - 1) }
                current.append(c)
            }
            i += 1
        }
        var suffix = String.UnicodeScalarView()
        var j = cursor
        while j < scalars.count, !" \t\n".unicodeScalars.contains(scalars[j]) {
            suffix.append(scalars[j])
            j += 1
        }
        self.words = words
        self.partial = String(current)
        self.partialStart = currentStart
        self.suffix = String(suffix)
    }
}

/// Completion candidates from the command table and the session.
struct Completer {
    let table: CommandTable
    let session: Session

    func complete(code: String, cursor: Int) -> CompletionResult {
        let ctx = CursorContext(code: code, cursor: cursor)
        let partial = ctx.partial
        var start = ctx.partialStart

        // Variables: `$na` or `${na`.
        if let dollar = partial.lastIndex(of: "$") {
            var prefix = String(partial[partial.index(after: dollar)...])
            if prefix.hasPrefix("{") { prefix.removeFirst() }
            let names = session.variables.keys.sorted().filter { $0.hasPrefix(prefix) }
            let replaceStart = start + partial.unicodeScalars.count - prefix.unicodeScalars.count
            return CompletionResult(matches: names, cursorStart: replaceStart, cursorEnd: ctx.cursor)
        }

        // The first word: commands (and variables, which may start an assignment).
        guard let commandName = ctx.words.first else {
            var matches = table.names.filter { $0.hasPrefix(partial) }
            matches += session.variables.keys.sorted().filter { $0.hasPrefix(partial) && !matches.contains($0) }
            return CompletionResult(matches: matches, cursorStart: start, cursorEnd: ctx.cursor)
        }
        guard let spec = table[commandName] else {
            return CompletionResult(matches: [], cursorStart: ctx.cursor, cursorEnd: ctx.cursor)
        }
        if case .expression = spec.style {
            let names = (session.variables.keys.sorted() + ExprEvaluator.functionNames).filter { $0.hasPrefix(partial) }
            return CompletionResult(matches: names, cursorStart: start, cursorEnd: ctx.cursor)
        }

        // --flags
        if partial.hasPrefix("-") {
            let matches = spec.flags.map { "--" + $0.name }.filter { $0.hasPrefix(partial) }
            return CompletionResult(matches: matches, cursorStart: start, cursorEnd: ctx.cursor)
        }

        // KEY=value of a free option the command completes itself (an attribute's legal values).
        if let eq = partial.firstIndex(of: "="), spec.option(String(partial[..<eq])) == nil, let extra = spec.extraCompletion {
            let valuePrefix = String(partial[partial.index(after: eq)...])
            let values = extra(session, ctx.words, String(partial[..<eq])).filter { $0.hasPrefix(valuePrefix) }
            if !values.isEmpty {
                return CompletionResult(matches: values, cursorStart: start + partial[...eq].unicodeScalars.count, cursorEnd: ctx.cursor)
            }
        }
        // key=value: complete the value by the option's type.
        if let eq = partial.firstIndex(of: "="), let kind = optionKind(String(partial[..<eq]), spec) {
            let valuePrefix = String(partial[partial.index(after: eq)...])
            start += partial[...eq].unicodeScalars.count
            let (matches, replaceFrom) = values(for: kind, prefix: valuePrefix)
            return CompletionResult(matches: matches, cursorStart: start + replaceFrom, cursorEnd: ctx.cursor)
        }

        // A positional: by the parameter it fills, plus option names and flags.
        let givenPositionals = ctx.words.dropFirst().filter { !$0.hasPrefix("--") && !isOptionWord($0, spec) }.count
        var positionalKind: ParameterKind?
        var index = 0
        for p in spec.positionals {
            if index == givenPositionals { positionalKind = p.kind; break }
            index += 1
        }
        if positionalKind == nil, spec.variadic { positionalKind = spec.positionals.last?.kind }
        var matches: [String] = []
        if let kind = positionalKind {
            if case .keyword(let word) = kind {
                if word.hasPrefix(partial) { matches.append(word) }
            } else {
                let (found, replaceFrom) = values(for: kind, prefix: partial)
                if replaceFrom > 0 {
                    return CompletionResult(matches: found, cursorStart: start + replaceFrom, cursorEnd: ctx.cursor)
                }
                matches += found
            }
        }
        let usedOptions = Set(ctx.words.compactMap { w -> String? in
            w.firstIndex(of: "=").map { String(w[..<$0]) }
        })
        matches += spec.options.filter { !usedOptions.contains($0.name) }.map { $0.name + "=" }.filter { $0.hasPrefix(partial) }
        // `@` starts a version reference (`compare @0 @3`), which only the command itself knows.
        if positionalKind == nil || givenPositionals > 0 || partial.hasPrefix("@"), let extra = spec.extraCompletion {
            matches += extra(session, ctx.words, nil).filter { $0.hasPrefix(partial) && !usedOptions.contains(String($0.dropLast())) }
        }
        if partial.isEmpty == false || matches.isEmpty {
            matches += spec.flags.map { "--" + $0.name }.filter { $0.hasPrefix(partial) && !partial.isEmpty }
        }
        return CompletionResult(matches: matches, cursorStart: start, cursorEnd: ctx.cursor)
    }

    /// The type of option `key`; for commands with free `KEY=` options (sweep axes), the
    /// well-known keys `hardware` and `dtype` still complete.
    private func optionKind(_ key: String, _ spec: CommandSpec) -> ParameterKind? {
        if let p = spec.option(key) { return p.kind }
        guard spec.extraOptions != nil else { return nil }
        switch key {
        case "hardware", "hw", "device": return .list(.hardware)
        case "dtype", "precision": return .list(.choice(["fp64", "fp32", "tf32", "bf16", "fp16", "fp8", "int8", "int4"]))
        default: return nil
        }
    }

    private func isOptionWord(_ word: String, _ spec: CommandSpec) -> Bool {
        guard let eq = word.firstIndex(of: "=") else { return false }
        return spec.option(String(word[..<eq])) != nil
    }

    /// Candidates for a value of `kind` starting with `prefix`, and how many scalars of the
    /// prefix they leave in place (a path's directory part, an opening quote).
    func values(for kind: ParameterKind, prefix: String) -> ([String], Int) {
        switch kind {
        case .choice(let options):
            return (options.filter { $0.hasPrefix(prefix) }, 0)
        case .bool:
            return (["true", "false"].filter { $0.hasPrefix(prefix) }, 0)
        case .path:
            return pathCompletions(prefix)
        case .variable:
            return (session.variables.keys.sorted().filter { $0.hasPrefix(prefix) }, 0)
        case .list(let inner):
            // Complete the last item of a comma list.
            if let comma = prefix.lastIndex(of: ",") {
                let tail = String(prefix[prefix.index(after: comma)...]).trimmingCharacters(in: .whitespaces)
                let lead = prefix.unicodeScalars.count - tail.unicodeScalars.count
                let (m, r) = values(for: inner, prefix: tail)
                return (m, lead + r)
            }
            let bracket = prefix.hasPrefix("[") ? 1 : 0
            let (m, r) = values(for: inner, prefix: String(prefix.dropFirst(bracket)))
            return (m, bracket + r)
        default:
            return (session.completions(for: kind, prefix: prefix), 0)
        }
    }

    /// File and folder names under the working directory; folders end with `/`.
    func pathCompletions(_ typed: String) -> ([String], Int) {
        var prefix = typed
        var skip = 0
        if prefix.hasPrefix("\"") || prefix.hasPrefix("'") { prefix.removeFirst(); skip = 1 }
        let dirPart: String
        let namePart: String
        if let slash = prefix.lastIndex(of: "/") {
            dirPart = String(prefix[...slash])
            namePart = String(prefix[prefix.index(after: slash)...])
        } else {
            dirPart = ""
            namePart = prefix
        }
        let dirURL = dirPart.isEmpty ? session.workingDirectory : session.resolvePath(dirPart)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: dirURL.path) else { return ([], 0) }
        var matches: [String] = []
        for entry in entries.sorted() where entry.hasPrefix(namePart) {
            if entry.hasPrefix(".") && !namePart.hasPrefix(".") { continue }
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: dirURL.appendingPathComponent(entry).path, isDirectory: &isDir)
            matches.append(entry + (isDir.boolValue ? "/" : ""))
        }
        return (matches, skip + dirPart.unicodeScalars.count)
    }
}

/// Shift-Tab help from the command table and the session.
struct Inspector {
    let table: CommandTable
    let session: Session

    func inspect(code: String, cursor: Int, detailLevel: Int) -> InspectionResult {
        let ctx = CursorContext(code: code, cursor: cursor)
        var word = ctx.partial + ctx.suffix
        if word.isEmpty, let last = ctx.words.last { word = last }
        if word.isEmpty, ctx.words.isEmpty { return .notFound }
        // `key=value`: inspect the value; `$x` / `${x}`: the variable.
        if let eq = word.firstIndex(of: "="), ctx.words.first != nil {
            word = String(word[word.index(after: eq)...])
        }
        var name = word
        if name.hasPrefix("${") && name.hasSuffix("}") { name = String(name.dropFirst(2).dropLast()) }
        if name.hasPrefix("$") { name.removeFirst() }
        name = name.trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))

        if ctx.words.isEmpty || (ctx.words.first == "help" && ctx.words.count == 1 && !ctx.partial.isEmpty) || word == ctx.words.first,
           let spec = table[name] {
            return InspectionResult(found: true, data: HelpCommands.commandHelp(spec).primaryOutput)
        }
        if let value = session.variables[name] {
            let text = "\(name): \(value.typeName) = \(value.literal)"
            return InspectionResult(found: true, data: ["text/plain": .string(text)])
        }
        if let bundle = session.inspect(name) {
            return InspectionResult(found: true, data: bundle.primaryOutput)
        }
        if let spec = table[name] {
            return InspectionResult(found: true, data: HelpCommands.commandHelp(spec).primaryOutput)
        }
        return .notFound
    }
}
