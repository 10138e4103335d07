// Errors of the cell language and how they become Jupyter errors.
//
// Every error carries a kind (Jupyter's ename), a message that says what is wrong and
// what to do, and where possible the location it points at. `traceback(in:)` renders
// the cell line with a caret under the column, as Python does for syntax errors.

import JupyterKernel

/// An error raised while parsing or running a cell.
public struct CellError: Error, Equatable, Sendable {
    /// The error's class, shown as Jupyter's `ename`.
    public struct Kind: RawRepresentable, Equatable, Hashable, Sendable {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The text cannot be parsed.
        public static let syntax = Kind(rawValue: "SyntaxError")
        /// Unknown command, bad option or wrong argument count.
        public static let command = Kind(rawValue: "CommandError")
        /// A file could not be found, read or written.
        public static let file = Kind(rawValue: "FileError")
        /// A model is broken or an operation does not fit it.
        public static let model = Kind(rawValue: "ModelError")
        /// An unknown variable.
        public static let name = Kind(rawValue: "NameError")
        /// A value of the wrong type.
        public static let type = Kind(rawValue: "TypeError")
        /// A value of the right type but out of range.
        public static let value = Kind(rawValue: "ValueError")
        /// An unknown node, path, graph or key.
        public static let lookup = Kind(rawValue: "LookupError")
        /// The user interrupted the kernel.
        public static let interrupt = Kind(rawValue: "KeyboardInterrupt")
        /// Division by zero.
        public static let zeroDivision = Kind(rawValue: "ZeroDivisionError")
    }

    public var kind: Kind
    public var message: String
    /// Where the error points; nil when it concerns the whole command.
    public var location: SourceLocation?

    public init(_ kind: Kind, _ message: String, at location: SourceLocation? = nil) {
        self.kind = kind
        self.message = message
        self.location = location
    }

    /// The traceback lines Jupyter shows: where, the cell line, a caret, then the error. With
    /// an origin (a script run by `graphsmith run`) the place names the file line and the cell.
    public func traceback(in source: CellSource, origin: SourceOrigin? = nil) -> [String] {
        let place: String
        if let origin {
            let fileLine = location.map { origin.firstLine + $0.line - 1 } ?? origin.firstLine
            place = "\(origin.name), line \(fileLine) (cell \(origin.cell)"
                + (location.map { ", line \($0.line)), column \($0.column):" } ?? "):")
        } else {
            place = location.map { "Cell line \($0.line), column \($0.column):" } ?? ""
        }
        guard let location else { return (place.isEmpty ? [] : [place]) + ["\(kind.rawValue): \(message)"] }
        let line = source.physicalLine(location.line)
        let caretPad = String(repeating: " ", count: max(0, location.column - 1))
        return [
            place,
            "    " + line,
            "    " + caretPad + "^",
            "\(kind.rawValue): \(message)",
        ]
    }

    /// The Jupyter form of this error.
    public func kernelError(in source: CellSource, origin: SourceOrigin? = nil) -> KernelError {
        let whereText: String
        if let origin {
            let fileLine = location.map { origin.firstLine + $0.line - 1 } ?? origin.firstLine
            whereText = " (\(origin.name), line \(fileLine)" + (location.map { ", column \($0.column)" } ?? "") + ", cell \(origin.cell))"
        } else {
            whereText = location.map { " (\($0))" } ?? ""
        }
        return KernelError(name: kind.rawValue, value: message + whereText, traceback: traceback(in: source, origin: origin))
    }
}
