// Reading one logical line into an assignment or a command with raw arguments.
//
// Words are split on whitespace outside quotes and brackets. `key=value` is an option,
// `--name` a flag, anything else positional. Double-quoted strings and bare words
// interpolate `$NAME` and `${EXPR}`; single-quoted strings are taken literally; a word
// that starts with `[` or `{` is a list or dict expression. Nothing is evaluated here:
// variables are read when the line runs, so `x = 2` then `echo $x` in one cell works.

import Foundation

/// A piece of a word: literal text or an interpolation.
enum WordPart: Sendable {
    case text(String)
    case interpolation(Expression)
}

/// A word's value before evaluation.
enum RawValue: Sendable {
    /// Text with interpolations; a word made of exactly one interpolation keeps its value's type.
    case parts([WordPart])
    /// A list or dict literal.
    case expression(Expression)
}

/// One argument word as written.
struct RawWord: Sendable {
    enum Form: Sendable, Equatable {
        case positional
        case option(String)
        case flag(String)
    }
    var form: Form
    /// nil for a bare `--flag`.
    var value: RawValue?
    /// The word's text as written (for completion and messages).
    var text: String
    var location: SourceLocation
    /// Where the value starts (after `key=`), for type errors.
    var valueLocation: SourceLocation
}

/// A parsed logical line.
enum ParsedLine: Sendable {
    case assignment(name: String, value: Expression, location: SourceLocation)
    case command(name: String, location: SourceLocation, words: [RawWord], expression: Expression?, end: SourceLocation)
}

