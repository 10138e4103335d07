// Values of the cell language: what variables hold and expressions produce.
//
// The forms are Python's literal forms (papermill's Python translator writes them),
// so `batch = 8`, `name = "x"`, `flags = [True, None]` and `cfg = {"a": 1}` all work.

import Foundation

/// A value of the cell language.
public enum CellValue: Equatable, Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case list([CellValue])
    /// An ordered dictionary: papermill writes dicts and users expect their order kept.
    case dict([DictEntry])

    /// One key and value of a `.dict`, in insertion order.
    public struct DictEntry: Equatable, Sendable {
        public var key: String
        public var value: CellValue
        public init(key: String, value: CellValue) {
            self.key = key
            self.value = value
        }
    }

    /// The most levels of lists and dicts a value may have. Printing, comparing and releasing a
    /// value recurse once per level, so values built over many cells (`x = [$x]` repeated)
    /// are bounded here as expressions are bounded by the parser.
    public static let maximumNesting = 500

    /// Levels of list/dict nesting (0 for a scalar); counting stops past `maximumNesting`.
    public var nesting: Int {
        switch self {
        case .list(let items): return 1 + (items.map(\.nesting).max() ?? 0)
        case .dict(let entries): return 1 + (entries.map(\.value.nesting).max() ?? 0)
        default: return 0
        }
    }

    /// The type's name as error messages show it.
    public var typeName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .list: return "list"
        case .dict: return "dict"
        }
    }

    /// How `print`, interpolation and `echo` show the value (Python's `str`).
    public var displayString: String {
        switch self {
        case .string(let s): return s
        default: return literal
        }
    }

    /// The value written back as a literal that parses to itself (Python's `repr`).
    /// The value as a command-line word: a string that reads back as itself unquoted
    /// (`n12`, `models/a.onnx`, `/encoder/layer.0`) stays bare, anything else is `literal`.
    public var word: String {
        if case .string(let s) = self, !s.isEmpty, s != "None", s != "True", s != "False",
           s.unicodeScalars.allSatisfy({ LineParser.isIdentifierChar($0) || "./:@-+".unicodeScalars.contains($0) }),
           !s.hasPrefix("--"), !s.contains("=") {
            return s
        }
        return literal
    }

    public var literal: String {
        switch self {
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .float(let d): return CellValue.formatFloat(d)
        case .string(let s): return CellValue.quote(s)
        case .list(let items): return "[" + items.map(\.literal).joined(separator: ", ") + "]"
        case .dict(let entries):
            return "{" + entries.map { CellValue.quote($0.key) + ": " + $0.value.literal }.joined(separator: ", ") + "}"
        }
    }

    /// Truthiness, as Python defines it.
    public var isTruthy: Bool {
        switch self {
        case .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .float(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .list(let l): return !l.isEmpty
        case .dict(let d): return !d.isEmpty
        }
    }

    /// The number as a Double, for ints and floats (and bools, as Python allows).
    public var numericValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .float(let d): return d
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// Shortest round-tripping form, with a `.0` so floats stay floats when read back.
    static func formatFloat(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d > 0 ? "inf" : "-inf" }
        let s = "\(d)"
        return s
    }

    /// A double-quoted literal with the escapes the lexer reads back.
    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
