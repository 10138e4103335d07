// Running cells without Jupyter: `graphsmith run FILE` splits a script into cells at
// `# %%` lines, runs each through any `KernelInterpreter` with a collecting sink, and
// formats every output as plain text, JSON lines, or an HTML report. Knows nothing of
// graphs; the executable picks the interpreter.

import Foundation

/// What one cell produced.
public struct CellRun: Equatable {
    /// 1-based cell number.
    public var index: Int
    /// The cell's source.
    public var code: String
    /// Every output in publication order; a failed cell ends with `.error`.
    public var outputs: [KernelOutput]
    /// Set when the cell failed.
    public var error: KernelError?
}

/// Output formats of `graphsmith run`.
public enum RunFormat: String, CaseIterable, Sendable {
    case text, json, html
}

/// Runs cells through an interpreter, outside any kernel.
public struct HeadlessRunner {
    /// The language every cell runs through, in order, sharing its state.
    public let interpreter: KernelInterpreter

    /// A runner over `interpreter`.
    public init(interpreter: KernelInterpreter) {
        self.interpreter = interpreter
    }

    /// A cell of a script and where it starts in its file.
    public struct ScriptCell: Sendable, Equatable {
        public var code: String
        /// The file line (from 1) of the cell's first line.
        public var firstLine: Int
        public init(code: String, firstLine: Int) {
            self.code = code
            self.firstLine = firstLine
        }
    }

    /// Splits a script into cells at lines that start with `# %%` (the marker line may
    /// carry a title). Blank cells are dropped.
    public static func splitCells(_ source: String) -> [String] { scriptCells(source).map(\.code) }

    /// The cells of a script with the file line each starts on (leading blank lines of a cell
    /// are dropped, and counted).
    public static func scriptCells(_ source: String) -> [ScriptCell] {
        var cells: [ScriptCell] = []
        var current: [Substring] = []
        var start = 1
        var lineNumber = 0
        func flush() {
            let firstText = current.firstIndex { !$0.allSatisfy(\.isWhitespace) }
            if let firstText {
                let lastText = current.lastIndex { !$0.allSatisfy(\.isWhitespace) } ?? firstText
                cells.append(ScriptCell(code: current[firstText...lastText].joined(separator: "\n"),
                                        firstLine: start + firstText))
            }
            current = []
        }
        for line in source.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.hasPrefix("# %%") {
                flush()
                start = lineNumber + 1
            } else {
                current.append(line)
            }
        }
        flush()
        return cells
    }

    /// Runs the cells in order (all of them, even after an error, so the report is whole).
    public func run(cells: [String]) -> [CellRun] {
        run(cells.enumerated().map { (code: $0.element, origin: nil as SourceOrigin?) })
    }

    /// Runs cells that carry their origin, so errors can name the file line.
    public func run(_ cells: [(code: String, origin: SourceOrigin?)]) -> [CellRun] {
        var results: [CellRun] = []
        for (offset, cell) in cells.enumerated() {
            let code = cell.code
            var outputs: [KernelOutput] = []
            let context = ExecutionContext(executionCount: offset + 1) { outputs.append($0) }
            let outcome = interpreter.execute(ExecuteRequest(code: code, origin: cell.origin), context: context)
            var failure: KernelError?
            switch outcome {
            case .error(let error):
                outputs.append(.error(error))
                failure = error
            case .ok(let payload):
                // Pager payloads (`help?`) have no pager here: they become ordinary output.
                for item in payload {
                    if case .object(let fields) = item, fields["source"] == .string("page"),
                       case .object(let data)? = fields["data"] {
                        outputs.append(.display(data: data, metadata: [:], displayID: nil))
                    }
                }
            }
            results.append(CellRun(index: offset + 1, code: code, outputs: outputs, error: failure))
        }
        return results
    }
}

/// Formats `CellRun`s for people and tools.
public enum RunReport {
    /// Plain text: streams as written, other outputs by their `text/plain` form.
    public static func text(_ runs: [CellRun]) -> String {
        var out = ""
        for run in runs {
            for output in run.outputs {
                switch output {
                case .stream(_, let text):
                    out += text
                    if !text.hasSuffix("\n") { out += "\n" }
                case .display(let data, _, _), .updateDisplay(let data, _, _):
                    out += plainText(data) + "\n"
                case .executeResult(let data, _):
                    out += "Out[\(run.index)]: " + plainText(data) + "\n"
                case .clearOutput:
                    break
                case .error(let error):
                    out += error.traceback.joined(separator: "\n") + "\n"
                }
            }
        }
        return out
    }

