// Expressions of the cell language: the syntax tree, the lexer and the parser (evaluation is
// in ExpressionEvaluator.swift).
//
// EXPR covers Python's literal forms (numbers, strings, True/False/None, lists, dicts)
// plus + - * / // % **, parentheses, variables (bare or `$NAME`), `${EXPR}`, indexing
// and a few functions (range, len, min, max, sum, abs, round, str, int, float). The
// parser is a small recursive-descent one over a logical line's scalars, so every
// error knows its column.

import Foundation

/// A parsed expression. Locations point at the token that starts each part.
public indirect enum Expression: Sendable {
    case literal(CellValue, SourceLocation)
    case variable(String, SourceLocation)
    case list([Expression], SourceLocation)
    case dict([(Expression, Expression)], SourceLocation)
    case unary(String, Expression, SourceLocation)
    case binary(String, Expression, Expression, SourceLocation)
    case call(String, [Expression], SourceLocation)
    case index(Expression, Expression, SourceLocation)

    var location: SourceLocation {
        switch self {
        case .literal(_, let l), .variable(_, let l), .list(_, let l), .dict(_, let l), .unary(_, _, let l),
             .binary(_, _, _, let l), .call(_, _, let l), .index(_, _, let l):
            return l
        }
    }
}

// MARK: - Tokens

struct ExprToken {
    enum Kind: Equatable {
        case int(Int)
        case float(Double)
        case string(String)
        case identifier(String)
        case op(String)
        case end
    }
    var kind: Kind
    var location: SourceLocation
    /// Index of the first scalar in the logical line.
    var offset: Int
}

/// Reads tokens of an expression from part of a logical line.
struct ExprLexer {
    let line: LogicalLine
    var index: Int
    let end: Int

    init(line: LogicalLine, range: Range<Int>) {
        self.line = line
        self.index = range.lowerBound
        self.end = range.upperBound
    }

    private func peek(_ ahead: Int = 0) -> Unicode.Scalar? {
        let i = index + ahead
        return i < end ? line.scalars[i] : nil
    }

