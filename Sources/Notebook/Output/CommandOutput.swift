// What a command publishes through: streams, displays, results, progress and interrupts.
//
// A thin layer over the kernel's `ExecutionContext` that speaks in `OutputBundle`s and
// tables, and turns an interrupt into a `KeyboardInterrupt` error at the next check.

import Foundation
import JupyterKernel

/// The output side of a running command.
public struct CommandOutput {
    /// The kernel context this command publishes through.
    public let context: ExecutionContext
    /// True when nothing published reaches anyone (a journal replay), so commands can skip
    /// building outputs that exist only to be seen, such as the drawing after an edit.
    public let discardsOutput: Bool

    public init(context: ExecutionContext, discardsOutput: Bool = false) {
        self.context = context
        self.discardsOutput = discardsOutput
    }

    /// Writes a line (a newline is added when missing) to stdout.
    public func print(_ text: String) {
        context.stream(.stdout, text.hasSuffix("\n") ? text : text + "\n")
    }

    /// Writes a line to stderr.
    public func printError(_ text: String) {
        context.stream(.stderr, text.hasSuffix("\n") ? text : text + "\n")
    }

    /// Shows a bundle as display_data.
    /// A bundle with a table and a chart becomes two outputs (see `OutputBundle.outputs`); a
    /// display id names the first.
    public func display(_ bundle: OutputBundle, displayID: String? = nil) {
        for (i, data) in bundle.outputs.enumerated() {
            context.display(data, displayID: i == 0 ? displayID : nil)
        }
    }

    /// Replaces an earlier display with the same id.
    public func update(_ bundle: OutputBundle, displayID: String) {
        context.updateDisplay(bundle.primaryOutput, displayID: displayID)
    }

    /// Publishes the cell's value (Out[n]).
    public func result(_ bundle: OutputBundle) {
        context.executeResult(bundle.primaryOutput)
    }

    /// Clears the cell's output.
    public func clear(wait: Bool) {
        context.clearOutput(wait: wait)
    }

    /// Throws `KeyboardInterrupt` if the user interrupted; long loops call this often.
    public func checkInterrupt() throws {
        if context.isCancelled {
            throw CellError(.interrupt, "interrupted by the user")
        }
    }

    /// Starts a progress bar that later calls update in place.
    public func startProgress(_ label: String, total: Int) -> Progress {
        let progress = Progress(output: self, label: label, total: total,
                                displayID: "gs-progress-\(UUID().uuidString.prefix(8))")
        display(progress.bundle(done: 0), displayID: progress.displayID)
        return progress
    }
}

/// A progress bar shown with update_display_data (HTML bar plus a text fallback).
public final class Progress {
    let output: CommandOutput
    let label: String
    let total: Int
    let displayID: String
    private var lastShown = Date.distantPast
    private var lastDone = 0

    init(output: CommandOutput, label: String, total: Int, displayID: String) {
        self.output = output
        self.label = label
        self.total = max(total, 1)
        self.displayID = displayID
    }

    /// Reports `done` of `total` steps; redraws at most every 50 ms, and always at the end.
    public func update(_ done: Int) {
        let now = Date()
        lastDone = max(lastDone, done)
        guard done >= total || now.timeIntervalSince(lastShown) >= 0.05 else { return }
        lastShown = now
        output.update(bundle(done: done), displayID: displayID)
    }

    /// Marks the work finished.
    public func finish() { lastShown = .distantPast; update(total) }

    /// Marks the work stopped early (interrupted, failed): the bar stays where the work got to,
    /// `done` or the last step reported, whichever is further, and says why.
    public func stop(at done: Int, _ reason: String) {
        lastShown = Date()
        output.update(bundle(done: max(done, lastDone), status: reason), displayID: displayID)
    }

    func bundle(done: Int, status: String? = nil) -> OutputBundle {
        let fraction = min(1, Double(done) / Double(total))
        let percent = Int((fraction * 100).rounded())
        let filled = Int((fraction * 30).rounded())
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: 30 - filled)
        let suffix = status.map { " — \($0)" } ?? ""
        var b = OutputBundle(text: "\(label) [\(bar)] \(done)/\(total) (\(percent)%)\(suffix)")
        b.html = """
        <div class="gs-progress" style="font-family:sans-serif;font-size:12px">\(HTML.escape(label)) \
        <progress value="\(done)" max="\(total)" style="width:240px;vertical-align:middle"></progress> \
        \(done)/\(total) (\(percent)%)\(HTML.escape(suffix))</div>
        """
        return b
    }
}
