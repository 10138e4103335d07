// Expressions of the cell language: parsing and evaluation.
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

// MARK: - Evaluation

/// Evaluates expressions against the session's variables.
struct ExprEvaluator {
    let variables: [String: CellValue]
    /// Read an unknown bare name as its own text, for lists of node names such as `[query, key]`.
    var bareNamesAsStrings = false

    func evaluate(_ expr: Expression) throws -> CellValue {
        switch expr {
        case .literal(let v, _):
            return v
        case .variable(let name, let loc):
            guard let v = variables[name] else {
                if bareNamesAsStrings { return .string(name) }
                throw CellError(.name, "variable '\(name)' is not defined; `vars` lists the defined ones", at: loc)
            }
            return v
        case .list(let items, let loc):
            let values = try items.map(evaluate)
            try checkNesting(values, at: loc)
            return .list(values)
        case .dict(let entries, let loc):
            var out: [CellValue.DictEntry] = []
            for (k, v) in entries {
                let key = try evaluate(k).displayString
                let value = try evaluate(v)
                try checkNesting([value], at: loc)
                if let i = out.firstIndex(where: { $0.key == key }) { out[i].value = value } else {
                    out.append(.init(key: key, value: value))
                }
            }
            return .dict(out)
        case .unary(let op, let operand, let loc):
            let v = try evaluate(operand)
            switch (op, v) {
            case ("-", .int(let i)):
                guard i != Int.min else { throw CellError(.value, "integer overflow", at: loc) }
                return .int(-i)
            case ("-", .float(let d)): return .float(-d)
            case ("+", .int), ("+", .float): return v
            default: throw CellError(.type, "bad operand type for unary \(op): '\(v.typeName)'", at: loc)
            }
        case .binary(let op, let l, let r, let loc):
            return try binary(op, try evaluate(l), try evaluate(r), at: loc)
        case .index(let base, let index, let loc):
            return try subscriptValue(try evaluate(base), try evaluate(index), at: loc)
        case .call(let name, let args, let loc):
            return try call(name, try args.map(evaluate), at: loc)
        }
    }

    /// Items of a new list or dict may not already be `CellValue.maximumNesting` deep. Each item
    /// is within the bound (every value is made here), so this walk is bounded too.
    private func checkNesting(_ items: [CellValue], at loc: SourceLocation) throws {
        for item in items where item.nesting >= CellValue.maximumNesting {
            throw CellError(.value, "value nested too deeply (more than \(CellValue.maximumNesting) levels of lists and dicts)", at: loc)
        }
    }

    private func binary(_ op: String, _ a: CellValue, _ b: CellValue, at loc: SourceLocation) throws -> CellValue {
        switch (a, b) {
        case (.int(let x), .int(let y)):
            switch op {
            case "+": return try checked(x.addingReportingOverflow(y), loc)
            case "-": return try checked(x.subtractingReportingOverflow(y), loc)
            case "*": return try checked(x.multipliedReportingOverflow(by: y), loc)
            case "/":
                guard y != 0 else { throw CellError(.zeroDivision, "division by zero", at: loc) }
                return .float(Double(x) / Double(y))
            case "//":
                guard y != 0 else { throw CellError(.zeroDivision, "integer division by zero", at: loc) }
                guard !(x == Int.min && y == -1) else { throw CellError(.value, "integer overflow", at: loc) }
                return .int(floorDiv(x, y))
            case "%":
                guard y != 0 else { throw CellError(.zeroDivision, "modulo by zero", at: loc) }
                if y == -1 { return .int(0) }
                return .int(x - floorDiv(x, y) * y)
            case "**":
                if y < 0 { return .float(pow(Double(x), Double(y))) }
                var result = 1
                for _ in 0..<y {
                    let (r, o) = result.multipliedReportingOverflow(by: x)
                    if o { throw CellError(.value, "\(x) ** \(y) is too large for an integer", at: loc) }
                    result = r
                }
                return .int(result)
            default: break
            }
        case (.string(let x), .string(let y)) where op == "+":
            return .string(x + y)
        case (.string(let x), .int(let n)) where op == "*":
            try checkRepetition(x.utf8.count, n, at: loc)
            return .string(String(repeating: x, count: max(0, n)))
        case (.list(let x), .list(let y)) where op == "+":
            return .list(x + y)
        case (.list(let x), .int(let n)) where op == "*":
            try checkRepetition(x.count * 16, n, at: loc)
            return .list(Array(repeating: x, count: max(0, n)).flatMap { $0 })
        default:
            if let x = a.numericValue, let y = b.numericValue {
                switch op {
                case "+": return .float(x + y)
                case "-": return .float(x - y)
                case "*": return .float(x * y)
                case "/":
                    guard y != 0 else { throw CellError(.zeroDivision, "division by zero", at: loc) }
                    return .float(x / y)
                case "//":
                    guard y != 0 else { throw CellError(.zeroDivision, "division by zero", at: loc) }
                    return .float((x / y).rounded(.down))
                case "%":
                    guard y != 0 else { throw CellError(.zeroDivision, "modulo by zero", at: loc) }
                    return .float(x - (x / y).rounded(.down) * y)
                case "**": return .float(pow(x, y))
                default: break
                }
            }
        }
        throw CellError(.type, "unsupported operand types for \(op): '\(a.typeName)' and '\(b.typeName)'", at: loc)
    }

