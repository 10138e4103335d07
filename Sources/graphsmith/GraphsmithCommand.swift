// The `graphsmith` command line: serve the Graphsmith language as a Jupyter kernel,
// install its kernelspec, or run cells headlessly. It only wires the generic kernel
// core (JupyterKernel) to the cell language (Notebook); both do the real work.

import ArgumentParser
import Foundation
import JupyterKernel
import Notebook

@main
struct Graphsmith: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graphsmith",
        abstract: "Explore and change ML model graphs from a Jupyter notebook.",
        subcommands: [KernelCommand.self, InstallCommand.self, RunCommand.self])
}

/// `graphsmith kernel -f CONNECTION_FILE` (or `graphsmith kernel CONNECTION_FILE`): what Jupyter runs (see kernel.json's argv).
struct KernelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel", abstract: "Serve a Jupyter kernel on the sockets named in a connection file.")

    @ArgumentParser.Option(name: [.customShort("f"), .customLong("connection-file")],
            help: "The connection file written by the Jupyter frontend.")
    var connectionFile: String?

    @ArgumentParser.Argument(help: "The connection file, given without -f (`graphsmith kernel FILE`).")
    var positionalFile: String?

    func validate() throws {
        if connectionFile == nil && positionalFile == nil { throw ValidationError("give the connection file: graphsmith kernel -f FILE") }
        if connectionFile != nil && positionalFile != nil { throw ValidationError("give the connection file once, with -f or without") }
    }

    func run() throws {
        let info: ConnectionInfo
        do {
            info = try ConnectionInfo.load(path: connectionFile ?? positionalFile ?? "")
        } catch {
            throw ValidationError("\(error)")
        }
        // Sockets are bound before anything else so the first kernel_info_request is
        // answered at once; the interpreter does its heavy work lazily.
        // The session journal (see `help restore`); GRAPHSMITH_JOURNAL=off keeps none.
        let environment = ProcessInfo.processInfo.environment
        let cwd = FileManager.default.currentDirectoryPath
        let journal = environment["GRAPHSMITH_JOURNAL"] == "off" ? nil : SessionJournal(
            .fromEnvironment(environment, workingDirectory: cwd, connectionFile: connectionFile ?? positionalFile), started: Date())
        let interpreter = CellInterpreter(workingDirectory: URL(fileURLWithPath: cwd), journal: journal)
        let server = try KernelServer(connection: info, interpreter: interpreter)
        server.installInterruptSignalHandler()
        server.start()
        // A kernel whose launcher died (a crashed server, a killed client) exits instead of
        // running on as an orphan.
        let watcher = ParentWatcher(namedParent: ParentWatcher.namedParent(in: ProcessInfo.processInfo.environment)) { reason in
            KernelServer.standardErrorLog("\(reason); exiting")
            server.stop()
            Foundation.exit(0)
        }
        server.waitForShutdown()
        withExtendedLifetime(watcher) {}
    }
}

