// Kernelspec installation: the folder `<data dir>/kernels/<name>/` with kernel.json and
// logos that makes `jupyter kernelspec list` (and every frontend) find a kernel.
// Generic: the executable supplies the name, argv and logo bytes.

import Foundation

/// Why a kernelspec could not be installed.
public struct KernelSpecError: Error, CustomStringConvertible {
    /// What failed and where.
    public var message: String
    /// The message, for printing.
    public var description: String { message }
}

/// A kernelspec: what goes into kernel.json, plus logo files.
public struct KernelSpec {
    /// Folder name; only `[A-Za-z0-9._-]` (Jupyter's rule).
    public var name: String
    /// Name shown in launchers and the kernel picker.
    public var displayName: String
    /// Language name; notebooks are matched to kernels by it when names differ.
    public var language: String
    /// Command line; `{connection_file}` is replaced by the frontend.
    public var argv: [String]
    /// "message" (interrupt_request on control) or "signal" (SIGINT).
    public var interruptMode: String
    /// kernel.json's free `metadata` dict (do not claim `supported_encryption`).
    public var metadata: [String: JSONValue]
    /// File name (`logo-32x32.png`, `logo-64x64.png`, `logo-svg.svg`) to contents.
    public var resources: [String: [UInt8]]

    /// A kernelspec; `interruptMode` defaults to "message" (served on the control thread).
    public init(name: String, displayName: String, language: String, argv: [String],
                interruptMode: String = "message", metadata: [String: JSONValue] = [:],
                resources: [String: [UInt8]] = [:]) {
        self.name = name
        self.displayName = displayName
        self.language = language
        self.argv = argv
        self.interruptMode = interruptMode
        self.metadata = metadata
        self.resources = resources
    }

    /// The kernel.json document.
    public var json: JSONValue {
        .object([
            "argv": .array(argv.map { .string($0) }), "display_name": .string(displayName),
            "language": .string(language), "interrupt_mode": .string(interruptMode),
            "metadata": .object(metadata), "env": .object([:]),
        ])
    }

    /// Where `jupyter kernelspec install --user` puts kernels' parent: `$JUPYTER_DATA_DIR`,
    /// else `~/Library/Jupyter` on macOS, else `$XDG_DATA_HOME/jupyter` or `~/.local/share/jupyter`.
    public static func userDataDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let dir = environment["JUPYTER_DATA_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        let home = environment["HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        #if os(macOS)
        return home.appendingPathComponent("Library/Jupyter")
        #else
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("jupyter")
        }
        return home.appendingPathComponent(".local/share/jupyter")
        #endif
    }

    /// Where `--prefix DIR` installs: `DIR/share/jupyter`.
    public static func prefixDataDirectory(_ prefix: URL) -> URL {
        prefix.appendingPathComponent("share/jupyter")
    }

    /// Writes `<dataDirectory>/kernels/<name>/` (replacing an older install) and returns it.
    @discardableResult
    public func install(dataDirectory: URL) throws -> URL {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        guard !name.isEmpty, name.allSatisfy({ allowed.contains($0) }) else {
            throw KernelSpecError(message: "kernel name '\(name)' may use only letters, digits, '.', '_' and '-'")
        }
        let folder = dataDirectory.appendingPathComponent("kernels").appendingPathComponent(name)
        let manager = FileManager.default
        do {
            try manager.createDirectory(at: folder, withIntermediateDirectories: true)
            var text = JSONWriter.string(json)
            text += "\n"
            try Data(text.utf8).write(to: folder.appendingPathComponent("kernel.json"), options: .atomic)
            for (file, bytes) in resources {
                guard !file.contains("/"), !file.hasPrefix(".") else {
                    throw KernelSpecError(message: "resource name '\(file)' must be a plain file name")
                }
                try Data(bytes).write(to: folder.appendingPathComponent(file), options: .atomic)
            }
        } catch let error as KernelSpecError {
            throw error
        } catch {
            throw KernelSpecError(message: "cannot write kernelspec to '\(folder.path)': \(error.localizedDescription)")
        }
        return folder
    }
}
