// The kernel's execution history, kept by the core so every language gets
// `history_request` (tail, range, search) for free. In memory only: a restarted kernel
// is a new process and starts a new history, as a new session.

/// One executed cell.
public struct HistoryEntry: Equatable, Sendable {
    /// The kernel session number (always `History.session` for this process).
    public var session: Int
    /// The cell's execution_count.
    public var line: Int
    /// The cell's source as executed.
    public var input: String
    /// The cell's `text/plain` result, if it had one.
    public var output: String?

    /// An entry as history_request reports it.
    public init(session: Int, line: Int, input: String, output: String? = nil) {
        self.session = session
        self.line = line
        self.input = input
        self.output = output
    }
}

/// Executed cells in order, with the three lookups of `history_request`.
public struct History: Sendable {
    /// This process's session number, as reported in history entries.
    public let session: Int
    /// Everything recorded and still kept, oldest first.
    public private(set) var entries: [HistoryEntry] = []
    /// Entries beyond this many are forgotten (oldest first) so a long session stays bounded.
    public let capacity: Int

    /// An empty history for `session`, keeping at most about `capacity` entries.
    public init(session: Int = 1, capacity: Int = 100_000) {
        self.session = session
        self.capacity = max(1, capacity)
    }

    /// Records a cell. Called for every execute with store_history.
    public mutating func record(line: Int, input: String, output: String? = nil) {
        entries.append(HistoryEntry(session: session, line: line, input: input, output: output))
        if entries.count > capacity + capacity / 4 {
            entries.removeFirst(entries.count - capacity)
        }
    }

    /// The last `n` entries, oldest first; with `unique`, only the latest of equal inputs.
    public func tail(_ n: Int, unique: Bool = false) -> [HistoryEntry] {
        let source = unique ? Self.latestUnique(entries) : entries
        return Array(source.suffix(max(0, n)))
    }

    /// Entries of `session` whose line is in `start..<stop` (`stop` nil: to the end).
    /// Session 0 means the current one, as in IPython; other sessions have no entries here.
    public func range(session requested: Int, start: Int, stop: Int?) -> [HistoryEntry] {
        guard requested == 0 || requested == session else { return [] }
        return entries.filter { entry in entry.line >= start && (stop.map { entry.line < $0 } ?? true) }
    }

    /// Entries whose input matches the glob `pattern` (`*`, `?`, `[abc]`), oldest first;
    /// with `n`, only the last n matches; with `unique`, only the latest of equal inputs.
    public func search(pattern: String, n: Int? = nil, unique: Bool = false) -> [HistoryEntry] {
        let glob = Array(pattern.unicodeScalars)
        var matches = entries.filter { Self.glob(glob, matches: Array($0.input.unicodeScalars)) }
        if unique { matches = Self.latestUnique(matches) }
        if let n { matches = Array(matches.suffix(max(0, n))) }
        return matches
    }

    private static func latestUnique(_ list: [HistoryEntry]) -> [HistoryEntry] {
        var seen = Set<String>()
        var kept: [HistoryEntry] = []
        for entry in list.reversed() where seen.insert(entry.input).inserted {
            kept.append(entry)
        }
        return kept.reversed()
    }

    /// Whole-string glob match, iterative with backtracking on the last `*` (linear-ish,
    /// no recursion, so hostile patterns cannot blow the stack).
    static func glob(_ pattern: [Unicode.Scalar], matches text: [Unicode.Scalar]) -> Bool {
        var p = 0, t = 0
        var starP = -1, starT = 0
        while t < text.count {
            if p < pattern.count {
                let c = pattern[p]
                if c == "*" { starP = p; starT = t; p += 1; continue }
                if c == "?" { p += 1; t += 1; continue }
                if c == "[", let (matched, next) = matchClass(pattern, from: p, scalar: text[t]) {
                    if matched { p = next; t += 1; continue }
                } else if c == text[t] {
                    p += 1; t += 1; continue
                }
            }
            if starP >= 0 {
                starT += 1
                t = starT
                p = starP + 1
                continue
            }
            return false
        }
        while p < pattern.count, pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }

    /// Matches `[...]` at `start`; nil when the bracket is not closed (then it is a literal).
    private static func matchClass(_ pattern: [Unicode.Scalar], from start: Int,
                                   scalar: Unicode.Scalar) -> (Bool, Int)? {
        var index = start + 1
        var negate = false
        if index < pattern.count, pattern[index] == "!" || pattern[index] == "^" { negate = true; index += 1 }
        var matched = false
        var first = true
        while index < pattern.count {
            let c = pattern[index]
            if c == "]" && !first { return (matched != negate, index + 1) }
            first = false
            if index + 2 < pattern.count, pattern[index + 1] == "-", pattern[index + 2] != "]" {
                if c.value <= scalar.value && scalar.value <= pattern[index + 2].value { matched = true }
                index += 3
            } else {
                if c == scalar { matched = true }
                index += 1
            }
        }
        return nil
    }
}
