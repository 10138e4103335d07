// `help`: the command list and each command's usage, options, types, defaults and examples,
// all generated from the command table so help can never drift from the parser.

import Foundation

enum HelpCommands {
    static let commands: [CommandSpec] = [
        CommandSpec(
            name: "help", family: CoreCommands.family,
            summary: "List the commands, or explain one",
            usage: "help [CMD]",
            positionals: [Parameter("command", .string, "the command to explain")],
            examples: ["help", "help load"]
        ) { _, inv, out in
            let table = CommandTable.standard
            if let name = inv.string("command") {
                guard let spec = table[name] else {
                    let hint = Suggest.closest(to: name, in: table.names).map { "; did you mean '\($0)'?" } ?? "; `help` lists them"
                    throw inv.error(.command, "unknown command '\(name)'\(hint)", at: "command")
                }
                out.display(commandHelp(spec))
            } else {
                out.display(overview(table))
            }
        },
    ]

    /// One line per command, grouped by family.
    static func overview(_ table: CommandTable) -> OutputBundle {
        var families: [String] = []
        for c in table.commands where !families.contains(c.family) { families.append(c.family) }
        var text: [String] = ["Graphsmith commands (help CMD for details, or CMD? for them in the pager):"]
        var html = "<div class=\"gs-help\"><p><b>Graphsmith commands</b> — <code>help CMD</code> for details, or <code>CMD?</code> for them in the pager.</p>"
        // Usages up to 44 characters line up; longer ones put their summary on the next line.
        let width = min(table.commands.map { $0.usage.count }.max() ?? 10, 44) + 2
        for family in families {
            text.append("")
            text.append(family)
            html += "<h4 style=\"margin:6px 0 2px\">\(HTML.escape(family))</h4><table class=\"gs-table\"><tbody>"
            for c in table.commands where c.family == family {
                if c.usage.count > width - 2 {
                    text.append("  " + c.usage)
                    text.append("  " + String(repeating: " ", count: width) + c.summary)
                } else {
                    text.append("  " + c.usage.padding(toLength: width, withPad: " ", startingAt: 0) + c.summary)
                }
                html += "<tr><td style=\"text-align:left\"><code>\(HTML.escape(c.usage))</code></td>"
                    + "<td style=\"text-align:left\">\(HTML.escape(c.summary))</td></tr>"
            }
            html += "</tbody></table>"
        }
        text.append("")
        text.append("Variables: NAME = EXPR, then $NAME or ${EXPR} in any argument. Comments start with #; a trailing \\ continues a line.")
        html += "<p>Variables: <code>NAME = EXPR</code>, then <code>$NAME</code> or <code>${EXPR}</code> in any argument. "
            + "Comments start with <code>#</code>; a trailing <code>\\</code> continues a line.</p></div>"
        return OutputBundle(text: text.joined(separator: "\n"), html: html)
    }

    /// Usage, arguments with types and defaults, flags and examples of one command.
    static func commandHelp(_ spec: CommandSpec) -> OutputBundle {
        var text = ["\(spec.usage)", "", spec.summary + "."]
        var html = "<div class=\"gs-help\"><p><code><b>\(HTML.escape(spec.usage))</b></code></p><p>\(HTML.escape(spec.summary)).</p>"
        if !spec.details.isEmpty {
            text += ["", spec.details]
            html += "<p>\(HTML.escape(spec.details))</p>"
        }
        let params = spec.positionals.filter { if case .keyword = $0.kind { return false } else { return true } }
        var rows: [(String, String, String, String)] = params.map {
            ($0.name.uppercased() + (spec.variadic && $0.name == spec.positionals.last?.name ? "..." : ""),
             $0.kind.displayName, $0.isRequired ? "required" : ($0.defaultValue ?? "—"), $0.help)
        }
        rows += spec.options.map { ("\($0.name)=", $0.kind.displayName, $0.isRequired ? "required" : ($0.defaultValue ?? "—"), $0.help) }
        if let extra = spec.extraOptions {
            rows.append(("KEY=", extra.displayName, "—", spec.extraOptionsHelp))
        }
        rows += spec.flags.map { ("--\($0.name)", "flag", "off", $0.help) }
        if !rows.isEmpty {
            var table = Table(columns: [.init("argument"), .init("type"), .init("default"), .init("meaning")])
            table.rows = rows.map { [Table.Cell($0.0), Table.Cell($0.1), Table.Cell($0.2), Table.Cell($0.3)] }
            text += ["", table.text]
            html += table.html
        }
        if !spec.examples.isEmpty {
            text += ["", "Examples:"] + spec.examples.map { "  " + $0 }
            html += "<p>Examples:</p><pre>\(HTML.escape(spec.examples.joined(separator: "\n")))</pre>"
        }
        html += "</div>"
        return OutputBundle(text: text.joined(separator: "\n"), html: html)
    }
}
