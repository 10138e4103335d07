// Splitting a cell into logical command lines, with every character's position kept.
//
// One command per line; a trailing `\` or an open bracket continues it onto the next
// line; `#` outside quotes starts a comment; blank lines are skipped. Each logical line
// keeps the cell line and column of every scalar so an error can point a caret at
// the exact spot, and the same scan answers `is_complete`.

/// A position in a cell: 1-based line and 1-based column, both counted in Unicode scalars.
public struct SourceLocation: Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
    public var description: String { "line \(line), column \(column)" }
}

/// One command's text after joining continuations and dropping comments.
public struct LogicalLine: Sendable {
    /// The command's characters.
    public var scalars: [Unicode.Scalar]
    /// Where each scalar came from in the cell.
    public var locations: [SourceLocation]
    /// Where the line ends (just past its last scalar), for errors at end of input.
    public var end: SourceLocation

    /// The location of scalar `index`, or the end for an index past the last one.
    public func location(at index: Int) -> SourceLocation {
        index < locations.count && index >= 0 ? locations[index] : end
    }

    /// The text as a String.
    public var text: String {
        var s = String.UnicodeScalarView()
        s.append(contentsOf: scalars)
        return String(s)
    }
}

/// A cell split into logical lines, plus what the scan learned about completeness.
public struct CellSource: Sendable {
    /// The cell's physical lines, for printing the line an error points at.
    public let physicalLines: [String]
    /// The commands, in order.
    public let lines: [LogicalLine]
    /// Whether the cell ends inside a quote, a bracket or after a trailing backslash.
    public let endsIncomplete: Bool
    /// The first closing bracket with no opener, which can never parse.
    public let strayCloser: SourceLocation?

    public init(_ code: String) {
        let physical = code.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        }
        physicalLines = physical

        var lines: [LogicalLine] = []
        var currentScalars: [Unicode.Scalar] = []
        var currentLocations: [SourceLocation] = []
        var brackets: [Unicode.Scalar] = []
        var stray: SourceLocation?
        var openQuote = false
        var trailingBackslash = false

        func flush(end: SourceLocation) {
            let trimmedEmpty = currentScalars.allSatisfy { $0 == " " || $0 == "\t" }
            if !trimmedEmpty {
                lines.append(LogicalLine(scalars: currentScalars, locations: currentLocations, end: end))
            }
            currentScalars.removeAll(keepingCapacity: true)
            currentLocations.removeAll(keepingCapacity: true)
        }

        for (lineIndex, text) in physical.enumerated() {
            let lineNumber = lineIndex + 1
            let scalars = Array(text.unicodeScalars)
            var quote: Unicode.Scalar? = nil
            var i = 0
            var commentStart = scalars.count
            // Find the comment start and track quotes and brackets on this line.
            while i < scalars.count {
                let c = scalars[i]
                if let q = quote {
                    if c == "\\" { i += 2; continue }
                    if c == q { quote = nil }
                } else {
                    switch c {
                    case "\"", "'": quote = c
                    case "#": commentStart = i
                    case "(", "[", "{": brackets.append(c)
                    case ")", "]", "}":
                        let opener: Unicode.Scalar = c == ")" ? "(" : (c == "]" ? "[" : "{")
                        if brackets.last == opener {
                            brackets.removeLast()
                        } else if stray == nil {
                            stray = SourceLocation(line: lineNumber, column: i + 1)
                        }
                    default: break
                    }
                    if commentStart < scalars.count { break }
                }
                i += 1
            }
            openQuote = quote != nil
            var content = Array(scalars[0..<min(commentStart, scalars.count)])
            // Trailing whitespace does not hide a continuation backslash.
            while let last = content.last, last == " " || last == "\t" { content.removeLast() }
            trailingBackslash = !openQuote && content.last == "\\"
            if trailingBackslash { content.removeLast() }
            for (column, scalar) in content.enumerated() {
                currentScalars.append(scalar)
                currentLocations.append(SourceLocation(line: lineNumber, column: column + 1))
            }
            let endOfLine = SourceLocation(line: lineNumber, column: content.count + 1)
            if trailingBackslash || (!brackets.isEmpty && !openQuote) {
                // The command goes on: join with a space so words stay apart.
                currentScalars.append(" ")
                currentLocations.append(endOfLine)
                continue
            }
            brackets.removeAll()
            flush(end: endOfLine)
        }
        let lastLine = max(physical.count, 1)
        flush(end: SourceLocation(line: lastLine, column: (physical.last?.unicodeScalars.count ?? 0) + 1))
        lines = lines.map { line in
            var l = line
            while let last = l.scalars.last, last == " " { l.scalars.removeLast(); l.locations.removeLast() }
            return l
        }
        self.lines = lines
        endsIncomplete = openQuote || trailingBackslash || !brackets.isEmpty
        strayCloser = stray
    }

    /// The physical line `number` (1-based), or "" past the end.
    public func physicalLine(_ number: Int) -> String {
        number >= 1 && number <= physicalLines.count ? physicalLines[number - 1] : ""
    }
}
