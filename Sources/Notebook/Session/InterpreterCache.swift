// The interpreters of the graph versions run last, so that a second `run`, `compare` or
// `compare A B C` of the same version reuses its plans (folded constants, fused steps,
// Winograd filters, buffers) and its inference instead of building them again. Two are kept:
// `compare A B` runs a pair. Keyed by version identity, so an edit (a new version) never
// meets a stale interpreter.

import Foundation
import GraphRuntime

/// Identity of one `GraphVersion` (a value type whose copies share it).
final class VersionIdentity: Sendable {}

/// A small most-recently-used cache of interpreters by graph version.
final class InterpreterCache: @unchecked Sendable {
    private struct Entry {
        let version: VersionIdentity
        let interpreter: Interpreter
    }

    /// How many interpreters are kept.
    let capacity: Int
    private var entries: [Entry] = []
    private let lock = NSLock()
    /// Lookups answered from the cache, and interpreters built (for tests and diagnostics).
    private(set) var hits = 0, builds = 0
    /// The conv algorithm choices every interpreter of the session shares: two versions that
    /// `compare` times decide each conv shape the same way (see `ConvChoices`), and a version
    /// built after an edit does not time the shapes again.
    let convChoices = ConvChoices()

    init(capacity: Int = 2) { self.capacity = max(1, capacity) }

    /// The interpreter of `version`, built (with its cached inference) on first use. Its
    /// thread count is set to `threads` for the runs that follow.
    func interpreter(for version: GraphVersion, threads: Int) throws -> Interpreter {
        lock.lock()
        defer { lock.unlock() }
        if let i = entries.firstIndex(where: { $0.version === version.identity }) {
            let e = entries.remove(at: i)
            entries.append(e)
            hits += 1
            e.interpreter.useThreads(threads)
            return e.interpreter
        }
        let made = try Interpreter(model: version.model, threads: threads, facts: version.inference,
                                   convChoices: convChoices)
        builds += 1
        entries.append(Entry(version: version.identity, interpreter: made))
        if entries.count > capacity { entries.removeFirst(entries.count - capacity) }
        return made
    }
}
