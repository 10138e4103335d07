// The seam between the generic Jupyter kernel core and a language.
//
// A language (Graphsmith's cell language, or a test interpreter) implements
// `KernelInterpreter`. The core owns sockets, framing, signing, threads, status
// messages, history and comms; it calls the interpreter on the shell thread, one
// request at a time, and hands `execute` an `ExecutionContext` through which the
// interpreter publishes outputs and polls for interrupts. Nothing here knows
// about ZeroMQ, so the same interpreter also runs headlessly (`graphsmith run`)
// by giving the context a different output sink.

import Foundation

/// A language that the kernel core can serve.
///
/// All methods are called on the kernel's shell thread, never concurrently, so an
/// implementation needs no locking for its own state. Interrupts arrive on another
/// thread and are visible only through `ExecutionContext.isCancelled`.
public protocol KernelInterpreter: AnyObject {
    /// Static facts for `kernel_info_reply`. Called once per request, so keep it cheap.
    var kernelInfo: KernelInfo { get }

    /// Runs one cell. Outputs go through `context`; the return value decides the reply.
    func execute(_ request: ExecuteRequest, context: ExecutionContext) -> ExecuteOutcome

    /// Completion candidates at `cursorPosition`, counted in Unicode scalars.
    func complete(code: String, cursorPosition: Int) -> CompletionResult

    /// Help for whatever sits at `cursorPosition` (Shift-Tab), counted in Unicode scalars.
    func inspect(code: String, cursorPosition: Int, detailLevel: Int) -> InspectionResult

    /// Whether `code` is ready to run, for consoles deciding between run and newline.
    func isComplete(code: String) -> Completeness

    /// Called before the kernel exits or restarts, so the language can save its state.
    func shutdown(restart: Bool)
}

extension KernelInterpreter {
    public func shutdown(restart: Bool) {}
}

// MARK: - Requests and results

/// The parts of an `execute_request` a language needs.
public struct ExecuteRequest: Sendable {
    /// The cell's source.
    public var code: String
    /// `silent` requests publish nothing on iopub and are not counted.
    public var silent: Bool
    /// Whether the cell counts towards `execution_count` and history.
    public var storeHistory: Bool
    /// Whether the language may ask the user for input through `ExecutionContext.readInput`.
    public var allowStdin: Bool
    /// The client's stop-on-error flag, in case a language stops a multi-command cell early.
    public var stopOnError: Bool
    /// Where the cell came from when it is part of a script (`graphsmith run FILE`), so error
    /// locations can name the file line; nil for cells typed in a front end.
    public var origin: SourceOrigin?

    public init(code: String, silent: Bool = false, storeHistory: Bool = true,
                allowStdin: Bool = false, stopOnError: Bool = true, origin: SourceOrigin? = nil) {
        self.code = code
        self.silent = silent
        self.storeHistory = storeHistory
        self.allowStdin = allowStdin
        self.stopOnError = stopOnError
        self.origin = origin
    }
}

/// The place a cell's text was taken from: a script file (or `-e` argument) and the line of
/// that file the cell's first line is on.
public struct SourceOrigin: Sendable, Equatable {
    /// The file's name, or `-e 2` for the second `-e` cell.
    public var name: String
    /// The cell's number in the run, from 1.
    public var cell: Int
    /// The file line (from 1) of the cell's first line.
    public var firstLine: Int

    public init(name: String, cell: Int, firstLine: Int) {
        self.name = name
        self.cell = cell
        self.firstLine = firstLine
    }
}

/// How a cell ended: it decides the `execute_reply` status.
public enum ExecuteOutcome: Sendable, Equatable {
    /// The cell ran. `payload` items go into the reply (for example a `page` payload).
    case ok(payload: [JSONValue] = [])
    /// The cell failed. The core publishes the error on iopub and in the reply.
    case error(KernelError)
}

