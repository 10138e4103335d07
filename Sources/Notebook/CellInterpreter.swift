// The Graphsmith language as the kernel core sees it: the `KernelInterpreter` that parses
// cells, runs their commands against the session, and answers completion, inspection
// and is-complete requests from the command table.

import Foundation
import GraphEditing
import JupyterKernel

/// Runs Graphsmith cells against a live session.
public final class CellInterpreter: KernelInterpreter {
    /// The session's state. Commands change it only when they succeed.
    public private(set) var session: Session
    /// The commands this interpreter knows.
    public let table: CommandTable
    /// Where state-changing commands are recorded before their reply; nil keeps none
    /// (`graphsmith run`, most tests).
    public let journal: SessionJournal?
    /// The time a command runs at (injected so tests and restore control the stamps).
    private let clock: () -> Date

    public init(workingDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                table: CommandTable = .standard, journal: SessionJournal? = nil, clock: @escaping () -> Date = Date.init) {
        self.session = Session(workingDirectory: workingDirectory)
        self.session.journal.place = journal?.place
        self.table = table
        self.journal = journal
        self.clock = clock
    }

    /// A clean shutdown or restart closes the journal, so no later kernel offers to restore it.
    public func shutdown(restart: Bool) {
        journal?.close(reason: restart ? "restart" : "shutdown", time: clock())
    }

    public var kernelInfo: KernelInfo {
        KernelInfo(
            implementation: "graphsmith", implementationVersion: GraphsmithVersion.string,
            languageName: "graphsmith", languageVersion: GraphsmithVersion.string,
            mimetype: "text/x-graphsmith", fileExtension: ".gsm", pygmentsLexer: "bash", codemirrorMode: "shell",
            banner: "Graphsmith \(GraphsmithVersion.string): explore and change ML model graphs. Type `help` to start.",
            helpLinks: [("Graphsmith commands", "https://github.com/graphsmith/graphsmith#commands")])
    }

    // MARK: Execute

    public func execute(_ request: ExecuteRequest, context: ExecutionContext) -> ExecuteOutcome {
        if let subject = CellInterpreter.pagerSubject(request.code) { return page(subject) }
        let output = CommandOutput(context: context)
        // A silent request publishes nothing, so the notice waits for the first visible cell.
        if !request.silent, let notice = journal?.takeStartNotice() { output.print(notice) }
        let outcome = runCell(request, output: output)
        // The cell's steps reach the disk before its reply does.
        journaling(output) { try $0.flush() }
        return outcome
    }

    private func runCell(_ request: ExecuteRequest, output: CommandOutput) -> ExecuteOutcome {
        let context = output.context
        let source = CellSource(request.code)
        let parsed: [ParsedLine]
        do {
            parsed = try parse(source)
        } catch let error as CellError {
            return .error(error.kernelError(in: source, origin: request.origin))
        } catch {
            return .error(KernelError(name: "SyntaxError", value: "\(error)"))
        }
        // Without stop-on-error the remaining commands still run. Earlier errors are published
        // as they happen; the last one becomes the reply, which the core publishes in order.
        var pending: KernelError?
        for (line, logical) in zip(parsed, source.lines) {
            do {
                try run(line, text: logical.text, output: output)
            } catch {
                let kernelError = (error as? CellError)?.kernelError(in: source, origin: request.origin)
                    ?? KernelError(name: "CommandError", value: "\(error)")
                if request.stopOnError { return .error(kernelError) }
                if let earlier = pending { context.error(earlier) }
                pending = kernelError
            }
        }
        if let pending { return .error(pending) }
        return .ok()
    }

    /// `load?` or `?load` (a whole cell of one word with a question mark, as in IPython): the
    /// word to show in the pager. The word may be a command, a variable, a graph, a node or a
    /// hierarchy path (whatever inspection knows).
    static func pagerSubject(_ code: String) -> String? {
        let text = code.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.count > 1, !text.contains(where: { $0.isWhitespace }) else { return nil }
        var word = Substring(text)
        if word.hasSuffix("?") { word = word.dropLast() } else if word.hasPrefix("?") { word = word.dropFirst() } else { return nil }
        guard let first = word.first, first.isLetter || first == "_" || first == "/" || first == "$",
              !word.contains("?") else { return nil }
        return String(word)
    }

    /// Shows what inspection knows about `subject` in the pager (an execute reply `page` payload).
    private func page(_ subject: String) -> ExecuteOutcome {
        let name = subject.hasPrefix("$") ? String(subject.dropFirst()) : subject
        let found = inspect(code: name, cursorPosition: name.unicodeScalars.count, detailLevel: 1)
        guard found.found else {
            return .error(KernelError(name: "NameError", value: "nothing is known as '\(name)': not a command, variable, graph, node or path"))
        }
        return .ok(payload: [.object(["source": .string("page"), "data": .object(found.data), "start": .int(0)])])
    }

    /// Parses every line first, so a syntax error anywhere runs nothing (as Python does).
    func parse(_ source: CellSource) throws -> [ParsedLine] {
        if let stray = source.strayCloser {
            throw CellError(.syntax, "this closing bracket has no opening one", at: stray)
        }
        return try source.lines.map { line in
            try LineParser.parse(line) { [table] name in table[name]?.style }
        }
    }

