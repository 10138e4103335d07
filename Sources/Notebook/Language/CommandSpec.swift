// What a command is: its name, parameters, help text and handler.
//
// Every command family file contributes `CommandSpec`s to the one `CommandTable`, and
// that table drives parsing (which words are options, which flags exist), typing of
// arguments, `help`, completion and inspection. Adding a command means adding a spec.

import Foundation

/// The type of a command argument: it decides conversion, help text and completion.
public indirect enum ParameterKind: Sendable, Equatable {
    case string
    case int
    case float
    case bool
    /// A file path, relative to the kernel's working directory; completes file names.
    case path
    /// A node name or id in the current graph; completes node names.
    case node
    /// A node, or a hierarchy path such as `/encoder/layer.0`; completes both.
    case nodeOrPath
    /// The name of a loaded graph.
    case graphName
    /// A version: a step of the current graph (`@3`), a graph (`NAME`) or a step of one (`NAME@3`).
    case version
    /// The name of an external-compiler plugin (`plugins` lists them).
    case plugin
    /// An operator type such as `Conv`.
    case opType
    /// A hardware target id.
    case hardware
    /// A session variable name.
    case variable
    /// One of a fixed set of words.
    case choice([String])
    /// A list, written `[a, b]` or `a,b`.
    case list(ParameterKind)
    /// A literal word that must appear as is (`as` in `load PATH as NAME`).
    case keyword(String)
    /// Any value.
    case any

    /// How help shows the type.
    public var displayName: String {
        switch self {
        case .string: return "string"
        case .int: return "int"
        case .float: return "number"
        case .bool: return "bool"
        case .path: return "path"
        case .node: return "node"
        case .nodeOrPath: return "node or path"
        case .graphName: return "graph"
        case .version: return "version"
        case .plugin: return "plugin"
        case .opType: return "op type"
        case .hardware: return "hardware id"
        case .variable: return "variable"
        case .choice(let options): return options.joined(separator: "|")
        case .list(let inner): return "list of \(inner.displayName)"
        case .keyword(let word): return word
        case .any: return "value"
        }
    }
}

/// One positional argument or `key=value` option of a command.
public struct Parameter: Sendable {
    public var name: String
    public var kind: ParameterKind
    public var help: String
    /// The default as help shows it; nil when the parameter is required or has no default.
    public var defaultValue: String?
    public var isRequired: Bool

    public init(_ name: String, _ kind: ParameterKind, _ help: String, default defaultValue: String? = nil,
                required: Bool = false) {
        self.name = name
        self.kind = kind
        self.help = help
        self.defaultValue = defaultValue
        self.isRequired = required
    }
}

/// A `--flag` of a command.
public struct Flag: Sendable {
    public var name: String
    public var help: String
    public init(_ name: String, _ help: String) {
        self.name = name
        self.help = help
    }
}

/// How the words after a command name are read.
public enum ArgumentStyle: Sendable {
    /// Positional words, `key=value` options and `--flags`.
    case words
    /// The rest of the line is one expression (`print 1 + 2`).
    case expression
}

/// Runs a command. It gets a copy of the session: the interpreter keeps the copy only
/// when the command succeeds, so a failing command never leaves half-changed state.
public typealias CommandHandler = (inout Session, Invocation, CommandOutput) throws -> Void

/// A command of the cell language.
public struct CommandSpec: Sendable {
    public var name: String
    /// The family it belongs to, for grouping in `help`.
    public var family: String
    /// One line for the `help` list.
    public var summary: String
    /// The syntax line, for example `load PATH [as NAME]`.
    public var usage: String
    public var positionals: [Parameter]
    /// Whether the last positional may repeat (`echo TEXT...`).
    public var variadic: Bool
    public var options: [Parameter]
    /// When set, `key=value` words with other keys are accepted as this kind and land in
    /// `Invocation.extra` (for example symbolic dimension bindings such as `seq=512`).
    public var extraOptions: ParameterKind?
    /// How help describes the extra options.
    public var extraOptionsHelp: String
    public var flags: [Flag]
    /// Extra paragraphs for `help CMD`.
    public var details: String
    public var examples: [String]
    public var style: ArgumentStyle
    /// Whether a successful run changes session state (graphs, versions, variables,
    /// annotations): such a command is appended to the session journal before its reply, and
    /// `restore` replays it. Commands that only look or write files leave it false.
    public var changesState: Bool
    /// Completes free `KEY=` options from the session and the words typed so far: with a nil
    /// key the keys (`alpha=`), else that key's legal values (`mode=` -> `linear`, ...). Edit
    /// commands read them from the op schema of the node or op the line names.
    public var extraCompletion: (@Sendable (_ session: Session, _ words: [String], _ key: String?) -> [String])?
    public var run: @Sendable (inout Session, Invocation, CommandOutput) throws -> Void

    public init(name: String, family: String, summary: String, usage: String,
                positionals: [Parameter] = [], variadic: Bool = false, options: [Parameter] = [],
                extraOptions: ParameterKind? = nil, extraOptionsHelp: String = "",
                flags: [Flag] = [], details: String = "", examples: [String] = [],
                style: ArgumentStyle = .words, changesState: Bool = false,
                run: @escaping @Sendable (inout Session, Invocation, CommandOutput) throws -> Void) {
        self.name = name
        self.family = family
        self.summary = summary
        self.usage = usage
        self.positionals = positionals
        self.variadic = variadic
        self.options = options
        self.extraOptions = extraOptions
        self.extraOptionsHelp = extraOptionsHelp
        self.flags = flags
        self.details = details
        self.examples = examples
        self.style = style
        self.changesState = changesState
        self.run = run
    }

    /// The option named `name`, if the command has one.
    public func option(_ name: String) -> Parameter? { options.first { $0.name == name } }
}