    /// Keeps `"x" * n` and `[..] * n` from asking for more memory than a session should hold.
    private func checkRepetition(_ unitSize: Int, _ count: Int, at loc: SourceLocation) throws {
        let (total, overflow) = max(unitSize, 1).multipliedReportingOverflow(by: max(count, 0))
        if overflow || total > 256_000_000 {
            throw CellError(.value, "the result would be too large (over 256 MB)", at: loc)
        }
    }

    private func checked(_ r: (partialValue: Int, overflow: Bool), _ loc: SourceLocation) throws -> CellValue {
        if r.overflow { throw CellError(.value, "integer overflow", at: loc) }
        return .int(r.partialValue)
    }

    private func floorDiv(_ x: Int, _ y: Int) -> Int {
        let q = x / y
        return (x % y != 0 && ((x < 0) != (y < 0))) ? q - 1 : q
    }

    private func subscriptValue(_ base: CellValue, _ index: CellValue, at loc: SourceLocation) throws -> CellValue {
        switch (base, index) {
        case (.list(let items), .int(let i)):
            let j = i < 0 ? items.count + i : i
            guard j >= 0 && j < items.count else {
                throw CellError(.lookup, "list index \(i) is out of range (length \(items.count))", at: loc)
            }
            return items[j]
        case (.string(let s), .int(let i)):
            let scalars = Array(s.unicodeScalars)
            let j = i < 0 ? scalars.count + i : i
            guard j >= 0 && j < scalars.count else {
                throw CellError(.lookup, "string index \(i) is out of range (length \(scalars.count))", at: loc)
            }
            return .string(String(scalars[j]))
        case (.dict(let entries), let key):
            let k = key.displayString
            guard let e = entries.first(where: { $0.key == k }) else {
                throw CellError(.lookup, "key \(key.literal) is not in the dict", at: loc)
            }
            return e.value
        default:
            throw CellError(.type, "'\(base.typeName)' cannot be indexed by '\(index.typeName)'", at: loc)
        }
    }

    /// The functions expressions may call.
    static let functionNames = ["abs", "float", "int", "len", "max", "min", "range", "round", "str", "sum"]

