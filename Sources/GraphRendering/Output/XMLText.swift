// Small text helpers for the writers: XML escaping that also drops characters XML 1.0 forbids
// (so xmllint always passes), and compact coordinate formatting.

/// Escapes `s` for XML text and attribute values, dropping control characters XML 1.0 forbids.
/// Works on UTF-8 bytes: multi-byte characters pass through untouched (U+FFFE/U+FFFF aside).
func xmlEscape(_ s: String) -> String {
    var needs = false
    for u in s.utf8 where u == 38 || u == 60 || u == 62 || u == 34 || u == 39 || u < 32 || u == 0xEF { needs = true; break }
    if !needs { return s }
    var out: [UInt8] = []
    out.reserveCapacity(s.utf8.count + 32)
    let bytes = Array(s.utf8)
    var i = 0
    while i < bytes.count {
        let u = bytes[i]
        switch u {
        case 38: out.append(contentsOf: [38, 97, 109, 112, 59])              // &amp;
        case 60: out.append(contentsOf: [38, 108, 116, 59])                  // &lt;
        case 62: out.append(contentsOf: [38, 103, 116, 59])                  // &gt;
        case 34: out.append(contentsOf: [38, 113, 117, 111, 116, 59])        // &quot;
        case 39: out.append(contentsOf: [38, 97, 112, 111, 115, 59])         // &apos;
        case 10: out.append(contentsOf: [38, 35, 49, 48, 59])                // &#10;
        case 9, 13: out.append(u)
        case 0xEF where i + 2 < bytes.count && bytes[i + 1] == 0xBF && (bytes[i + 2] == 0xBE || bytes[i + 2] == 0xBF):
            i += 2                                                           // U+FFFE / U+FFFF
        default:
            if u >= 32 { out.append(u) }
        }
        i += 1
    }
    return String(decoding: out, as: UTF8.self)
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
