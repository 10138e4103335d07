// External compilers as plugins: a JSON descriptor says how to run a tool that reads an ONNX
// file and writes one. Descriptors live in folders (the repository's `plugins/`, the user's
// `~/.graphsmith/plugins`, folders in `GRAPHSMITH_PLUGINS`); a later folder's plugin of the same
// name wins, so users can override a shipped one.
//
// Descriptor (every field but `options` and `timeout` required):
//   {"name": "ort", "description": "...",
//    "command": ["{python}", "{plugin_dir}/ort_optimize.py", "{input}", "{output}", "--level", "{level}",
//                "{verbose?--verbose}"],
//    "options": {"level": {"type": "choice", "values": ["basic", "extended", "all"], "default": "basic",
//                          "help": "..."}},
//    "version": ["{python}", "-c", "import onnxruntime; print(onnxruntime.__version__)"],
//    "timeout": 300}
// Placeholders: {input}, {output}, {python} (the Python the plugins run with), {plugin_dir}
// (the descriptor's folder), {OPTION}; an element `{OPTION?TEXT}` is TEXT when the bool option is
// true and left out otherwise.

import Foundation

/// A typed option of a plugin.
public struct PluginOption: Sendable, Equatable {
    public enum Kind: String, Sendable { case string, int, float, bool, choice }
    public var name: String
    public var kind: Kind
    /// Legal values of a `choice`.
    public var values: [String]
    public var defaultValue: String?
    public var help: String

    /// Checks `text` against the type; returns the text to substitute.
    public func validate(_ text: String) throws -> String {
        switch kind {
        case .string: return text
        case .int: guard Int(text) != nil else { throw PluginError.badOption("option \(name) takes an integer, got '\(text)'") }
        case .float: guard Double(text) != nil else { throw PluginError.badOption("option \(name) takes a number, got '\(text)'") }
        case .bool:
            switch text.lowercased() {
            case "true", "1", "yes": return "true"
            case "false", "0", "no": return "false"
            default: throw PluginError.badOption("option \(name) takes true or false, got '\(text)'")
            }
        case .choice:
            guard values.contains(text) else {
                throw PluginError.badOption("option \(name) takes one of \(values.joined(separator: ", ")), got '\(text)'")
            }
        }
        return text
    }
}

/// A parsed plugin descriptor.
public struct PluginDescriptor: Sendable, Equatable {
    public var name: String
    public var description: String
    public var command: [String]
    public var options: [PluginOption]
    public var versionCommand: [String]
    /// Seconds before the run is stopped.
    public var timeout: Double
    /// The file it was read from, and its folder (`{plugin_dir}`).
    public var file: URL
    public var folder: URL { file.deletingLastPathComponent() }

    public func option(_ name: String) -> PluginOption? { options.first { $0.name == name } }

    /// Reads a descriptor; every problem names the file and the field.
    public init(json data: Data, file: URL) throws {
        func bad(_ why: String) -> PluginError { .badDescriptor(file: file.path, reason: why) }
        guard let object = try? JSONSerialization.jsonObject(with: data), let o = object as? [String: Any] else {
            throw bad("not a JSON object")
        }
        guard let name = o["name"] as? String, !name.isEmpty,
              name.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "-" }) else {
            throw bad("`name` must be a word (letters, digits, _ and -)")
        }
        guard let description = o["description"] as? String else { throw bad("`description` (text) is missing") }
        guard let command = o["command"] as? [String], !command.isEmpty else { throw bad("`command` must be a non-empty list of strings") }
        guard command.contains(where: { $0.contains("{input}") }), command.contains(where: { $0.contains("{output}") }) else {
            throw bad("`command` must name {input} and {output}")
        }
        guard let version = o["version"] as? [String], !version.isEmpty else { throw bad("`version` must be a non-empty list of strings") }
        var timeout = 300.0
        if let t = o["timeout"] {
            guard let n = t as? NSNumber, n.doubleValue > 0 else { throw bad("`timeout` must be a positive number of seconds") }
            timeout = n.doubleValue
        }
        var options: [PluginOption] = []
        if let raw = o["options"] {
            guard let dict = raw as? [String: Any] else { throw bad("`options` must be an object of option name to its spec") }
            for key in dict.keys.sorted() {
                guard let spec = dict[key] as? [String: Any], let typeName = spec["type"] as? String,
                      let kind = PluginOption.Kind(rawValue: typeName) else {
                    throw bad("option `\(key)` needs a `type`: string, int, float, bool or choice")
                }
                let values = spec["values"] as? [String] ?? []
                if kind == .choice && values.isEmpty { throw bad("choice option `\(key)` needs `values`") }
                var def: String?
                if let s = spec["default"] as? String { def = s }
                else if kind == .bool, let b = spec["default"] as? Bool { def = b ? "true" : "false" }
                else if let n = spec["default"] as? NSNumber { def = kind == .int ? String(n.intValue) : "\(n.doubleValue)" }
                let option = PluginOption(name: key, kind: kind, values: values, defaultValue: def, help: spec["help"] as? String ?? "")
                if let def { _ = try option.validate(def) }
                options.append(option)
            }
        }
        for element in command {
            for placeholder in Self.placeholders(element) where !["input", "output", "python", "plugin_dir"].contains(placeholder) {
                guard options.contains(where: { $0.name == placeholder }) else { throw bad("`command` names {\(placeholder)}, which is no option") }
            }
        }
        self.name = name
        self.description = description
        self.command = command
        self.options = options
        self.versionCommand = version
        self.timeout = timeout
        self.file = file
    }

    /// Option names inside `{...}` of one element (`{flag?--x}` gives `flag`).
    static func placeholders(_ element: String) -> [String] {
        var out: [String] = []
        var rest = Substring(element)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            let inner = rest[rest.index(after: open)..<close]
            out.append(String(inner.split(separator: "?", maxSplits: 1).first ?? inner))
            rest = rest[rest.index(after: close)...]
        }
        return out
    }

    /// The argument list for a run: options given (checked) over defaults, placeholders filled.
    public func arguments(input: String, output: String, python: String, options given: [String: String]) throws -> [String] {
        var values: [String: String] = [:]
        for o in options { if let d = o.defaultValue { values[o.name] = d } }
        for (k, v) in given {
            guard let o = option(k) else {
                let names = options.map(\.name)
                throw PluginError.badOption("\(name) has no option '\(k)'" + (names.isEmpty ? "; it takes none" : "; its options: \(names.joined(separator: ", "))"))
            }
            values[k] = try o.validate(v)
        }
        let fixed = ["input": input, "output": output, "python": python, "plugin_dir": folder.path]
        var args: [String] = []
        for element in command {
            // `{flag?TEXT}` alone: TEXT when flag is true, else nothing.
            if element.hasPrefix("{"), element.hasSuffix("}"), let q = element.firstIndex(of: "?") {
                let flag = String(element[element.index(after: element.startIndex)..<q])
                if values[flag] == "true" { args.append(String(element[element.index(after: q)..<element.index(before: element.endIndex)])) }
                continue
            }
            var text = element
            for (k, v) in fixed { text = text.replacingOccurrences(of: "{\(k)}", with: v) }
            for p in Self.placeholders(element) where fixed[p] == nil {
                guard let v = values[p] else { throw PluginError.badOption("\(name) needs option \(p)=... (it has no default)") }
                text = text.replacingOccurrences(of: "{\(p)}", with: v)
            }
            args.append(text)
        }
        return args
    }
}

