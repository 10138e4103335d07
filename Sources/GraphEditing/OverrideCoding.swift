/// The JSON form of `Overrides` (format in Overrides.swift): a deterministic writer (keys
/// sorted, one entry per line group, floats in their shortest exact form, non-finite floats
/// as "NaN"/"Infinity"/"-Infinity") and a reader that names the entry and field of every
/// problem. Int64 values are read exactly.
import Foundation
import GraphIR

extension Overrides {
    /// The file text.
    public func json() -> String {
        var out = "{\n"
        out += "  \"format\": \(Overrides.quote(Overrides.format)),\n"
        out += "  \"version\": \(Overrides.version),\n"
        out += "  \"graph\": \(Overrides.quote(graph)),\n"
        out += "  \"overrides\": ["
        for (i, n) in nodes.enumerated() {
            out += i == 0 ? "\n" : ",\n"
            var fields: [String] = []
            if let id = n.node { fields.append("\"node\": \(Overrides.quote(id.description))") }
            fields.append("\"name\": \(Overrides.quote(n.name))")
            fields.append("\"op\": \(Overrides.quote(n.opType))")
            if !n.attributes.isEmpty {
                let kv = n.attributes.keys.sorted().map { "\(Overrides.quote($0)): \(Overrides.jsonText(n.attributes[$0] ?? .remove))" }
                fields.append("\"attributes\": {" + kv.joined(separator: ", ") + "}")
            }
            if !n.annotations.isEmpty {
                let kv = n.annotations.keys.sorted().map { k in
                    "\(Overrides.quote(k)): " + ((n.annotations[k] ?? nil).map(Overrides.quote) ?? "null")
                }
                fields.append("\"annotations\": {" + kv.joined(separator: ", ") + "}")
            }
            out += "    {" + fields.joined(separator: ",\n     ") + "}"
        }
        out += nodes.isEmpty ? "]\n}\n" : "\n  ]\n}\n"
        return out
    }

    /// One value as the file writes it.
    public static func jsonText(_ v: OverrideValue) -> String {
        switch v {
        case .int(let i): return String(i)
        case .number(let d):
            if d.isNaN { return "\"NaN\"" }
            if d.isInfinite { return d > 0 ? "\"Infinity\"" : "\"-Infinity\"" }
            return String(d)
        case .text(let s): return quote(s)
        case .list(let items): return "[" + items.map(jsonText).joined(separator: ", ") + "]"
        case .remove: return "null"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// Reads a file's bytes; `OverrideError` names the entry and field of each problem.
    public static func parse(_ data: Data) throws -> Overrides {
        let file: OverrideFile
        do {
            file = try JSONDecoder().decode(OverrideFile.self, from: data)
        } catch let e as DecodingError {
            throw OverrideError("not an overrides file: " + describe(e))
        } catch {
            throw OverrideError("not an overrides file: \(error)")
        }
        if let f = file.format, f != format { throw OverrideError("\"format\" is '\(f)'; expected '\(format)'") }
        if let v = file.version, v > version {
            throw OverrideError("the file is version \(v), written by a newer Graphsmith; this one reads version \(version)")
        }
        guard let entries = file.overrides else { throw OverrideError("the file has no \"overrides\" list") }
        var problems: [String] = []
        var nodes: [NodeOverride] = []
        for (i, e) in entries.enumerated() {
            var id: NodeID?
            if let text = e.node {
                let digits = text.hasPrefix("n") ? text.dropFirst() : ""
                if let raw = Int(digits), raw >= 0 { id = NodeID(raw) } else {
                    problems.append("overrides[\(i)].node: '\(text)' is not a node id like n12")
                }
            }
            var annotations: [String: String?] = [:]
            for (k, v) in e.annotations ?? [:] {
                switch v {
                case .remove: annotations[k] = .some(nil)
                case .text(let s): annotations[k] = s
                case .int(let n): annotations[k] = String(n)
                case .number(let d): annotations[k] = String(d)
                case .list: problems.append("overrides[\(i)].annotations.\(k): an annotation is text, not a list")
                }
            }
            nodes.append(NodeOverride(node: id, name: e.name ?? "", opType: e.op ?? "", attributes: e.attributes ?? [:],
                                      annotations: annotations))
        }
        if !problems.isEmpty { throw OverrideError(problems) }
        return Overrides(graph: file.graph ?? "", nodes: nodes)
    }

    static func describe(_ e: DecodingError) -> String {
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return p.isEmpty ? "" : "at \(p.hasPrefix(".") ? String(p.dropFirst()) : p): "
        }
        switch e {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            let detail = (c.underlyingError.map { "\($0)" } ?? c.debugDescription)
            return path(c) + detail
        case .keyNotFound(let k, let c): return path(c) + "missing \"\(k.stringValue)\""
        @unknown default: return "\(e)"
        }
    }
}

/// The file as decoded (every field optional, so missing ones get a clear message).
struct OverrideFile: Decodable {
    var format: String?
    var version: Int?
    var graph: String?
    var overrides: [OverrideEntry]?
}

struct OverrideEntry: Decodable {
    var node: String?
    var name: String?
    var op: String?
    var attributes: [String: OverrideValue]?
    var annotations: [String: OverrideValue]?
}

extension OverrideValue: Decodable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .remove; return }
        if let b = try? c.decode(Bool.self) { self = .text(b ? "true" : "false"); return }
        if let i = try? c.decode(Int64.self) { self = .int(i); return }
        if let d = try? c.decode(Double.self) { self = .number(d); return }
        if let s = try? c.decode(String.self) { self = .text(s); return }
        if let items = try? c.decode([OverrideValue].self) { self = .list(items); return }
        throw DecodingError.typeMismatch(OverrideValue.self, .init(codingPath: decoder.codingPath,
            debugDescription: "a value must be a number, string, list or null"))
    }
}
