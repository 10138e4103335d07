// Tables: one value that renders as an aligned text table, an HTML table and JSON rows.

import Foundation
import JupyterKernel

/// A table of cells with typed columns; numbers align right and sort numerically.
public struct Table: Sendable {
    /// A column heading and how its cells align.
    public struct Column: Sendable {
        public var title: String
        public var numeric: Bool
        public init(_ title: String, numeric: Bool = false) {
            self.title = title
            self.numeric = numeric
        }
    }

    /// One cell: what is shown, and the raw value for sorting and JSON.
    public struct Cell: Sendable, ExpressibleByStringLiteral {
        public var text: String
        public var value: JSONValue
        /// The cell's HTML form when it is more than its text (a link), already escaped; the
        /// text form stays `text`.
        public var html: String?
        public init(_ text: String, value: JSONValue? = nil, html: String? = nil) {
            self.text = text
            self.value = value ?? .string(text)
            self.html = html
        }
        public init(stringLiteral value: String) { self.init(value) }
        /// An integer shown with thousands separators.
        public static func int(_ i: Int) -> Cell { Cell(Format.grouped(i), value: .int(Int64(i))) }
        /// A number shown with a fixed count of significant digits.
        public static func number(_ d: Double, digits: Int = 4) -> Cell {
            Cell(Format.number(d, digits: digits), value: d.isFinite ? .double(d) : .null)
        }
    }

    public var columns: [Column]
    public var rows: [[Cell]]
    /// A caption above the table.
    public var title: String?

    public init(columns: [Column], rows: [[Cell]] = [], title: String? = nil) {
        self.columns = columns
        self.rows = rows
        self.title = title
    }

    /// Aligned plain text, with a rule under the header.
    public var text: String {
        var widths = columns.map { $0.title.count }
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count {
                widths[i] = max(widths[i], cell.text.count)
            }
        }
        func pad(_ s: String, _ width: Int, right: Bool) -> String {
            let fill = String(repeating: " ", count: max(0, width - s.count))
            return right ? fill + s : s + fill
        }
        var lines: [String] = []
        if let title { lines.append(title) }
        lines.append(columns.enumerated().map { pad($1.title, widths[$0], right: $1.numeric) }.joined(separator: "  ")
            .replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
        lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        for row in rows {
            lines.append(columns.indices.map { i in
                pad(i < row.count ? row[i].text : "", widths[i], right: columns[i].numeric)
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
        }
        return lines.joined(separator: "\n")
    }

    /// A real HTML table; each cell carries its raw value in `data-sort` so frontends can sort.
    public var html: String {
        var h = "<table class=\"gs-table\">"
        if let title { h += "<caption style=\"text-align:left;font-weight:bold\">\(HTML.escape(title))</caption>" }
        h += "<thead><tr>"
        for c in columns {
            h += "<th style=\"text-align:\(c.numeric ? "right" : "left")\">\(HTML.escape(c.title))</th>"
        }
        h += "</tr></thead><tbody>"
        for row in rows {
            h += "<tr>"
            for (i, c) in columns.enumerated() {
                let cell = i < row.count ? row[i] : Cell("")
                let sort: String
                switch cell.value {
                case .int(let v): sort = " data-sort=\"\(v)\""
                case .double(let v): sort = " data-sort=\"\(v)\""
                default: sort = ""
                }
                h += "<td style=\"text-align:\(c.numeric ? "right" : "left")\"\(sort)>\(cell.html ?? HTML.escape(cell.text))</td>"
            }
            h += "</tr>"
        }
        return h + "</tbody></table>"
    }

    /// Rows as JSON objects keyed by column title.
    public var jsonRows: JSONValue {
        .array(rows.map { row in
            var o: [String: JSONValue] = [:]
            for (i, c) in columns.enumerated() where i < row.count { o[c.title] = row[i].value }
            return .object(o)
        })
    }

    /// The table as a bundle: text, HTML and JSON rows.
    public var bundle: OutputBundle {
        OutputBundle(text: text, html: html, json: ["columns": .array(columns.map { .string($0.title) }), "rows": jsonRows])
    }
}

/// Number formatting shared by tables and summaries.
public enum Format {
    /// `1234567` as `1,234,567`.
    public static func grouped(_ i: Int) -> String {
        let digits = String(i.magnitude)
        var out = ""
        for (n, ch) in digits.reversed().enumerated() {
            if n > 0 && n % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return (i < 0 ? "-" : "") + String(out.reversed())
    }

    /// A number with `digits` significant digits, without exponent for everyday magnitudes.
    public static func number(_ d: Double, digits: Int = 4) -> String {
        guard d.isFinite else { return d.isNaN ? "nan" : (d > 0 ? "inf" : "-inf") }
        if d == 0 { return "0" }
        let magnitude = abs(d)
        if magnitude >= 1e15 || magnitude < 1e-4 { return String(format: "%.\(max(digits - 1, 0))e", d) }
        let decimals = max(0, digits - 1 - Int(floor(log10(magnitude))))
        var s = String(format: "%.\(decimals)f", d)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }

    /// Bytes as `12.3 MB` (powers of 1000, as disk and model sizes are quoted).
    public static func bytes(_ b: Double) -> String {
        let units = ["B", "KB", "MB", "GB", "TB", "PB"]
        var v = b
        var u = 0
        while abs(v) >= 1000 && u < units.count - 1 { v /= 1000; u += 1 }
        return u == 0 ? "\(Int(v)) B" : "\(number(v, digits: 3)) \(units[u])"
    }

    /// A figure with its unit: bytes as `12.3 MB`, counts with SI prefixes (`1.23 GFLOP`,
    /// `4.5k MAC`), already-scaled units (`µs`, `mJ`) as plain numbers, unitless as `1.2M`.
    public static func quantity(_ d: Double, unit: String) -> String {
        switch unit {
        case "B": return bytes(d)
        case "": return si(d)
        case "FLOP", "MAC", "J", "s", "W":
            let scaled = si(d)
            let prefix = scaled.last.map { $0.isLetter } ?? false
            return prefix ? "\(scaled.dropLast()) \(scaled.last.map(String.init) ?? "")\(unit)" : "\(scaled) \(unit)"
        default: return "\(number(d)) \(unit)"
        }
    }

    /// A count as `1.23M`, `4.5G`.
    public static func si(_ d: Double) -> String {
        let units = ["", "k", "M", "G", "T", "P"]
        var v = d
        var u = 0
        while abs(v) >= 1000 && u < units.count - 1 { v /= 1000; u += 1 }
        return number(v, digits: 3) + units[u]
    }
}
