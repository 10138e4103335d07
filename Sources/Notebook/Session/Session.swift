// The state a kernel keeps between cells: variables, the working directory and the
// loaded graphs with their versions.
//
// `Session` is a value: the interpreter hands each command a copy and keeps it only when
// the command succeeds, so no error can leave the session half-changed. Copies are cheap
// because graphs share their storage and tensor bytes.

import Foundation
import GraphEstimation

/// Everything a notebook session holds.
public struct Session: Sendable {
    /// User variables, set by `NAME = EXPR` and by papermill's injected parameters.
    public var variables: [String: CellValue] = [:]
    /// Where relative paths are resolved: the kernel's working directory.
    public var workingDirectory: URL
    /// The loaded graphs, one of them current.
    public var graphs = GraphStore()
    /// Hardware targets for estimates: the bundled registry (loaded on first use) plus user files.
    public var hardwareRegistry: HardwareRegistry?
    /// When the running command runs: the interpreter's clock, or during `restore` the time the
    /// step first ran, so anything a command stamps (history steps) shows the original time.
    public var now = Date()
    /// What the running command and the session journal exchange (snapshots to keep or use).
    public var journal = JournalExchange()
    /// The edited-region drawing of the cell being run, which its later edits refresh in place.
    var editRegion: EditRegionDisplay?
    /// The interpreters of the versions run last (shared by the session's copies: an entry
    /// depends only on its version, so a failed command's copy cannot make it wrong).
    let interpreters = InterpreterCache()

    public init(workingDirectory: URL) {
        self.workingDirectory = workingDirectory
    }

    /// The current graph, or a `CommandError` telling the user to load one.
    public func currentGraph(for command: String) throws -> GraphEntry {
        guard let g = graphs.current else {
            throw CellError(.command, "\(command) needs a graph: load one first with `load PATH`")
        }
        return g
    }

    /// Resolves a user path against the working directory (and `~`).
    public func resolvePath(_ path: String) -> URL {
        if path.hasPrefix("/") { return URL(fileURLWithPath: path) }
        if path == "~" || path.hasPrefix("~/") {
            let home = FileManager.default.homeDirectoryForCurrentUser
            return path == "~" ? home : home.appendingPathComponent(String(path.dropFirst(2)))
        }
        return workingDirectory.appendingPathComponent(path)
    }
}