    mutating func tokenize() throws -> [ExprToken] {
        var tokens: [ExprToken] = []
        while true {
            let token = try next()
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    mutating func next() throws -> ExprToken {
        while let c = peek(), c == " " || c == "\t" { index += 1 }
        let start = index
        let location = line.location(at: start)
        guard let c = peek() else { return ExprToken(kind: .end, location: line.location(at: end), offset: end) }
        if ("0"..."9").contains(c) || (c == "." && (peek(1).map { ("0"..."9").contains($0) } ?? false)) {
            return try number(start: start, location: location)
        }
        if c == "\"" || c == "'" {
            let text = try ExprLexer.readQuoted(line: line, index: &index, end: end)
            return ExprToken(kind: .string(text), location: location, offset: start)
        }
        if c == "_" || c.properties.isAlphabetic {
            var name = ""
            while let d = peek(), d == "_" || d.properties.isAlphabetic || ("0"..."9").contains(d) {
                name.unicodeScalars.append(d)
                index += 1
            }
            return ExprToken(kind: .identifier(name), location: location, offset: start)
        }
        let two = peek(1).map { String(c) + String($0) } ?? ""
        if ["**", "//", "${"].contains(two) {
            index += 2
            return ExprToken(kind: .op(two), location: location, offset: start)
        }
        if "+-*/%()[]{},:$".unicodeScalars.contains(c) {
            index += 1
            return ExprToken(kind: .op(String(c)), location: location, offset: start)
        }
        throw CellError(.syntax, "unexpected character '\(c)' in expression", at: location)
    }

    private mutating func number(start: Int, location: SourceLocation) throws -> ExprToken {
        var text = ""
        var isFloat = false
        while let d = peek() {
            if ("0"..."9").contains(d) || d == "_" {
                if d != "_" { text.unicodeScalars.append(d) }
            } else if d == "." && !isFloat {
                isFloat = true
                text.append(".")
            } else if (d == "e" || d == "E"), let n = peek(1),
                      ("0"..."9").contains(n) || ((n == "+" || n == "-") && (peek(2).map { ("0"..."9").contains($0) } ?? false)) {
                isFloat = true
                text.append("e")
                text.unicodeScalars.append(n)
                index += 1
            } else {
                break
            }
            index += 1
        }
        if isFloat {
            guard let value = Double(text) else { throw CellError(.syntax, "bad number '\(text)'", at: location) }
            return ExprToken(kind: .float(value), location: location, offset: start)
        }
        guard let value = Int(text) else {
            throw CellError(.value, "integer '\(text)' is too large", at: location)
        }
        return ExprToken(kind: .int(value), location: location, offset: start)
    }

    /// Reads a quoted string starting at `index` (on the quote) and leaves `index` past the closing quote.
    static func readQuoted(line: LogicalLine, index: inout Int, end: Int) throws -> String {
        let quote = line.scalars[index]
        let openLocation = line.location(at: index)
        index += 1
        var out = String.UnicodeScalarView()
        while index < end {
            let c = line.scalars[index]
            if c == quote {
                index += 1
                return String(out)
            }
            if c == "\\" {
                guard index + 1 < end else { break }
                let e = line.scalars[index + 1]
                index += 2
                switch e {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "0": out.append("\0")
                case "\\", "\"", "'", "$": out.append(e)
                case "u", "x":
                    let count = e == "x" ? 2 : 4
                    var hex = ""
                    while hex.count < count, index < end, line.scalars[index].properties.isASCIIHexDigit {
                        hex.unicodeScalars.append(line.scalars[index])
                        index += 1
                    }
                    guard hex.count == count, let v = UInt32(hex, radix: 16), let s = Unicode.Scalar(v) else {
                        throw CellError(.syntax, "bad \\\(e) escape: expected \(count) hex digits", at: line.location(at: index))
                    }
                    out.append(s)
                default:
                    // Unknown escapes keep the backslash, as Python does.
                    out.append("\\")
                    out.append(e)
                }
                continue
            }
            out.append(c)
            index += 1
        }
        throw CellError(.syntax, "unterminated string: add the closing \(quote)", at: openLocation)
    }
}

// MARK: - Parser

/// Parses an expression from a token list.
struct ExprParser {
    private var tokens: [ExprToken]
    private var position = 0
    /// Open `unary()` calls: the parser's recursion depth.
    private var nesting = 0

    init(tokens: [ExprToken]) {
        self.tokens = tokens
    }

    /// Parses a whole expression from `range` of `line`, failing on anything left over.
    static func parse(_ line: LogicalLine, range: Range<Int>) throws -> Expression {
        var lexer = ExprLexer(line: line, range: range)
        var parser = ExprParser(tokens: try lexer.tokenize())
        if parser.current.kind == .end {
            throw CellError(.syntax, "expected an expression", at: parser.current.location)
        }
        let expr = try parser.expression()
        guard parser.current.kind == .end else {
            throw CellError(.syntax, "unexpected \(parser.describe(parser.current)) after the expression", at: parser.current.location)
        }
        return expr
    }

    private var current: ExprToken { tokens[min(position, tokens.count - 1)] }

    private mutating func advance() -> ExprToken {
        let t = current
        if position < tokens.count - 1 { position += 1 }
        return t
    }

    private func isOp(_ op: String) -> Bool {
        if case .op(let o) = current.kind { return o == op }
        return false
    }

    private mutating func expect(_ op: String, opener: ExprToken? = nil) throws {
        if let opener, current.kind == .end, case .op(let o) = opener.kind {
            throw CellError(.syntax, "'\(o)' is never closed: add '\(op)'", at: opener.location)
        }
        guard isOp(op) else {
            throw CellError(.syntax, "expected '\(op)' but found \(describe(current))", at: current.location)
        }
        _ = advance()
    }

    func describe(_ token: ExprToken) -> String {
        switch token.kind {
        case .int(let i): return "number \(i)"
        case .float(let d): return "number \(d)"
        case .string: return "a string"
        case .identifier(let n): return "'\(n)'"
        case .op(let o): return "'\(o)'"
        case .end: return "the end of the line"
        }
    }

    /// The deepest expression tree a cell may build: nesting (brackets, unary signs, `**`
    /// chains) and operator chains (`1+1+...`) both count. The parser, the evaluator and the
    /// tree's own deallocation recurse once per level, so this bound is what keeps a hostile
    /// cell (100,000 parentheses) a `SyntaxError` instead of a stack overflow.
    static let maximumDepth = 500

    /// An expression with the depth of its tree.
    private struct Parsed {
        var expr: Expression
        var depth: Int
    }

    mutating func expression() throws -> Expression { try sum().expr }

    /// Depth of a node with these children, or a SyntaxError past `maximumDepth`.
    private func level(_ children: Int..., at location: SourceLocation) throws -> Int {
        let d = (children.max() ?? 0) + 1
        guard d <= Self.maximumDepth else {
            throw CellError(.syntax, "expression nested too deeply (more than \(Self.maximumDepth) levels); "
                + "split it into several assignments", at: location)
        }
        return d
    }

    private mutating func sum() throws -> Parsed {
        var left = try term()
        while isOp("+") || isOp("-") {
            let t = advance()
            guard case .op(let op) = t.kind else { break }
            let right = try term()
            left = Parsed(expr: .binary(op, left.expr, right.expr, t.location), depth: try level(left.depth, right.depth, at: t.location))
        }
        return left
    }

    private mutating func term() throws -> Parsed {
        var left = try unary()
        while isOp("*") || isOp("/") || isOp("//") || isOp("%") {
            let t = advance()
            guard case .op(let op) = t.kind else { break }
            let right = try unary()
            left = Parsed(expr: .binary(op, left.expr, right.expr, t.location), depth: try level(left.depth, right.depth, at: t.location))
        }
        return left
    }

    /// Every nested operand passes through here, so the parser's own recursion is checked here
    /// before it goes deeper (`nesting` counts the open calls).
    private mutating func unary() throws -> Parsed {
        nesting += 1
        defer { nesting -= 1 }
        guard nesting <= Self.maximumDepth else {
            throw CellError(.syntax, "expression nested too deeply (more than \(Self.maximumDepth) levels); "
                + "split it into several assignments", at: current.location)
        }
        if isOp("-") || isOp("+") {
            let t = advance()
            guard case .op(let op) = t.kind else { return try power() }
            let operand = try unary()
            return Parsed(expr: .unary(op, operand.expr, t.location), depth: try level(operand.depth, at: t.location))
        }
        return try power()
    }

    private mutating func power() throws -> Parsed {
        let base = try postfix()
        if isOp("**") {
            let t = advance()
            let exponent = try unary()
            return Parsed(expr: .binary("**", base.expr, exponent.expr, t.location), depth: try level(base.depth, exponent.depth, at: t.location))
        }
        return base
    }

    private mutating func postfix() throws -> Parsed {
        var expr = try primary()
        while isOp("[") {
            let t = advance()
            let index = try sum()
            try expect("]")
            expr = Parsed(expr: .index(expr.expr, index.expr, t.location), depth: try level(expr.depth, index.depth, at: t.location))
        }
        return expr
    }

    /// Parses comma-separated items up to `closer` (which is left for the caller).
    private mutating func items(until closer: String) throws -> [Parsed] {
        var out: [Parsed] = []
        if !isOp(closer) {
            out.append(try sum())
            while isOp(",") {
                _ = advance()
                if isOp(closer) { break }
                out.append(try sum())
            }
        }
        return out
    }

    private mutating func primary() throws -> Parsed {
        let t = advance()
        switch t.kind {
        case .int(let i): return Parsed(expr: .literal(.int(i), t.location), depth: 1)
        case .float(let d): return Parsed(expr: .literal(.float(d), t.location), depth: 1)
        case .string(let s): return Parsed(expr: .literal(.string(s), t.location), depth: 1)
        case .identifier(let name):
            switch name {
            case "True", "true": return Parsed(expr: .literal(.bool(true), t.location), depth: 1)
            case "False", "false": return Parsed(expr: .literal(.bool(false), t.location), depth: 1)
            case "None", "null": return Parsed(expr: .literal(.none, t.location), depth: 1)
            default: break
            }
            if isOp("(") {
                _ = advance()
                let args = try items(until: ")")
                try expect(")", opener: t)
                return Parsed(expr: .call(name, args.map(\.expr), t.location), depth: try level(args.map(\.depth).max() ?? 0, at: t.location))
            }
            return Parsed(expr: .variable(name, t.location), depth: 1)
        case .op("$"):
            let nameToken = advance()
            guard case .identifier(let name) = nameToken.kind else {
                throw CellError(.syntax, "expected a variable name after '$'", at: nameToken.location)
            }
            return Parsed(expr: .variable(name, t.location), depth: 1)
        case .op("${"):
            let inner = try sum()
            try expect("}", opener: t)
            return inner
        case .op("("):
            let inner = try sum()
            try expect(")", opener: t)
            return inner
        case .op("["):
            let list = try items(until: "]")
            try expect("]", opener: t)
            return Parsed(expr: .list(list.map(\.expr), t.location), depth: try level(list.map(\.depth).max() ?? 0, at: t.location))
        case .op("{"):
            var entries: [(Expression, Expression)] = []
            var depth = 0
            if !isOp("}") {
                repeat {
                    if isOp(",") { _ = advance() }
                    if isOp("}") { break }
                    let key = try sum()
                    try expect(":")
                    let value = try sum()
                    entries.append((key.expr, value.expr))
                    depth = max(depth, key.depth, value.depth)
                } while isOp(",")
            }
            try expect("}", opener: t)
            return Parsed(expr: .dict(entries, t.location), depth: try level(depth, at: t.location))
        case .end:
            throw CellError(.syntax, "the expression ends too early", at: t.location)
        default:
            throw CellError(.syntax, "unexpected \(describe(t)) in expression", at: t.location)
        }
    }
}
