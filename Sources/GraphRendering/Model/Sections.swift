// Sections of a long flat level: the level's nodes, in flow order, cut into groups of about
// `size` nodes that a reader can recognise. Stretches that repeat one op sequence (a CNN's
// Conv→BatchNorm→Relu blocks, a transformer's layers) become stages labelled with the count and
// the sequence ("stage ×6: Conv→BatchNormalization→Relu"); the rest are cut evenly. Each section
// is named by its position and its first and last nodes (`s03_conv2_1..relu2_3`), so the name
// says where it is and `show NAME` opens it.

import GraphOps

/// One planned section: a run of the ordered member list.
struct SectionPlan: Equatable {
    /// Positions in the ordered member list.
    var members: Range<Int>
    /// Path segment (unique within the level, no slashes or spaces).
    var segment: String
    /// Frame title and first line of the collapsed box: first and last node.
    var title: String
    /// What the section holds: the repeated stage, or its most frequent ops.
    var summary: String
}

/// A repeated op sequence found in the ordered list: `copies` copies of a `period`-long unit
/// starting at `start`.
struct Repeat: Equatable {
    var start: Int
    var period: Int
    var copies: Int
    var covered: Int { period * copies }
}

/// Maximal tandem repeats of at least three copies, chosen greedily by coverage (then by
/// shorter unit), non-overlapping, in list order. O(n × maxPeriod).
func findRepeats(_ codes: [Int], maxPeriod: Int, minCovered: Int) -> [Repeat] {
    let n = codes.count
    var candidates: [Repeat] = []
    if n < 6 { return [] }
    for p in 1...max(1, min(maxPeriod, n / 3)) {
        var j = 0
        while j + p < n {
            if codes[j] != codes[j + p] { j += 1; continue }
            let a = j
            while j + p < n && codes[j] == codes[j + p] { j += 1 }
            // codes[a ..< j + p] has period p.
            let copies = (j + p - a) / p
            if copies >= 3 && copies * p >= minCovered { candidates.append(Repeat(start: a, period: p, copies: copies)) }
        }
    }
    // A unit that is itself periodic (p = 2 inside p = 4) covers the same run: prefer the most
    // covered nodes, then the shortest unit, then the earliest.
    candidates.sort { ($0.covered, -$0.period, -$0.start) > ($1.covered, -$1.period, -$1.start) }
    var taken = [Bool](repeating: false, count: n)
    var chosen: [Repeat] = []
    for c in candidates {
        // Trim a candidate to the copies that lie wholly on free positions.
        var first = 0
        while first < c.copies && (0..<c.period).contains(where: { taken[c.start + first * c.period + $0] }) { first += 1 }
        var last = first
        while last < c.copies && !(0..<c.period).contains(where: { taken[c.start + last * c.period + $0] }) { last += 1 }
        let r = Repeat(start: c.start + first * c.period, period: c.period, copies: last - first)
        guard r.copies >= 3 && r.covered >= minCovered else { continue }
        for k in r.start..<(r.start + r.covered) { taken[k] = true }
        chosen.append(r)
    }
    return chosen.sorted { $0.start < $1.start }
}

/// Cuts an ordered member list into sections of about `size` nodes; `ops[i]` and `names[i]`
/// describe `list[i]`. A lone node between stages stays outside any section.
func planSections(ops: [String], names: [String], size: Int) -> [SectionPlan] {
    let n = ops.count
    var codeOf: [String: Int] = [:]
    let codes = ops.map { op -> Int in
        if let c = codeOf[op] { return c }
        codeOf[op] = codeOf.count
        return codeOf.count - 1
    }
    let repeats = findRepeats(codes, maxPeriod: size, minCovered: max(12, size / 4))
    // Runs of the list, each plain or part of a stage (its copies here, the stage's total, unit length).
    struct Run { var range: Range<Int>; var stage: (copies: Int, total: Int, period: Int)? }
    var runs: [Run] = []
    var at = 0
    func plain(upTo end: Int) {
        guard end > at else { return }
        let count = end - at
        let pieces = max(1, (count + size / 2) / size)
        let per = (count + pieces - 1) / pieces
        var s = at
        while s < end { runs.append(Run(range: s..<min(end, s + per), stage: nil)); s += per }
        at = end
    }
    for r in repeats {
        plain(upTo: r.start)
        // Whole copies per section, about `size` nodes each.
        let perSection = max(1, size / r.period)
        let pieces = max(1, (r.copies + perSection - 1) / perSection)
        let copiesPer = (r.copies + pieces - 1) / pieces
        var k = 0
        while k < r.copies {
            let m = min(copiesPer, r.copies - k)
            let s = r.start + k * r.period
            runs.append(Run(range: s..<(s + m * r.period), stage: (m, r.copies, r.period)))
            k += m
        }
        at = r.start + r.covered
    }
    plain(upTo: n)
    // A run of one node would be a group of one, which the tree dissolves: leave it out.
    let kept = runs.filter { $0.range.count > 1 }
    let width = String(kept.count).count
    return kept.enumerated().map { (i, run) in
        let range = run.range
        let first = names[range.lowerBound], last = names[range.upperBound - 1]
        var index = String(i + 1)
        while index.count < width { index = "0" + index }
        let segment = "s" + index + "_" + pathSafe(first) + (range.count > 1 ? ".." + pathSafe(last) : "")
        let title = range.count > 1 ? "\(first) … \(last)" : first
        let summary: String
        if let stage = run.stage {
            let head = stage.copies == stage.total ? "stage ×\(stage.copies): " : "stage ×\(stage.copies) of \(stage.total): "
            summary = head + opSequence(ops[range.lowerBound..<(range.lowerBound + stage.period)], budget: 46 - head.count)
        } else {
            var counts: [String: Int] = [:]
            for op in ops[range] where OpCategory.of(op) != .constant { counts[op, default: 0] += 1 }
            summary = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(2)
                .map { "\($0.key) \($0.value)" }.joined(separator: " · ")
        }
        return SectionPlan(members: range, segment: segment, title: title, summary: summary)
    }
}

/// `Conv→BatchNorm→Relu`, shortened to about `budget` characters with `…+N` for the ops left out.
func opSequence(_ ops: ArraySlice<String>, budget: Int) -> String {
    let short = ops.map { $0.hasSuffix("Normalization") ? String($0.dropLast(13)) + "Norm" : $0 }
    var out = ""
    for (k, op) in short.enumerated() {
        let piece = (k == 0 ? "" : "→") + op
        let rest = short.count - k
        if out.count + piece.count > budget - (rest > 1 ? 4 : 0) && k > 0 { return out + "…+\(rest)" }
        out += piece
    }
    return out
}

/// A name usable as one path segment in a cell: letters, digits, `_`, `.` and `-`, at most 24
/// characters.
func pathSafe(_ name: String) -> String {
    var out = ""
    for ch in name.unicodeScalars.suffix(24) {
        let ok = (ch >= "a" && ch <= "z") || (ch >= "A" && ch <= "Z") || (ch >= "0" && ch <= "9") || ch == "_" || ch == "-"
            || (ch == "." && !out.hasSuffix("."))
        out.unicodeScalars.append(ok ? ch : "_")
    }
    return out.isEmpty ? "node" : out
}