    /// Runs one line on a copy of the session and keeps the copy only when it succeeds and,
    /// for a state-changing line, once its journal record is on disk.
    private func run(_ line: ParsedLine, text: String, output: CommandOutput) throws {
        var working = session
        working.journal.reset()
        working.now = clock()
        let changesState = try CellInterpreter.apply(line, table: table, to: &working, output: output)
        if let plan = working.journal.restorePlan {
            try replay(plan, into: &working)
            journal?.recordRestore(plan, time: working.now)
            output.print(JournalCommands.restoredMessage(plan, working))
        } else if changesState && !working.journal.unchanged {
            journaling(output) { try $0.record(text, graph: session.graphs.currentName, time: working.now, keep: working.journal.keep) }
        }
        working.journal.reset()
        session = working
    }

    /// Runs one parsed line against `session`; returns whether the line changes session state
    /// (an assignment, or a command whose spec says so).
    static func apply(_ line: ParsedLine, table: CommandTable, to session: inout Session, output: CommandOutput) throws -> Bool {
        switch line {
        case .assignment(let name, let value, let location):
            if table[name] != nil {
                throw CellError(.syntax, "'\(name)' is a command and cannot be a variable name", at: location)
            }
            session.variables[name] = try ExprEvaluator(variables: session.variables).evaluate(value)
            return true
        case .command(let name, let location, let words, let expression, let end):
            guard let spec = table[name] else {
                let hint = Suggest.closest(to: name, in: table.names).map { "; did you mean '\($0)'?" }
                    ?? "; `help` lists the commands"
                throw CellError(.command, "unknown command '\(name)'\(hint)", at: location)
            }
            let invocation = try Invocation.resolve(spec: spec, location: location, words: words, expression: expression,
                                                    end: end, variables: session.variables)
            try spec.run(&session, invocation, output)
            return spec.changesState
        }
    }

    /// Writes to the journal; a failure turns journaling off for the session with a warning
    /// (the command's result is kept: the user sees it and is told it is not journaled).
    private func journaling(_ output: CommandOutput, _ write: (SessionJournal) throws -> Void) {
        guard let journal, journal.failure == nil else { return }
        do { try write(journal) } catch {
            journal.disable("\(error)")
            output.printError("The journal is off for the rest of this session: \(error). "
                + "Later changes will not survive a crash of this kernel.")
        }
    }

    /// Replays a journal's steps onto `session` without output, each with its original time and
    /// its snapshot in place of redoing the work. Any failure leaves the session unchanged.
    private func replay(_ plan: RestorePlan, into session: inout Session) throws {
        let silent = CommandOutput(context: ExecutionContext(executionCount: 0) { _ in }, discardsOutput: true)
        let snapshots = plan.listing.url.deletingLastPathComponent().appendingPathComponent("snapshots")
        let steps = plan.contents.steps
        // Relative paths in the steps meant the folder of the kernel that ran them.
        let ownFolder = session.workingDirectory
        session.workingDirectory = URL(fileURLWithPath: plan.contents.header.workingDirectory, isDirectory: true)
        for (k, step) in steps.enumerated() {
            let command = step.command ?? ""
            session.journal.reset()
            session.now = step.time
            do {
                let lines = CellSource(command).lines
                guard lines.count == 1, let logical = lines.first else {
                    throw CellError(.value, "the record is not one command line")
                }
                if let name = step.snapshot {
                    session.journal.replaySnapshot = try SnapshotStore(folder: snapshots).read(name)
                }
                let line = try LineParser.parse(logical) { [table] name in table[name]?.style }
                _ = try CellInterpreter.apply(line, table: table, to: &session, output: silent)
            } catch {
                let why = (error as? CellError)?.message ?? "\(error)"
                throw CellError(.command, "restore stopped at step \(k + 1) of \(steps.count) (`\(command)`): \(why). "
                    + "The session is unchanged.")
            }
        }
        session.workingDirectory = ownFolder
        session.journal.reset()
    }

    // MARK: Is complete

    public func isComplete(code: String) -> Completeness {
        if CellInterpreter.pagerSubject(code) != nil { return .complete }
        let source = CellSource(code)
        if source.strayCloser != nil { return .invalid }
        if source.endsIncomplete { return .incomplete(indent: "") }
        do {
            _ = try parse(source)
            return .complete
        } catch {
            return .invalid
        }
    }

    // MARK: Complete and inspect

    public func complete(code: String, cursorPosition: Int) -> CompletionResult {
        // Hardware ids complete from the registry; read it once, on the first completion.
        if session.hardwareRegistry == nil { _ = try? session.registry() }
        return Completer(table: table, session: session).complete(code: code, cursor: cursorPosition)
    }

    public func inspect(code: String, cursorPosition: Int, detailLevel: Int) -> InspectionResult {
        Inspector(table: table, session: session).inspect(code: code, cursor: cursorPosition, detailLevel: detailLevel)
    }
}

/// The version reported in kernel_info and `graphsmith --version`.
public enum GraphsmithVersion {
    public static let string = "0.1.0"
}
