// Evaluation of cell-language expressions against the session's variables: Python's
// arithmetic rules (floor division, int overflow checks, repetition limits), indexing, the
// built-in functions, and the nesting bound on the lists and dicts a cell builds.

import Foundation

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
