// Runs a plugin's command: no shell, output and errors to files (a chatty tool cannot fill a
// pipe and stall), a timeout after which it is stopped (SIGTERM, then SIGKILL two seconds on),
// and an optional cancellation check polled while it runs (the kernel's interrupt).

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The outcome of one run.
public struct ProcessOutcome: Sendable {
    public var status: Int32
    public var timedOut: Bool
    public var cancelled: Bool
    public var stdout: String
    public var stderr: String
    public var seconds: Double

    /// The last `lines` lines of stderr (else stdout), for error messages.
    public func tail(_ lines: Int = 12) -> String {
        let text = stderr.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? stdout : stderr
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

public enum PluginRunner {
    /// Runs `arguments` (the first is the program: a path, or a name looked up in PATH) in `directory`.
    public static func run(_ arguments: [String], timeout: Double, directory: URL,
                           isCancelled: @escaping @Sendable () -> Bool = { false }) throws -> ProcessOutcome {
        guard let program = arguments.first else { throw PluginError.failed("empty command") }
        let p = Process()
        if program.contains("/") {
            p.executableURL = URL(fileURLWithPath: program)
            p.arguments = Array(arguments.dropFirst())
        } else {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = arguments
        }
        p.currentDirectoryURL = directory
        let outURL = directory.appendingPathComponent("plugin.stdout"), errURL = directory.appendingPathComponent("plugin.stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        defer { try? out.close(); try? err.close() }
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in done.signal() }
        let start = Date()
        do { try p.run() } catch {
            throw PluginError.failed("cannot start \(program): \(error.localizedDescription)")
        }
        var timedOut = false, cancelled = false
        while done.wait(timeout: .now() + 0.1) == .timedOut {
            if Date().timeIntervalSince(start) > timeout { timedOut = true } else if isCancelled() { cancelled = true }
            guard timedOut || cancelled else { continue }
            // Foundation starts the child as a process-group leader: signal the group, so a
            // script's own children (which would hold the run open) stop too.
            let pid = p.processIdentifier
            if kill(-pid, SIGTERM) != 0 { p.terminate() }
            if done.wait(timeout: .now() + 2) == .timedOut {
                kill(-pid, SIGKILL)
                kill(pid, SIGKILL)
                done.wait()
            } else {
                kill(-pid, SIGKILL)
            }
            break
        }
        p.waitUntilExit()
        func read(_ url: URL) -> String {
            guard let d = try? Data(contentsOf: url) else { return "" }
            return String(decoding: d.suffix(64_000), as: UTF8.self)
        }
        return ProcessOutcome(status: p.terminationStatus, timedOut: timedOut, cancelled: cancelled,
                              stdout: read(outURL), stderr: read(errURL), seconds: Date().timeIntervalSince(start))
    }

    /// The plugin's version line (its version command's first output line), or why not.
    public static func version(of plugin: PluginDescriptor, python: String) -> String {
        let args = plugin.versionCommand.map {
            $0.replacingOccurrences(of: "{python}", with: python).replacingOccurrences(of: "{plugin_dir}", with: plugin.folder.path)
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("graphsmith-version-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let o = try run(args, timeout: 30, directory: dir)
            let line = o.stdout.split(separator: "\n").first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
            if o.status == 0 && !line.isEmpty { return line }
            return "not available (" + (o.timedOut ? "version command timed out" : o.tail(1)) + ")"
        } catch {
            return "not available (\(error))"
        }
    }
}
