// Small text helpers for the writers: XML escaping that also drops characters XML 1.0 forbids
// (so xmllint always passes), and compact coordinate formatting.

/// Escapes `s` for XML text and attribute values, dropping control characters XML 1.0 forbids.
func xmlEscape(_ s: String) -> String {
    var needs = false
    for u in s.utf8 where u == 38 || u == 60 || u == 62 || u == 34 || u == 39 || u < 32 { needs = true; break }
    if !needs { return s }
    var out = ""
    out.reserveCapacity(s.utf8.count + 16)
    for ch in s.unicodeScalars {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        case "\n": out += "&#10;"
        case "\t", "\r": out.unicodeScalars.append(ch)
        default:
            if ch.value < 32 || (ch.value >= 0xFFFE && ch.value <= 0xFFFF) { continue }
            out.unicodeScalars.append(ch)
        }
    }
    return out
}

/// A coordinate with one decimal, trailing ".0" dropped.
@inline(__always)
func num(_ v: Double) -> String {
    let r = (v * 10).rounded()
    if !r.isFinite { return "0" }
    let i = Int(r)
    if i % 10 == 0 { return String(i / 10) }
    let sign = i < 0 ? "-" : ""
    let a = abs(i)
    return sign + String(a / 10) + "." + String(a % 10)
}
