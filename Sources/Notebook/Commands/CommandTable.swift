// The one table of commands. Parsing, help, completion and inspection all read it, so a
// new command family is one file with a `commands` list plus one line here.

/// All commands of the cell language, by name.
public struct CommandTable: Sendable {
    public let commands: [CommandSpec]
    private let byName: [String: Int]

    public init(_ commands: [CommandSpec]) {
        self.commands = commands
        var index: [String: Int] = [:]
        for (i, c) in commands.enumerated() where index[c.name] == nil { index[c.name] = i }
        byName = index
    }

    /// Every family of the language, in the order `help` lists them.
    public static let standard = CommandTable(
        CoreCommands.commands
            + HelpCommands.commands
            + GraphCommands.commands
            + CheckCommands.commands
            + EditCommands.commands
            + DeclarationCommands.commands
            + AnnotationCommands.commands
            + HistoryCommands.commands
            + PassCommands.commands
            + PrecisionCommands.commands
            + OverrideCommands.commands
            + ShowCommands.commands
            + EstimationCommands.commands
            + RunCommands.commands
            + JournalCommands.commands
            + DiffCommands.commands
            + PluginCommands.commands
    )

    /// The command named `name`.
    public subscript(name: String) -> CommandSpec? {
        byName[name].map { commands[$0] }
    }

    /// Command names in table order.
    public var names: [String] { commands.map(\.name) }
}