/// A language error as Jupyter shows it.
public struct KernelError: Error, Sendable, Equatable {
    /// The error's class, for example `SyntaxError` or `KeyboardInterrupt`.
    public var name: String
    /// One line that says what is wrong and what to do.
    public var value: String
    /// Lines shown to the user, already formatted (they may carry ANSI colors).
    public var traceback: [String]

    public init(name: String, value: String, traceback: [String] = []) {
        self.name = name
        self.value = value
        self.traceback = traceback.isEmpty ? ["\(name): \(value)"] : traceback
    }
}

/// Reply to `complete_request`. Cursor positions count Unicode scalars.
public struct CompletionResult: Sendable, Equatable {
    public var matches: [String]
    /// Start of the text the matches replace.
    public var cursorStart: Int
    /// End of the text the matches replace.
    public var cursorEnd: Int
    /// Extra data for frontends (for example `_jupyter_types_experimental`).
    public var metadata: [String: JSONValue]

    public init(matches: [String], cursorStart: Int, cursorEnd: Int,
                metadata: [String: JSONValue] = [:]) {
        self.matches = matches
        self.cursorStart = cursorStart
        self.cursorEnd = cursorEnd
        self.metadata = metadata
    }
}

/// Reply to `inspect_request`.
public struct InspectionResult: Sendable, Equatable {
    public var found: Bool
    public var data: MimeBundle
    public var metadata: [String: JSONValue]

    public init(found: Bool, data: MimeBundle = [:], metadata: [String: JSONValue] = [:]) {
        self.found = found
        self.data = data
        self.metadata = metadata
    }

    /// Nothing to show.
    public static let notFound = InspectionResult(found: false)
}

/// Reply to `is_complete_request`.
public enum Completeness: Sendable, Equatable {
    case complete
    /// More input is needed; `indent` is what a console should put on the next line.
    case incomplete(indent: String)
    case invalid
    case unknown
}

/// Facts for `kernel_info_reply`.
public struct KernelInfo: Sendable, Equatable {
    public var implementation: String
    public var implementationVersion: String
    public var languageName: String
    public var languageVersion: String
    public var mimetype: String
    /// With the leading dot, for example `.gsm`.
    public var fileExtension: String
    public var pygmentsLexer: String?
    public var codemirrorMode: String?
    public var banner: String
    public var helpLinks: [(text: String, url: String)]

    public init(implementation: String, implementationVersion: String, languageName: String,
                languageVersion: String, mimetype: String, fileExtension: String,
                pygmentsLexer: String? = nil, codemirrorMode: String? = nil,
                banner: String, helpLinks: [(text: String, url: String)] = []) {
        self.implementation = implementation
        self.implementationVersion = implementationVersion
        self.languageName = languageName
        self.languageVersion = languageVersion
        self.mimetype = mimetype
        self.fileExtension = fileExtension
        self.pygmentsLexer = pygmentsLexer
        self.codemirrorMode = codemirrorMode
        self.banner = banner
        self.helpLinks = helpLinks
    }

    public static func == (a: KernelInfo, b: KernelInfo) -> Bool {
        a.implementation == b.implementation && a.implementationVersion == b.implementationVersion
            && a.languageName == b.languageName && a.languageVersion == b.languageVersion
            && a.mimetype == b.mimetype && a.fileExtension == b.fileExtension
            && a.pygmentsLexer == b.pygmentsLexer && a.codemirrorMode == b.codemirrorMode
            && a.banner == b.banner && a.helpLinks.map(\.text) == b.helpLinks.map(\.text)
            && a.helpLinks.map(\.url) == b.helpLinks.map(\.url)
    }
}

// MARK: - Outputs

/// A MIME bundle: MIME type to value. Text formats are `.string`; `application/json`
/// and Vega-Lite values are JSON objects, as the protocol requires.
public typealias MimeBundle = [String: JSONValue]

/// Which stream a `stream` message writes to.
public enum StreamName: String, Sendable {
    case stdout
    case stderr
}