enum LineParser {
    static func isIdentifierStart(_ c: Unicode.Scalar) -> Bool { c == "_" || c.properties.isAlphabetic }
    static func isIdentifierChar(_ c: Unicode.Scalar) -> Bool {
        c == "_" || c.properties.isAlphabetic || ("0"..."9").contains(c)
    }
    static func isSpace(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" }

    /// Parses `line`. `styleOf` tells how a known command reads its arguments.
    static func parse(_ line: LogicalLine, styleOf: (String) -> ArgumentStyle?) throws -> ParsedLine {
        let s = line.scalars
        var i = 0
        while i < s.count, isSpace(s[i]) { i += 1 }
        let nameStart = i
        // A command name: an identifier, possibly with dashes (`show-all` style names stay possible).
        while i < s.count, isIdentifierChar(s[i]) || (i > nameStart && s[i] == "-") { i += 1 }
        let nameLocation = line.location(at: nameStart)
        guard i > nameStart, isIdentifierStart(s[nameStart]) else {
            throw CellError(.syntax, "a line must start with a command name or `NAME = value`", at: nameLocation)
        }
        let name = String(String.UnicodeScalarView(s[nameStart..<i]))
        var j = i
        while j < s.count, isSpace(s[j]) { j += 1 }
        // Assignment: NAME = EXPR (but not NAME == ...).
        if j < s.count, s[j] == "=", !(j + 1 < s.count && s[j + 1] == "="), !name.contains("-") {
            let expr = try ExprParser.parse(line, range: (j + 1)..<s.count)
            return .assignment(name: name, value: expr, location: nameLocation)
        }
        if i < s.count, !isSpace(s[i]) {
            throw CellError(.syntax, "unexpected '\(s[i])' after the command name '\(name)'", at: line.location(at: i))
        }
        if styleOf(name) == .some(.expression) {
            guard j < s.count else {
                throw CellError(.syntax, "\(name) needs an expression, for example `\(name) 1 + 2`", at: line.end)
            }
            let expr = try ExprParser.parse(line, range: j..<s.count)
            return .command(name: name, location: nameLocation, words: [], expression: expr, end: line.end)
        }
        var words: [RawWord] = []
        var k = j
        while k < s.count {
            if isSpace(s[k]) { k += 1; continue }
            words.append(try readWord(line, index: &k))
        }
        return .command(name: name, location: nameLocation, words: words, expression: nil, end: line.end)
    }

    /// Reads one word starting at `index` and leaves `index` after it.
    static func readWord(_ line: LogicalLine, index: inout Int) throws -> RawWord {
        let s = line.scalars
        let start = index
        let location = line.location(at: start)
        var form = RawWord.Form.positional
        var valueStart = start
        // --flag or --key=value
        if start + 1 < s.count, s[start] == "-", s[start + 1] == "-" {
            var e = start + 2
            while e < s.count, isIdentifierChar(s[e]) || s[e] == "-" { e += 1 }
            let flagName = String(String.UnicodeScalarView(s[(start + 2)..<e]))
            if e == s.count || isSpace(s[e]) {
                index = e
                guard !flagName.isEmpty else { throw CellError(.syntax, "'--' needs a flag name", at: location) }
                return RawWord(form: .flag(flagName), value: nil, text: "--" + flagName, location: location, valueLocation: location)
            }
            if s[e] == "=" {
                form = .option(flagName)
                valueStart = e + 1
            }
        } else if isIdentifierStart(s[start]) {
            // Keys may hold '/' and ':' too: graph input names such as `gpu_0/data_0` (Caffe2) or
            // `input:0` (TensorFlow) are `run`'s keys. A URL (`scheme://...=...`) stays positional.
            var e = start
            while e < s.count, isIdentifierChar(s[e]) || "-./:".unicodeScalars.contains(s[e]) { e += 1 }
            let key = String(String.UnicodeScalarView(s[start..<e]))
            if e < s.count, s[e] == "=", !(e + 1 < s.count && s[e + 1] == "="), !key.contains("://") {
                form = .option(key)
                valueStart = e + 1
            }
        }
        let valueLocation = line.location(at: valueStart)
        index = valueStart
        let value: RawValue
        if index < s.count, s[index] == "[" || s[index] == "{" {
            let end = try matchingBracket(line, from: index)
            do {
                value = .expression(try ExprParser.parse(line, range: index..<end))
            } catch let error as CellError {
                // `[/a/b, /c/d]`: a list of bare words (node names, paths) that are not expressions.
                guard s[index] == "[", let bare = bareWordList(line, range: (index + 1)..<(end - 1)) else { throw error }
                value = .expression(bare)
            }
            index = end
            if index < s.count, !isSpace(s[index]) {
                throw CellError(.syntax, "unexpected '\(s[index])' after a list", at: line.location(at: index))
            }
        } else {
            value = .parts(try readParts(line, index: &index))
        }
        let text = String(String.UnicodeScalarView(s[start..<index]))
        return RawWord(form: form, value: value, text: text, location: location, valueLocation: valueLocation)
    }

    /// Reads text up to the next unquoted whitespace, resolving quotes and escapes.
    static func readParts(_ line: LogicalLine, index: inout Int) throws -> [WordPart] {
        let s = line.scalars
        var parts: [WordPart] = []
        var text = String.UnicodeScalarView()
        func flushText() {
            if !text.isEmpty { parts.append(.text(String(text))); text = String.UnicodeScalarView() }
        }
        var quote: Unicode.Scalar? = nil
        var quoteStart = index
        while index < s.count {
            let c = s[index]
            if quote == nil && isSpace(c) { break }
            if c == "'" && quote == nil {
                // Single quotes: literal text, standard escapes only.
                let literal = try ExprLexer.readQuoted(line: line, index: &index, end: s.count)
                text.append(contentsOf: literal.unicodeScalars)
                continue
            }
            if c == "\"" {
                if quote == nil { quote = c; quoteStart = index } else { quote = nil }
                index += 1
                continue
            }
            if c == "\\", quote != nil || index + 1 < s.count {
                guard index + 1 < s.count else { break }
                let e = s[index + 1]
                switch e {
                case "n": text.append("\n")
                case "t": text.append("\t")
                case "\\", "\"", "'", "$", " ": text.append(e)
                default: text.append("\\"); text.append(e)
                }
                index += 2
                continue
            }
            if c == "$" {
                let dollar = index
                if index + 1 < s.count, s[index + 1] == "{" {
                    var depth = 0
                    var end = index + 1
                    while end < s.count {
                        if s[end] == "{" { depth += 1 }
                        if s[end] == "}" { depth -= 1; if depth == 0 { break } }
                        end += 1
                    }
                    guard end < s.count else {
                        throw CellError(.syntax, "unterminated '${': add the closing '}'", at: line.location(at: dollar))
                    }
                    flushText()
                    parts.append(.interpolation(try ExprParser.parse(line, range: (index + 2)..<end)))
                    index = end + 1
                    continue
                }
                if index + 1 < s.count, isIdentifierStart(s[index + 1]) {
                    var end = index + 1
                    while end < s.count, isIdentifierChar(s[end]) { end += 1 }
                    flushText()
                    let name = String(String.UnicodeScalarView(s[(index + 1)..<end]))
                    parts.append(.interpolation(.variable(name, line.location(at: dollar))))
                    index = end
                    continue
                }
            }
            text.append(c)
            index += 1
        }
        if quote != nil {
            throw CellError(.syntax, "unterminated string: add the closing \"", at: line.location(at: quoteStart))
        }
        flushText()
        return parts
    }

    /// `a, b/c, d` inside brackets as a list of strings, when every item is a bare word
    /// (no quotes, brackets or spaces inside an item); nil otherwise.
    static func bareWordList(_ line: LogicalLine, range: Range<Int>) -> Expression? {
        let text = String(String.UnicodeScalarView(line.scalars[range]))
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let forbidden = CharacterSet(charactersIn: "\"'[]{}() \t")
        guard !items.contains(where: { $0.isEmpty || $0.rangeOfCharacter(from: forbidden) != nil }) else { return nil }
        let location = line.location(at: range.lowerBound)
        return .list(items.map { .literal(.string($0), location) }, location)
    }

    /// The index just past the bracket that closes the one at `from`.
    static func matchingBracket(_ line: LogicalLine, from: Int) throws -> Int {
        let s = line.scalars
        var depth = 0
        var i = from
        var quote: Unicode.Scalar? = nil
        while i < s.count {
            let c = s[i]
            if let q = quote {
                if c == "\\" { i += 2; continue }
                if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "[" || c == "{" || c == "(" {
                depth += 1
            } else if c == "]" || c == "}" || c == ")" {
                depth -= 1
                if depth == 0 { return i + 1 }
            }
            i += 1
        }
        throw CellError(.syntax, "unclosed '\(s[from])'", at: line.location(at: from))
    }
}