/// `graphsmith install [--user | --prefix DIR]`: writes the kernelspec.
struct InstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install the Graphsmith kernelspec so Jupyter can start this binary.")

    @ArgumentParser.Flag(name: .long, help: "Install for the current user (the default).")
    var user = false

    @ArgumentParser.Option(name: .long, help: "Install under PREFIX/share/jupyter (e.g. a virtual environment).")
    var prefix: String?

    @ArgumentParser.Option(name: .long, help: "Kernelspec name.")
    var name = "graphsmith"

    func validate() throws {
        if user && prefix != nil { throw ValidationError("--user and --prefix cannot be used together") }
    }

    func run() throws {
        let binary = try executablePath()
        let data = prefix.map { KernelSpec.prefixDataDirectory(URL(fileURLWithPath: $0).standardizedFileURL) }
            ?? KernelSpec.userDataDirectory()
        var resources: [String: [UInt8]] = [:]
        for (file, base64) in [("logo-32x32.png", KernelLogos.png32x32), ("logo-64x64.png", KernelLogos.png64x64),
                               ("logo-svg.svg", KernelLogos.svg)] {
            guard let bytes = Data(base64Encoded: base64) else { throw ValidationError("corrupt embedded logo \(file)") }
            resources[file] = Array(bytes)
        }
        let spec = KernelSpec(name: name, displayName: "Graphsmith", language: "graphsmith",
                              argv: [binary, "kernel", "-f", "{connection_file}"], interruptMode: "message",
                              resources: resources)
        let folder = try spec.install(dataDirectory: data)
        print("Installed kernelspec \(name) in \(folder.path)")
    }

    /// The absolute, symlink-free path of this binary, so kernel.json keeps working from any cwd.
    func executablePath() throws -> String {
        #if os(Linux)
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        #endif
        let argument = CommandLine.arguments.first ?? "graphsmith"
        if argument.contains("/") {
            return URL(fileURLWithPath: argument).standardizedFileURL.resolvingSymlinksInPath().path
        }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(dir)).appendingPathComponent(argument)
            if FileManager.default.isExecutableFile(atPath: candidate.path) {
                return candidate.resolvingSymlinksInPath().path
            }
        }
        throw ValidationError("cannot find the path of this executable")
    }
}

/// `graphsmith run [FILE] [-e CELL]... [--format text|json|html] [--out DIR]`.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run cells without Jupyter: a file split at '# %%' lines, then each -e cell.",
        discussion: "Reads standard input when neither FILE nor -e is given. Exits with status 1 if any cell failed.")

    @ArgumentParser.Argument(help: "A script whose cells are separated by '# %%' lines ('-' for standard input).")
    var file: String?

    @ArgumentParser.Option(name: .customShort("e"), help: "A cell to run (repeatable; runs after FILE's cells).")
    var cells: [String] = []

    @ArgumentParser.Option(name: .long, help: "Output format: text, json (one object per output line) or html.")
    var format: String = "text"

    @ArgumentParser.Option(name: .long, help: "Write an HTML report with every output to this directory.")
    var out: String?

    func validate() throws {
        guard RunFormat(rawValue: format) != nil else {
            throw ValidationError("unknown format '\(format)'; use text, json or html")
        }
    }

    func run() throws {
        var sources: [(code: String, origin: SourceOrigin?)] = []
        var title = "graphsmith run"
        func add(_ script: String, name: String) {
            for cell in HeadlessRunner.scriptCells(script) {
                sources.append((cell.code, SourceOrigin(name: name, cell: sources.count + 1, firstLine: cell.firstLine)))
            }
        }
        if let file {
            let text: String
            if file == "-" {
                text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            } else {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw ValidationError("cannot read '\(file)'")
                }
                text = String(decoding: data, as: UTF8.self)
                title = URL(fileURLWithPath: file).lastPathComponent
            }
            add(text, name: file == "-" ? "<stdin>" : file)
        } else if cells.isEmpty {
            add(String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self), name: "<stdin>")
        }
        for (i, cell) in cells.enumerated() {
            sources.append((cell, SourceOrigin(name: "-e \(i + 1)", cell: sources.count + 1, firstLine: 1)))
        }

        let interpreter = CellInterpreter(workingDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        let runs = HeadlessRunner(interpreter: interpreter).run(sources)

        let rendered: String
        switch RunFormat(rawValue: format) ?? .text {
        case .text: rendered = RunReport.text(runs)
        case .json: rendered = RunReport.jsonLines(runs)
        case .html: rendered = RunReport.html(runs, title: title)
        }
        if let out {
            let dir = URL(fileURLWithPath: out)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let stem = file.flatMap { $0 == "-" ? nil : URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent }
            let report = dir.appendingPathComponent("\(stem ?? "report").html")
            try Data(RunReport.html(runs, title: title).utf8).write(to: report, options: .atomic)
            FileHandle.standardError.write(Data("wrote \(report.path)\n".utf8))
        }
        if !(format == "html" && out != nil) {
            FileHandle.standardOutput.write(Data(rendered.utf8))
        }
        if runs.contains(where: { $0.error != nil }) { throw ExitCode(1) }
    }
}
