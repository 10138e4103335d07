/// Closest-name suggestions for misspelled ops and attributes ("did you mean"), by
/// case-insensitive Levenshtein distance with a cut-off that scales with the name's length.

/// Up to `limit` names from `pool` closest to `name`, best first; names further than about a
/// third of the longer length are left out (so `Conv2D` finds `Conv`, `zzz` finds nothing).
public func closestNames(to name: String, among pool: [String], limit: Int = 3) -> [String] {
    let target = Array(name.lowercased().unicodeScalars)
    var scored: [(Int, String)] = []
    for candidate in pool {
        let c = Array(candidate.lowercased().unicodeScalars)
        let cutoff = max(2, max(target.count, c.count) / 3)
        if abs(c.count - target.count) > cutoff { continue }
        let d = editDistance(target, c)
        if d <= cutoff { scored.append((d, candidate)) }
    }
    scored.sort { ($0.0, $0.1) < ($1.0, $1.1) }
    return scored.prefix(limit).map(\.1)
}

/// Levenshtein distance between two scalar arrays (two-row dynamic programme).
func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var prev = Array(0...b.count)
    var cur = Array(repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        cur[0] = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
        }
        swap(&prev, &cur)
    }
    return prev[b.count]
}
