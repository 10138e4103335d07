/// A minimal streaming JSON text builder: deterministic key order, correct string escaping,
/// no intermediate dictionaries, so exporting a 10k-node graph stays fast.

/// Appends JSON tokens to a string.
struct JSONWriter {
    private(set) var text = ""
    private var needsComma: [Bool] = [false]

    init() { text.reserveCapacity(1 << 16) }

    private mutating func separator() {
        if needsComma[needsComma.count - 1] { text += "," }
        needsComma[needsComma.count - 1] = true
    }

    mutating func beginObject() { valueSeparator(); text += "{"; needsComma.append(false) }
    mutating func endObject() { text += "}"; needsComma.removeLast() }
    mutating func beginArray() { valueSeparator(); text += "["; needsComma.append(false) }
    mutating func endArray() { text += "]"; needsComma.removeLast() }

    /// Writes `"key":` inside an object; the next value call supplies the value.
    mutating func key(_ k: String) {
        separator()
        JSONWriter.escape(k, into: &text)
        text += ":"
        pendingKey = true
    }
    private var pendingKey = false

    mutating func string(_ s: String) { valueSeparator(); JSONWriter.escape(s, into: &text) }
    mutating func number(_ d: Double) {
        valueSeparator()
        if d.isFinite {
            if d == d.rounded(), abs(d) < 1e15 { text += String(Int64(d)) } else { text += "\(d)" }
        } else {
            text += "null"
        }
    }
    mutating func bool(_ b: Bool) { valueSeparator(); text += b ? "true" : "false" }

    private mutating func valueSeparator() {
        if pendingKey {
            pendingKey = false
        } else {
            separator()
        }
    }

    mutating func field(_ k: String, _ v: String) { key(k); string(v) }

    static func escape(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }
}