    /// One JSON object per output and line: `{"cell":n,"type":…,"data":{mime:value}}`
    /// (streams also carry `name`, errors `ename`/`evalue`/`traceback`).
    public static func jsonLines(_ runs: [CellRun]) -> String {
        var out = ""
        for run in runs {
            for output in run.outputs {
                var object: [String: JSONValue] = ["cell": .int(Int64(run.index))]
                switch output {
                case .stream(let name, let text):
                    object["type"] = "stream"
                    object["name"] = .string(name.rawValue)
                    object["data"] = ["text/plain": .string(text)]
                case .display(let data, let metadata, let id):
                    object["type"] = "display_data"
                    object["data"] = .object(data)
                    object["metadata"] = .object(metadata)
                    if let id { object["display_id"] = .string(id) }
                case .updateDisplay(let data, let metadata, let id):
                    object["type"] = "update_display_data"
                    object["data"] = .object(data)
                    object["metadata"] = .object(metadata)
                    object["display_id"] = .string(id)
                case .executeResult(let data, let metadata):
                    object["type"] = "execute_result"
                    object["data"] = .object(data)
                    object["metadata"] = .object(metadata)
                case .clearOutput(let wait):
                    object["type"] = "clear_output"
                    object["data"] = .object([:])
                    object["wait"] = .bool(wait)
                case .error(let error):
                    object["type"] = "error"
                    object["ename"] = .string(error.name)
                    object["evalue"] = .string(error.value)
                    object["traceback"] = .array(error.traceback.map { .string($0) })
                    object["data"] = ["text/plain": .string("\(error.name): \(error.value)")]
                }
                out += JSONWriter.string(.object(object)) + "\n"
            }
        }
        return out
    }

    /// A standalone HTML page with every cell's code and every output: SVG and HTML
    /// inline, images as data URLs, JSON pretty-printed, everything else escaped text.
    public static func html(_ runs: [CellRun], title: String) -> String {
        var body = ""
        for run in runs {
            body += "<section class=\"cell\(run.error == nil ? "" : " failed")\">\n"
            body += "<div class=\"prompt\">In [\(run.index)]:</div>\n<pre class=\"code\">\(escape(run.code))</pre>\n"
            for output in run.outputs {
                switch output {
                case .stream(let name, let text):
                    body += "<pre class=\"stream \(name.rawValue)\">\(escape(text))</pre>\n"
                case .display(let data, _, _), .updateDisplay(let data, _, _):
                    body += "<div class=\"output\">\(richHTML(data))</div>\n"
                case .executeResult(let data, _):
                    body += "<div class=\"output result\"><span class=\"prompt\">Out[\(run.index)]:</span>\(richHTML(data))</div>\n"
                case .clearOutput:
                    body += "<div class=\"note\">(output cleared)</div>\n"
                case .error(let error):
                    body += "<pre class=\"error\">\(escape(stripANSI(error.traceback.joined(separator: "\n"))))</pre>\n"
                }
            }
            body += "</section>\n"
        }
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>
        body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
        .cell{border-left:4px solid #4b7bec;padding:.3em 1em;margin:1.2em 0}
        .cell.failed{border-left-color:#d63031}
        .prompt{color:#888;font-size:.85em}
        pre{background:#f6f8fa;padding:.6em;overflow:auto;white-space:pre-wrap}
        pre.stderr{background:#fff3f3}
        pre.error{background:#ffecec;color:#a00}
        .output{margin:.4em 0;overflow:auto}
        </style></head><body>
        <h1>\(escape(title))</h1>
        \(body)</body></html>

        """
    }

    /// The text/plain form of a bundle, or a short note naming what it holds.
    static func plainText(_ data: MimeBundle) -> String {
        if let text = data["text/plain"]?.stringValue { return text }
        if let json = data["application/json"] { return JSONWriter.string(json) }
        let kinds = data.keys.sorted().joined(separator: ", ")
        return "[\(kinds.isEmpty ? "empty output" : kinds)]"
    }

    static func richHTML(_ data: MimeBundle) -> String {
        let svg = data["image/svg+xml"]?.stringValue
        if let html = data["text/html"]?.stringValue {
            // HTML that already embeds the drawing (a viewer) gives way to the static SVG; HTML
            // beside a separate chart (tables plus a chart) keeps both.
            if html.contains("<svg") { return svg ?? html }
            return html + (svg ?? "")
        }
        if let svg { return svg }
        for mime in ["image/png", "image/jpeg", "image/gif"] {
            if let base64 = data[mime]?.stringValue {
                return "<img src=\"data:\(mime);base64,\(escape(base64.filter { !$0.isWhitespace }))\">"
            }
        }
        if let json = data["application/json"] { return "<pre>\(escape(JSONWriter.string(json)))</pre>" }
        if let text = data["text/markdown"]?.stringValue ?? data["text/plain"]?.stringValue {
            return "<pre>\(escape(text))</pre>"
        }
        return "<pre>\(escape(plainText(data)))</pre>"
    }

    /// Escapes text for HTML element content and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Removes ANSI color sequences (tracebacks may carry them).
    static func stripANSI(_ text: String) -> String {
        var out = ""
        var iterator = text.unicodeScalars.makeIterator()
        while let scalar = iterator.next() {
            if scalar == "\u{1B}" {
                // Skip ESC [ ... final byte (@ to ~).
                guard let next = iterator.next() else { break }
                if next == "[" {
                    while let c = iterator.next(), !(c.value >= 0x40 && c.value <= 0x7E) {}
                }
                continue
            }
            out.unicodeScalars.append(scalar)
        }
        return out
    }
}
