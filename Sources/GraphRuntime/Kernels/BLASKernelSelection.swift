/// OpenBLAS kernel selection. Debian's OpenBLAS (0.3.21, a DYNAMIC_ARCH build) picks its
/// kernels from the CPU's family and model number when it loads; a CPU newer than the
/// library (Sapphire/Emerald Rapids, model 143/207, for instance) is not in its table and
/// gets the generic "Prescott" SSE3 kernels, 5-7x slower at sgemm than the AVX-512 ones the
/// CPU runs. When that happened and the user did not choose a core with OPENBLAS_CORETYPE,
/// the interpreter re-selects the kernels once from the CPU's feature flags (AVX-512 ->
/// SkylakeX, AVX2 + FMA -> Haswell) through the library's own `gotoblas_dynamic_init`.
import COpenBLAS
import Foundation

enum BLASKernelSelection {
    /// The core OpenBLAS runs (its name), after the one-time check.
    static let coreName: String = select()

    /// Re-selects the kernels when OpenBLAS fell back to its generic core; returns the core name.
    private static func select() -> String {
        let current = corename()
        guard current == "Prescott" || current == "Core not found",
              ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
              let flags = cpuFlags(), let wanted = coreType(for: flags),
              let initSym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gotoblas_dynamic_init"),
              let quitSym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gotoblas_dynamic_quit") else { return current }
        typealias Entry = @convention(c) () -> Void
        setenv("OPENBLAS_CORETYPE", wanted, 1)
        unsafeBitCast(quitSym, to: Entry.self)()
        unsafeBitCast(initSym, to: Entry.self)()
        unsetenv("OPENBLAS_CORETYPE")
        return corename()
    }

    /// OpenBLAS's name of the core it runs.
    private static func corename() -> String {
        guard let p = openblas_get_corename() else { return "" }
        return String(cString: p)
    }

    /// The OpenBLAS core type for a CPU with these /proc/cpuinfo flags, nil for none better than SSE3.
    static func coreType(for flags: Set<Substring>) -> String? {
        if ["avx512f", "avx512dq", "avx512bw", "avx512vl"].allSatisfy(flags.contains) { return "SkylakeX" }
        if flags.contains("avx2") && flags.contains("fma") { return "Haswell" }
        return nil
    }

    /// The feature flags of the first CPU in /proc/cpuinfo (Linux), nil elsewhere.
    private static func cpuFlags() -> Set<Substring>? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("flags") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            return Set(line[line.index(after: colon)...].split(separator: " "))
        }
        return nil
    }
}