/// One thing a cell publishes, in the order it published it.
public enum KernelOutput: Sendable, Equatable {
    case stream(StreamName, String)
    case display(data: MimeBundle, metadata: [String: JSONValue], displayID: String?)
    case updateDisplay(data: MimeBundle, metadata: [String: JSONValue], displayID: String)
    case clearOutput(wait: Bool)
    case executeResult(data: MimeBundle, metadata: [String: JSONValue])
    case error(KernelError)
}

/// An interrupt flag shared between the thread that receives interrupts and the one running a cell.
public final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false

    public init() {}

    /// True once `cancel()` was called and until `reset()`.
    public var isCancelled: Bool {
        lock.lock(); defer { lock.unlock() }
        return raised
    }

    /// Asks the running cell to stop.
    public func cancel() {
        lock.lock(); raised = true; lock.unlock()
    }

    /// Clears the flag before the next cell.
    public func reset() {
        lock.lock(); raised = false; lock.unlock()
    }
}

/// What a running cell publishes through, handed to `KernelInterpreter.execute`.
///
/// The kernel core gives it a sink that signs and sends iopub messages; `graphsmith run`
/// and tests give it a sink that collects outputs. A silent request's context drops
/// everything.
public final class ExecutionContext {
    /// This cell's `execution_count`.
    public let executionCount: Int
    /// Tells this run of a cell from every other (counts repeat: silent runs, `graphsmith run`),
    /// so a language can tie state to one cell, such as a display its later lines refresh.
    public let cellID = UUID()
    private let sink: (KernelOutput) -> Void
    private let cancellation: CancellationFlag
    private let inputReader: ((String, Bool) -> String?)?

    /// - Parameters:
    ///   - executionCount: the count shown in execute_input, execute_result and the reply.
    ///   - cancellation: raised when the user interrupts the kernel.
    ///   - inputReader: asks the frontend for a line (`input_request`); nil when stdin is not allowed.
    ///   - sink: receives every output in order.
    public init(executionCount: Int, cancellation: CancellationFlag = CancellationFlag(),
                inputReader: ((String, Bool) -> String?)? = nil,
                sink: @escaping (KernelOutput) -> Void) {
        self.executionCount = executionCount
        self.cancellation = cancellation
        self.inputReader = inputReader
        self.sink = sink
    }

    /// True once the user interrupted; long commands poll this and stop with `KeyboardInterrupt`.
    public var isCancelled: Bool { cancellation.isCancelled }

    /// Writes text to stdout or stderr.
    public func stream(_ name: StreamName, _ text: String) {
        sink(.stream(name, text))
    }

    /// Shows a MIME bundle. Give a `displayID` to update it in place later.
    public func display(_ data: MimeBundle, metadata: [String: JSONValue] = [:], displayID: String? = nil) {
        sink(.display(data: data, metadata: metadata, displayID: displayID))
    }

    /// Replaces every output shown earlier with `displayID`.
    public func updateDisplay(_ data: MimeBundle, metadata: [String: JSONValue] = [:], displayID: String) {
        sink(.updateDisplay(data: data, metadata: metadata, displayID: displayID))
    }

    /// Clears the cell's output; with `wait`, just before the next output arrives.
    public func clearOutput(wait: Bool = false) {
        sink(.clearOutput(wait: wait))
    }

    /// Publishes the cell's value (`Out[n]`).
    public func executeResult(_ data: MimeBundle, metadata: [String: JSONValue] = [:]) {
        sink(.executeResult(data: data, metadata: metadata))
    }

    /// Publishes an error output without ending the cell. A cell that fails should
    /// instead return `ExecuteOutcome.error`, which the core publishes and replies with.
    public func error(_ error: KernelError) {
        sink(.error(error))
    }

    /// Asks the frontend for a line of input; nil when the request did not allow stdin.
    public func readInput(prompt: String, password: Bool = false) -> String? {
        inputReader?(prompt, password)
    }
}