    private func call(_ name: String, _ args: [CellValue], at loc: SourceLocation) throws -> CellValue {
        func numbers(_ values: [CellValue]) throws -> [CellValue] {
            let list: [CellValue]
            if values.count == 1, case .list(let l) = values[0] { list = l } else { list = values }
            guard !list.isEmpty else { throw CellError(.value, "\(name)() needs at least one value", at: loc) }
            for v in list where v.numericValue == nil {
                throw CellError(.type, "\(name)() needs numbers, not '\(v.typeName)'", at: loc)
            }
            return list
        }
        switch name {
        case "range":
            let ints = try args.map { v -> Int in
                guard case .int(let i) = v else { throw CellError(.type, "range() takes integers, not '\(v.typeName)'", at: loc) }
                return i
            }
            let (start, stop, step): (Int, Int, Int)
            switch ints.count {
            case 1: (start, stop, step) = (0, ints[0], 1)
            case 2: (start, stop, step) = (ints[0], ints[1], 1)
            case 3: (start, stop, step) = (ints[0], ints[1], ints[2])
            default: throw CellError(.type, "range() takes 1 to 3 integers, got \(ints.count)", at: loc)
            }
            guard step != 0 else { throw CellError(.value, "range() step must not be zero", at: loc) }
            let count = step > 0 ? max(0, (stop - start + step - 1) / step) : max(0, (start - stop - step - 1) / -step)
            guard count <= 10_000_000 else { throw CellError(.value, "range() of \(count) items is too long", at: loc) }
            return .list(stride(from: start, to: stop, by: step).map { .int($0) })
        case "len":
            guard args.count == 1 else { throw CellError(.type, "len() takes one value", at: loc) }
            switch args[0] {
            case .list(let l): return .int(l.count)
            case .string(let s): return .int(s.unicodeScalars.count)
            case .dict(let d): return .int(d.count)
            default: throw CellError(.type, "'\(args[0].typeName)' has no length", at: loc)
            }
        case "min", "max":
            let list = try numbers(args)
            var best = list[0]
            for v in list.dropFirst() {
                let (a, b) = (v.numericValue ?? 0, best.numericValue ?? 0)
                if name == "min" ? a < b : a > b { best = v }
            }
            return best
        case "sum":
            let list = args.count == 1 ? (args[0].arrayItems ?? args) : args
            var total: CellValue = .int(0)
            for v in list { total = try binary("+", total, v, at: loc) }
            return total
        case "abs":
            guard args.count == 1 else { throw CellError(.type, "abs() takes one number", at: loc) }
            switch args[0] {
            case .int(let i):
                guard i != Int.min else { throw CellError(.value, "integer overflow", at: loc) }
                return .int(abs(i))
            case .float(let d): return .float(abs(d))
            default: throw CellError(.type, "abs() needs a number, not '\(args[0].typeName)'", at: loc)
            }
        case "round":
            guard (1...2).contains(args.count), let x = args[0].numericValue else {
                throw CellError(.type, "round() takes a number and optional digits", at: loc)
            }
            if args.count == 2, case .int(let digits) = args[1] {
                let scale = pow(10.0, Double(digits))
                return .float((x * scale).rounded(.toNearestOrEven) / scale)
            }
            let r = x.rounded(.toNearestOrEven)
            guard r.magnitude < 9.2e18 else { throw CellError(.value, "round() result is too large", at: loc) }
            return .int(Int(r))
        case "str":
            guard args.count == 1 else { throw CellError(.type, "str() takes one value", at: loc) }
            return .string(args[0].displayString)
        case "int":
            guard args.count == 1 else { throw CellError(.type, "int() takes one value", at: loc) }
            switch args[0] {
            case .int: return args[0]
            case .bool(let b): return .int(b ? 1 : 0)
            case .float(let d):
                guard d.isFinite, d.magnitude < 9.2e18 else { throw CellError(.value, "cannot convert \(d) to int", at: loc) }
                return .int(Int(d))
            case .string(let s):
                guard let i = Int(s.trimmingCharacters(in: .whitespaces)) else {
                    throw CellError(.value, "invalid integer \(CellValue.quote(s))", at: loc)
                }
                return .int(i)
            default: throw CellError(.type, "int() cannot convert '\(args[0].typeName)'", at: loc)
            }
        case "float":
            guard args.count == 1 else { throw CellError(.type, "float() takes one value", at: loc) }
            if let d = args[0].numericValue { return .float(d) }
            if case .string(let s) = args[0], let d = Double(s.trimmingCharacters(in: .whitespaces)) { return .float(d) }
            throw CellError(.value, "float() cannot convert \(args[0].literal)", at: loc)
        default:
            throw CellError(.name, "unknown function '\(name)'; functions: \(ExprEvaluator.functionNames.joined(separator: ", "))", at: loc)
        }
    }
}

extension CellValue {
    /// The items, if this is a list.
    var arrayItems: [CellValue]? { if case .list(let l) = self { return l } else { return nil } }
}
