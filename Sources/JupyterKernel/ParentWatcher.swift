// Ends an orphaned kernel: watches the process that launched it and calls back once it is gone.
//
// A Jupyter server or client that crashes (or is killed) leaves its kernels running; ipykernel
// avoids that by polling its parent, and so do we. Two signals count as "the launcher died":
// the process named by JPY_PARENT_PID (which jupyter_client sets) no longer exists, or this
// process was re-parented (its parent pid changed, on Linux usually to 1 or a subreaper).
// Polling costs one `getppid` and one `kill(pid, 0)` per tick.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Polls for the death of the launching process on a background queue.
public final class ParentWatcher: @unchecked Sendable {
    private let timer: DispatchSourceTimer
    private let originalParent: pid_t
    private let namedParent: pid_t?
    private let lock = NSLock()
    private var fired = false

    /// The JPY_PARENT_PID in `environment`, if it names a real process id.
    public static func namedParent(in environment: [String: String]) -> pid_t? {
        guard let text = environment["JPY_PARENT_PID"], let pid = Int32(text), pid > 1 else { return nil }
        return pid
    }

    /// Starts watching. `onParentDeath` runs once, on a background queue, with a sentence that
    /// says which check fired.
    ///
    /// - Parameters:
    ///   - namedParent: a launcher pid to watch (JPY_PARENT_PID); nil watches re-parenting only.
    ///   - interval: seconds between checks (ipykernel checks every second).
    public init(namedParent: pid_t?, interval: Double = 0.5, onParentDeath: @escaping @Sendable (String) -> Void) {
        self.originalParent = getppid()
        self.namedParent = namedParent
        timer = DispatchSource.makeTimerSource(queue: .global(qos: .utility))
        timer.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(50))
        timer.setEventHandler { [weak self] in
            guard let self, let reason = self.check() else { return }
            let first = self.lock.withLock { () -> Bool in
                defer { self.fired = true }
                return !self.fired
            }
            guard first else { return }
            self.timer.cancel()
            onParentDeath(reason)
        }
        timer.resume()
    }

    deinit { timer.cancel() }

    /// Why the launcher counts as gone, or nil while it lives.
    func check() -> String? {
        if let pid = namedParent, kill(pid, 0) != 0, errno == ESRCH {
            return "the launching process \(pid) (JPY_PARENT_PID) has exited"
        }
        // A kernel started by init (parent 1) has no launcher whose death could re-parent it.
        if originalParent > 1, getppid() != originalParent {
            return "the parent process \(originalParent) has exited"
        }
        return nil
    }
}
