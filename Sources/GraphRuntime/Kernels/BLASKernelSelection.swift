/// OpenBLAS kernel selection. Debian's OpenBLAS (0.3.21, a DYNAMIC_ARCH build) picks its
/// kernels from the CPU's family and model number when it loads, and a CPU newer than the
/// library gets less than it runs:
/// - Sapphire/Emerald Rapids (Intel model 143/207) are not in its table and get the generic
///   "Prescott" SSE3 kernels, 5-7x slower at sgemm than the AVX-512 ones;
/// - AMD Zen 4 and Zen 5 (family 25 and 26) get the AVX2 "Haswell" or "Zen" kernels, although
///   they run AVX-512: on a Zen 5 EPYC, sgemm 256x3136x576 ran 97 GFLOP/s with Haswell's and
///   182 with SkylakeX's (one thread; later OpenBLAS releases pick the AVX-512 kernels for
///   these CPUs themselves).
/// When the library's core lacks an instruction set the CPU's feature flags show (AVX-512 ->
/// SkylakeX, AVX2 + FMA -> Haswell) and the user did not choose a core with OPENBLAS_CORETYPE,
/// the interpreter re-selects the kernels once through the library's own `gotoblas_dynamic_init`.
import COpenBLAS
import Foundation

enum BLASKernelSelection {
    /// The core OpenBLAS runs (its name), after the one-time check.
    static let coreName: String = select()

    /// Re-selects the kernels when OpenBLAS's core lacks an instruction set the CPU runs (and
    /// the environment names no core); returns the core name.
    private static func select() -> String {
        let current = corename()
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
              let flags = cpuFlags(), let wanted = coreType(for: flags), lacks(current, wanted),
              let initSym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gotoblas_dynamic_init"),
              let quitSym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gotoblas_dynamic_quit") else { return current }
        typealias Entry = @convention(c) () -> Void
        setenv("OPENBLAS_CORETYPE", wanted, 1)
        unsafeBitCast(quitSym, to: Entry.self)()
        unsafeBitCast(initSym, to: Entry.self)()
        unsetenv("OPENBLAS_CORETYPE")
        return corename()
    }

    /// OpenBLAS cores whose sgemm runs AVX-512, and those that run at least AVX2 with FMA.
    static let avx512Cores: Set<String> = ["SkylakeX", "Cooperlake", "SapphireRapids"]
    static let avx2Cores: Set<String> = avx512Cores.union(["Haswell", "Zen"])

    /// Whether OpenBLAS's products give the same numbers however it splits them (across threads,
    /// into row or column blocks): measured for its AVX-512 kernels, not its AVX2 ones (a
    /// 128x64x128 sgemm split in two differs from the whole in 11% of its elements on Haswell's
    /// kernels, in none on SkylakeX's).
    static var splitsIdentically: Bool { avx512Cores.contains(coreName) }

    /// Whether OpenBLAS's `current` core lacks the instruction set of the `wanted` one, so that
    /// switching gains speed: a core at least as good stays; any other (an older one, or
    /// "Core not found") is replaced.
    static func lacks(_ current: String, _ wanted: String) -> Bool {
        switch wanted {
        case "SkylakeX": return !avx512Cores.contains(current)
        case "Haswell": return !avx2Cores.contains(current)
        default: return false
        }
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