/// What went wrong with a plugin, in words for the user.
public enum PluginError: Error, Sendable, CustomStringConvertible, Equatable {
    case badDescriptor(file: String, reason: String)
    case unknown(name: String, known: [String])
    case badOption(String)
    case failed(String)

    public var description: String {
        switch self {
        case .badDescriptor(let f, let r): return "plugin descriptor \(f): \(r)"
        case .unknown(let n, let known):
            return "no plugin '\(n)'" + (known.isEmpty ? "; no plugins found (see `help plugins`)" : "; plugins: \(known.joined(separator: ", "))")
        case .badOption(let m): return m
        case .failed(let m): return m
        }
    }
}

/// The plugins found in a list of folders, and the descriptors that could not be read.
public struct PluginCatalog: Sendable {
    public var plugins: [PluginDescriptor] = []
    public var problems: [String] = []
    public var folders: [URL] = []

    /// Reads every `*.json` of `folders` in order; a later folder's plugin replaces an earlier
    /// one of the same name. Missing folders are skipped.
    public init(folders: [URL]) {
        self.folders = folders
        let fm = FileManager.default
        for folder in folders {
            guard let names = try? fm.contentsOfDirectory(atPath: folder.path) else { continue }
            for file in names.sorted() where file.hasSuffix(".json") {
                let url = folder.appendingPathComponent(file)
                do {
                    let d = try PluginDescriptor(json: try Data(contentsOf: url), file: url)
                    plugins.removeAll { $0.name == d.name }
                    plugins.append(d)
                } catch {
                    problems.append("\(error)")
                }
            }
        }
        plugins.sort { $0.name < $1.name }
    }

    public func plugin(_ name: String) throws -> PluginDescriptor {
        guard let p = plugins.first(where: { $0.name == name }) else { throw PluginError.unknown(name: name, known: plugins.map(\.name)) }
        return p
    }

    /// The default folders: the repository's `plugins/` (found above `anchors`, e.g. the
    /// executable and the working directory, beside a `Package.swift`), `~/.graphsmith/plugins`,
    /// then each folder of `GRAPHSMITH_PLUGINS` (colon-separated).
    public static func defaultFolders(environment: [String: String], anchors: [URL]) -> [URL] {
        var out: [URL] = []
        if let repo = repositoryRoot(anchors) { out.append(repo.appendingPathComponent("plugins")) }
        out.append(FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".graphsmith/plugins"))
        for p in (environment["GRAPHSMITH_PLUGINS"] ?? "").split(separator: ":") where !p.isEmpty {
            out.append(URL(fileURLWithPath: String(p)))
        }
        return out
    }

    /// The first folder above one of `anchors` holding `Package.swift` and `plugins/`.
    public static func repositoryRoot(_ anchors: [URL]) -> URL? {
        let fm = FileManager.default
        for anchor in anchors {
            var dir = anchor.standardizedFileURL
            for _ in 0..<8 {
                if fm.fileExists(atPath: dir.appendingPathComponent("Package.swift").path),
                   fm.fileExists(atPath: dir.appendingPathComponent("plugins").path) { return dir }
                let up = dir.deletingLastPathComponent()
                if up.path == dir.path { break }
                dir = up
            }
        }
        return nil
    }

    /// The Python plugins run with: `GRAPHSMITH_PYTHON`, else the repository's `.venv`, else `python3`.
    public static func python(environment: [String: String], anchors: [URL]) -> String {
        if let p = environment["GRAPHSMITH_PYTHON"], !p.isEmpty { return p }
        if let repo = repositoryRoot(anchors) {
            let venv = repo.appendingPathComponent(".venv/bin/python")
            if FileManager.default.isExecutableFile(atPath: venv.path) { return venv.path }
        }
        return "python3"
    }
}
