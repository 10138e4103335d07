// Core commands: printing values, writing to streams, clearing output, variables and
// waiting (`sleep`, which also exercises interrupts).

import Foundation
import JupyterKernel

enum CoreCommands {
    static let family = "Basics"

    static let commands: [CommandSpec] = [
        CommandSpec(
            name: "print", family: family,
            summary: "Evaluate an expression and show it as the cell's result",
            usage: "print EXPR",
            details: "EXPR may use numbers, strings, True/False/None, lists, dicts, variables, + - * / // % **, "
                + "parentheses, indexing and range(), len(), min(), max(), sum(), abs(), round(), str(), int(), float().",
            examples: ["print 2 ** 10", "print [1, 2, 4][-1] * 3", "print \"batch \" + str(len(range(8)))"],
            style: .expression
        ) { _, inv, out in
            let value = inv.expressionValue ?? .none
            out.result(bundle(for: value))
        },
        CommandSpec(
            name: "display", family: family,
            summary: "Show a value as rich output (HTML, SVG, Markdown, JSON)",
            usage: "display VALUE [mime=TYPE]",
            positionals: [Parameter("value", .any, "the content: a string (or a variable holding one), a list or a dict", required: true)],
            options: [Parameter("mime", .choice(["text/plain", "text/html", "image/svg+xml", "text/markdown", "application/json"]),
                                "how frontends should render it", default: "text/plain")],
            examples: ["display \"<b>bold</b>\" mime=text/html", "svg = \"<svg xmlns='http://www.w3.org/2000/svg'/>\"\ndisplay $svg mime=image/svg+xml"]
        ) { _, inv, out in
            let value = inv.value("value") ?? .none
            let mime = inv.string("mime") ?? "text/plain"
            // A rich value gets a short text/plain stand-in (as IPython's `<SVG object>`), so a
            // megabyte drawing is not sent twice.
            let size = value.displayString.utf8.count
            var bundle = OutputBundle(text: mime == "text/plain" ? value.displayString : "<\(mime), \(Format.bytes(Double(size)))>")
            switch mime {
            case "text/html": bundle.html = value.displayString
            case "image/svg+xml": bundle.svg = value.displayString
            case "application/json":
                let json = jsonValue(value)
                guard case .object = json else {
                    throw inv.error(.type, "application/json output must be a dict, not \(value.typeName)", at: "value")
                }
                // The user asked for this type by name, so it is published as such.
                bundle.extra["application/json"] = json
            case "text/markdown": bundle.extra["text/markdown"] = .string(value.displayString)
            default: break
            }
            out.display(bundle)
        },
        CommandSpec(
            name: "echo", family: family,
            summary: "Write text to the output stream",
            usage: "echo [--stderr] TEXT...",
            positionals: [Parameter("text", .string, "words to write; $NAME and ${EXPR} are replaced")],
            variadic: true,
            flags: [Flag("stderr", "write to stderr instead of stdout")],
            examples: ["echo hello, world", "echo batch is $batch", "echo --stderr \"careful: ${n * 2} items\""]
        ) { _, inv, out in
            let text = inv.rest.map { $0.value.displayString }.joined(separator: " ")
            if inv.has("stderr") { out.printError(text) } else { out.print(text) }
        },
        CommandSpec(
            name: "clear", family: family,
            summary: "Clear the cell's output",
            usage: "clear [--wait]",
            flags: [Flag("wait", "clear only when the next output arrives")],
            examples: ["clear"]
        ) { _, inv, out in
            out.clear(wait: inv.has("wait"))
        },
        CommandSpec(
            name: "vars", family: family,
            summary: "List the session's variables",
            usage: "vars",
            examples: ["batch = 8", "vars"]
        ) { session, _, out in
            var table = Table(columns: [.init("name"), .init("type"), .init("value")])
            for name in session.variables.keys.sorted() {
                guard let v = session.variables[name] else { continue }
                var shown = v.literal
                if shown.count > 80 { shown = String(shown.prefix(77)) + "..." }
                table.rows.append([Table.Cell(name), Table.Cell(v.typeName), Table.Cell(shown)])
            }
            if table.rows.isEmpty {
                out.display(OutputBundle(text: "No variables. Set one with `NAME = value`."))
            } else {
                out.display(table.bundle)
            }
        },
        CommandSpec(
            name: "del", family: family,
            summary: "Delete variables",
            usage: "del NAME...",
            positionals: [Parameter("name", .variable, "variable to delete", required: true)],
            variadic: true,
            examples: ["del batch"], changesState: true
        ) { session, inv, _ in
            for arg in inv.rest {
                let name = arg.value.displayString
                guard session.variables.removeValue(forKey: name) != nil else {
                    throw CellError(.name, "variable '\(name)' is not defined", at: arg.location)
                }
            }
        },
        CommandSpec(
            name: "sleep", family: family,
            summary: "Wait for a number of seconds (interruptible)",
            usage: "sleep SECONDS [--progress]",
            positionals: [Parameter("seconds", .float, "how long to wait", required: true)],
            flags: [Flag("progress", "show a progress bar while waiting")],
            examples: ["sleep 0.5", "sleep 3 --progress"]
        ) { _, inv, out in
            let seconds = inv.double("seconds") ?? 0
            guard seconds >= 0, seconds <= 86_400 else {
                throw inv.error(.value, "seconds must be between 0 and 86400", at: "seconds")
            }
            let deadline = Date().addingTimeInterval(seconds)
            let steps = max(1, Int(seconds * 20))
            let progress = inv.has("progress") ? out.startProgress("sleep \(Format.number(seconds))s", total: steps) : nil
            var step = 0
            while Date() < deadline {
                if out.context.isCancelled { progress?.stop(at: step, "interrupted") }
                try out.checkInterrupt()
                Thread.sleep(forTimeInterval: min(0.02, max(0, deadline.timeIntervalSinceNow)))
                step += 1
                progress?.update(min(step, steps))
            }
            progress?.finish()
        },
    ]

    /// The bundle `print` shows for a value.
    static func bundle(for value: CellValue) -> OutputBundle {
        var b = OutputBundle(text: value.displayString)
        switch value {
        case .list, .dict:
            let json = jsonValue(value)
            // application/json must be an object: a list is wrapped as {"value": [...]}.
            b.json = json.objectValue != nil ? json : ["value": json]
        default:
            break
        }
        return b
    }

    /// A cell value as JSON.
    static func jsonValue(_ value: CellValue) -> JSONValue {
        switch value {
        case .none: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(Int64(i))
        case .float(let d): return d.isFinite ? .double(d) : .null
        case .string(let s): return .string(s)
        case .list(let l): return .array(l.map(jsonValue))
        case .dict(let d): return .object(Dictionary(d.map { ($0.key, jsonValue($0.value)) }, uniquingKeysWith: { $1 }))
        }
    }
}
