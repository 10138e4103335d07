import Foundation

// Hardware targets as data: the registry type, one target's figures in SI units, and the JSON
// reader that reports every bad field of a user file (`hardware add PATH`).

/// How trustworthy a hardware data field is, as recorded in the registry file
/// (`high` = vendor datasheet, `medium` = secondary source, `low` = derived or conflicting).
public enum DataConfidence: String, Sendable, Hashable, CaseIterable {
    case high, medium, low

    /// Factor by which estimate intervals widen when they rest on data of this confidence.
    public var intervalWidening: Double {
        switch self { case .high: return 1; case .medium: return 1.15; case .low: return 1.4 }
    }
}

/// Optional per-device energy parameters. Any field left nil is derived from TDP, peak and
/// memory type (a theoretical prior, see energy-notes.md); a file that sets them marks the
/// device's energy figures as calibrated.
public struct EnergyParameters: Sendable, Hashable {
    /// Picojoules per FLOP (or integer op) by precision.
    public var picojoulesPerFLOP: [Precision: Double]
    /// Picojoules per byte moved to or from device memory.
    public var picojoulesPerByte: Double?
    /// Static (idle + leakage) power in watts, charged for the whole latency.
    public var staticWatts: Double?

    /// Parameters; nil fields are derived.
    public init(picojoulesPerFLOP: [Precision: Double] = [:], picojoulesPerByte: Double? = nil, staticWatts: Double? = nil) {
        self.picojoulesPerFLOP = picojoulesPerFLOP; self.picojoulesPerByte = picojoulesPerByte; self.staticWatts = staticWatts
    }

    /// Whether any parameter was supplied (rather than derived).
    public var isEmpty: Bool { picojoulesPerFLOP.isEmpty && picojoulesPerByte == nil && staticWatts == nil }
}

/// One hardware target: peak rates, memory system, power, and where those numbers came from.
/// Targets are data, loaded from JSON (the bundled seed or a user file), never hard-coded.
public struct HardwareTarget: Sendable, Hashable, Identifiable {
    /// Registry id (`nvidia-h100-sxm5-80gb`).
    public var id: String
    /// Display name.
    public var name: String
    /// Vendor.
    public var vendor: String
    /// Device class as written in the registry (`datacenter_gpu`, `consumer_gpu`, `cpu`, `tpu`, ...).
    public var deviceClass: String
    /// Architecture text from the file.
    public var architecture: String
    /// Dense peak throughput in FLOP/s (or op/s for integer keys), keyed as in the file
    /// (`fp16`, `bf16`, `int8`, `fp32_gpu`, ...). Nulls in the file are simply absent.
    public var peakOpsPerSecond: [String: Double]
    /// Device memory in bytes.
    public var memoryCapacityBytes: Double?
    /// Memory technology (HBM3, GDDR6, ...), which selects the energy per byte prior.
    public var memoryType: String
    /// Device memory bandwidth in bytes/s; nil when the device has no external memory path.
    public var memoryBandwidthBytesPerSecond: Double?
    /// On-chip memories in bytes, keyed as in the file (`l2_mb` becomes `l2`).
    public var onChipBytes: [String: Double]
    /// TDP in watts.
    public var tdpWatts: Double?
    /// Chip-to-chip bandwidth in bytes/s, when published.
    public var interconnectBytesPerSecond: Double?
    /// Parallel compute units (SMs, CUs) used for GEMM wave quantization; nil when unknown.
    public var computeUnits: Int?
    /// Per-kernel launch/dispatch overhead in seconds.
    public var launchOverheadSeconds: Double
    /// Energy parameters given in the file (empty: derived).
    public var energy: EnergyParameters
    /// Source of the figures.
    public var source: String
    /// Free-form notes.
    public var notes: String
    /// Overall confidence.
    public var confidence: DataConfidence
    /// Per-field confidence overrides (`peak_dense.fp16` -> medium); fields not listed are `confidence`.
    public var fieldConfidence: [String: DataConfidence]

    /// A target; units are SI (op/s, B/s, bytes, W, s).
    public init(id: String, name: String, vendor: String = "", deviceClass: String, architecture: String = "",
                peakOpsPerSecond: [String: Double], memoryCapacityBytes: Double?, memoryType: String = "",
                memoryBandwidthBytesPerSecond: Double?, onChipBytes: [String: Double] = [:], tdpWatts: Double?,
                interconnectBytesPerSecond: Double? = nil, computeUnits: Int? = nil, launchOverheadSeconds: Double? = nil,
                energy: EnergyParameters = EnergyParameters(), source: String, notes: String = "",
                confidence: DataConfidence, fieldConfidence: [String: DataConfidence] = [:]) {
        self.id = id; self.name = name; self.vendor = vendor; self.deviceClass = deviceClass
        self.architecture = architecture; self.peakOpsPerSecond = peakOpsPerSecond
        self.memoryCapacityBytes = memoryCapacityBytes; self.memoryType = memoryType
        self.memoryBandwidthBytesPerSecond = memoryBandwidthBytesPerSecond; self.onChipBytes = onChipBytes
        self.tdpWatts = tdpWatts; self.interconnectBytesPerSecond = interconnectBytesPerSecond
        self.computeUnits = computeUnits ?? HardwareTarget.unitsFromArchitecture(architecture)
        self.launchOverheadSeconds = launchOverheadSeconds ?? HardwareTarget.defaultLaunchOverhead(deviceClass)
        self.energy = energy; self.source = source; self.notes = notes
        self.confidence = confidence; self.fieldConfidence = fieldConfidence
    }

    /// True for GPU-like devices where GEMM tile/wave quantization applies.
    public var isGPU: Bool { deviceClass.contains("gpu") }

    /// Peak rate in op/s for matrix (`matrix == true`) or vector work at a precision, with the
    /// registry key it came from; nil when the device publishes no usable rate.
    public func peak(_ precision: Precision, matrix: Bool = true) -> (opsPerSecond: Double, key: String)? {
        for key in (matrix ? precision.matrixPeakKeys : precision.vectorPeakKeys) {
            if let v = peakOpsPerSecond[key], v > 0 { return (v, key) }
        }
        if !matrix { return peak(precision, matrix: true) }
        return nil
    }

    /// The precisions the registry publishes a rate for under their own name (`fp16`,
    /// `fp32_gpu`, `int8_neural_engine`...). `peak(_:)` also accepts fallbacks (bf16 priced at
    /// the fp16 rate, for instance); this list is what the device natively supports.
    public var supportedPrecisions: [Precision] {
        Precision.allCases.filter { p in
            peakOpsPerSecond.keys.contains { $0 == p.rawValue || $0.hasPrefix(p.rawValue + "_") }
        }
    }

    /// Confidence of one field path (`peak_dense.fp16`, `memory.bandwidth_gbps`, `tdp_w`).
    public func confidence(ofField path: String) -> DataConfidence { fieldConfidence[path] ?? confidence }

    /// Largest on-chip memory (L2, SRAM, LLC...) in bytes; used for the memory-tier choice.
    public var largestOnChipBytes: Double? {
        onChipBytes.filter { !$0.key.contains("per_core") && !$0.key.contains("bandwidth") }.values.max()
    }

    static func unitsFromArchitecture(_ text: String) -> Int? {
        // "Hopper (GH100), 132 SMs" / "CDNA 3, 304 CUs": take the number before SMs/CUs.
        let words = text.replacingOccurrences(of: ",", with: " ").replacingOccurrences(of: "(", with: " ")
            .split(separator: " ").map(String.init)
        for (i, w) in words.enumerated() where i > 0 && (w.hasPrefix("SMs") || w.hasPrefix("CUs")) {
            if let n = Int(words[i - 1]), n > 0 { return n }
        }
        return nil
    }

    static func defaultLaunchOverhead(_ deviceClass: String) -> Double {
        switch deviceClass {
        case "datacenter_gpu", "consumer_gpu": return 4e-6
        case "tpu", "accelerator": return 2e-6
        case "cpu", "cpu_soc": return 1e-6
        default: return 10e-6
        }
    }
}

/// One error in a hardware file: which file, which field path, what is wrong.
public struct HardwareFieldError: Error, Sendable, Hashable, CustomStringConvertible {
    /// File name.
    public var file: String
    /// Field path, e.g. `targets[3].peak_dense.fp16`.
    public var path: String
    /// What is wrong.
    public var message: String
    /// `file: path: message`.
    public var description: String { "\(file): \(path): \(message)" }
}

/// All errors found while loading a hardware file (loading reports every bad field, not just the first).
public struct HardwareLoadError: Error, Sendable, CustomStringConvertible {
    /// One entry per bad field.
    public var errors: [HardwareFieldError]
    /// One line per error.
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// A row of the `hardware` table: plain values, formatting left to the caller.
public struct HardwareRow: Sendable, Hashable {
    /// Registry id (`nvidia-h100-sxm5-80gb`).
    public var id: String
    /// Display name.
    public var name: String
    /// Device class.
    public var deviceClass: String
    /// Dense fp16 matrix peak (TFLOPS).
    public var peakFP16TFLOPS: Double?
    /// fp32 vector peak (TFLOPS).
    public var peakFP32TFLOPS: Double?
    /// int8 peak (TOPS).
    public var peakINT8TOPS: Double?
    /// Memory capacity (GB, decimal).
    public var memoryGB: Double?
    /// Memory bandwidth (GB/s).
    public var bandwidthGBps: Double?
    /// TDP in watts.
    public var tdpWatts: Double?
    /// Overall confidence.
    public var confidence: DataConfidence
    /// Source of the figures.
    public var source: String
}

/// The set of known hardware targets. A value: adding a user file returns a new registry, so a
/// session can keep its own without touching anyone else's.
public struct HardwareRegistry: Sendable {
    /// Targets in registry order.
    public private(set) var targets: [HardwareTarget]

    /// A registry holding `targets`.
    public init(targets: [HardwareTarget] = []) { self.targets = targets }

    /// The seed registry shipped as a resource (40 targets from shared/hardware/hardware.json).
    public static func bundled() throws -> HardwareRegistry {
        guard let url = Bundle.module.url(forResource: "hardware", withExtension: "json", subdirectory: "Resources")
                ?? Bundle.module.url(forResource: "hardware", withExtension: "json") else {
            throw HardwareLoadError(errors: [HardwareFieldError(file: "hardware.json", path: "", message: "bundled resource missing")])
        }
        return try HardwareRegistry(targets: HardwareFile.load(url: url))
    }

    /// Looks a target up by id or name (case-insensitive); also accepts a fragment that matches
    /// exactly one id (`h100-sxm5`, `mi300x`, `tpu-v5e`). Ambiguous fragments give nil.
    public func target(_ idOrName: String) -> HardwareTarget? {
        let key = idOrName.lowercased()
        guard !key.isEmpty else { return nil }
        if let t = targets.first(where: { $0.id.lowercased() == key || $0.name.lowercased() == key }) { return t }
        let prefix = targets.filter { $0.id.lowercased().hasPrefix(key) }
        if prefix.count == 1 { return prefix[0] }
        let fragment = targets.filter { $0.id.lowercased().contains(key) }
        return fragment.count == 1 ? fragment[0] : nil
    }

    /// Every target `text` could mean, best first: an exact id or name alone; else the ids that
    /// start with it, else the ids that contain it (case-insensitive): the same rule as
    /// `target(_:)`, which resolves exactly when this has one element. Completion offers these.
    public func candidates(_ text: String) -> [HardwareTarget] {
        let key = text.lowercased()
        guard !key.isEmpty else { return targets }
        if let t = targets.first(where: { $0.id.lowercased() == key || $0.name.lowercased() == key }) { return [t] }
        let prefix = targets.filter { $0.id.lowercased().hasPrefix(key) }
        if !prefix.isEmpty { return prefix }
        return targets.filter { $0.id.lowercased().contains(key) }
    }

    /// Adds (or replaces, by id) the targets in a user JSON file. Every bad field is reported.
    public func adding(contentsOf url: URL) throws -> HardwareRegistry {
        let added = try HardwareFile.load(url: url)
        return adding(added)
    }

    /// Adds (or replaces, by id) targets already in memory.
    public func adding(_ added: [HardwareTarget]) -> HardwareRegistry {
        var copy = self
        for t in added {
            if let i = copy.targets.firstIndex(where: { $0.id == t.id }) { copy.targets[i] = t } else { copy.targets.append(t) }
        }
        return copy
    }

    /// Table rows in registry order.
    public func rows() -> [HardwareRow] {
        targets.map { t in
            HardwareRow(id: t.id, name: t.name, deviceClass: t.deviceClass,
                        peakFP16TFLOPS: t.peak(.fp16).map { $0.opsPerSecond / 1e12 },
                        peakFP32TFLOPS: t.peak(.fp32, matrix: false).map { $0.opsPerSecond / 1e12 },
                        peakINT8TOPS: t.peakOpsPerSecond["int8"].map { $0 / 1e12 },
                        memoryGB: t.memoryCapacityBytes.map { $0 / 1e9 },
                        bandwidthGBps: t.memoryBandwidthBytesPerSecond.map { $0 / 1e9 },
                        tdpWatts: t.tdpWatts, confidence: t.confidence, source: t.source)
        }
    }
}

/// Reader for the hardware JSON format (schema_version 1): a top-level object with `targets`,
/// a bare array of targets, or a single target object. Unit conversions happen here only:
/// TFLOPS/TOPS -> op/s, GB/s -> B/s, GB and MB -> bytes.
enum HardwareFile {
    static func load(url: URL) throws -> [HardwareTarget] {
        let file = url.lastPathComponent
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw HardwareLoadError(errors: [HardwareFieldError(file: url.path, path: "", message: "cannot read file: \(error.localizedDescription)")])
        }
        return try parse(data: data, file: file)
    }

    static func parse(data: Data, file: String) throws -> [HardwareTarget] {
        let root: Any
        do { root = try JSONSerialization.jsonObject(with: data) } catch {
            throw HardwareLoadError(errors: [HardwareFieldError(file: file, path: "", message: "not valid JSON: \(error.localizedDescription)")])
        }
        var errors: [HardwareFieldError] = []
        var entries: [(String, Any)] = []
        if let obj = root as? [String: Any], let list = obj["targets"] {
            if let arr = list as? [Any] { entries = arr.enumerated().map { ("targets[\($0.offset)]", $0.element) } }
            else { errors.append(.init(file: file, path: "targets", message: "must be an array of target objects")) }
        } else if let arr = root as? [Any] {
            entries = arr.enumerated().map { ("[\($0.offset)]", $0.element) }
        } else if root is [String: Any] {
            entries = [("", root)]
        } else {
            errors.append(.init(file: file, path: "", message: "expected an object with `targets`, an array, or one target object"))
        }
        var out: [HardwareTarget] = []
        var seen = Set<String>()
        for (path, entry) in entries {
            var fieldErrors: [HardwareFieldError] = []
            if let t = parseTarget(entry, path: path, file: file, errors: &fieldErrors) {
                if seen.contains(t.id) {
                    fieldErrors.append(.init(file: file, path: join(path, "id"), message: "duplicate id \"\(t.id)\""))
                } else if fieldErrors.isEmpty { out.append(t); seen.insert(t.id) }
            }
            errors += fieldErrors
        }
        if entries.isEmpty && errors.isEmpty {
            errors.append(.init(file: file, path: "targets", message: "no targets in file"))
        }
        if !errors.isEmpty { throw HardwareLoadError(errors: errors) }
        return out
    }

    private static func join(_ a: String, _ b: String) -> String { a.isEmpty ? b : "\(a).\(b)" }

    private static func number(_ v: Any?) -> Double? {
        if v is Bool, !(v is Int) { return nil }
        if let d = v as? Double { return d }
        if let i = v as? Int { return Double(i) }
        return (v as? NSNumber)?.doubleValue
    }

    // swiftlint:disable:next function_body_length cyclomatic_complexity
    static func parseTarget(_ any: Any, path: String, file: String, errors: inout [HardwareFieldError]) -> HardwareTarget? {
        func fail(_ field: String, _ msg: String) { errors.append(.init(file: file, path: join(path, field), message: msg)) }
        guard let o = any as? [String: Any] else { fail("", "target must be a JSON object"); return nil }

        func requiredString(_ key: String) -> String? {
            guard let v = o[key] else { fail(key, "missing (required string)"); return nil }
            guard let s = v as? String, !s.trimmingCharacters(in: .whitespaces).isEmpty else { fail(key, "must be a non-empty string"); return nil }
            return s
        }
        func optionalString(_ key: String) -> String {
            guard let v = o[key], !(v is NSNull) else { return "" }
            guard let s = v as? String else { fail(key, "must be a string"); return "" }
            return s
        }
        /// nil = absent or null; reports non-numbers and out-of-range values.
        func optionalNumber(_ dict: [String: Any], _ key: String, _ fieldPath: String, allowZero: Bool = false) -> Double? {
            guard let v = dict[key], !(v is NSNull) else { return nil }
            guard let n = number(v) else { fail(fieldPath, "must be a number or null, got \(type(of: v))"); return nil }
            if !n.isFinite || n < 0 || (!allowZero && n == 0) { fail(fieldPath, "must be \(allowZero ? ">= 0" : "> 0"), got \(n)"); return nil }
            return n
        }
        func confidence(_ v: Any?, _ fieldPath: String) -> DataConfidence? {
            guard let s = v as? String, let c = DataConfidence(rawValue: s.lowercased()) else {
                fail(fieldPath, "must be one of high, medium, low"); return nil
            }
            return c
        }

        let id = requiredString("id")
        if let id, id.contains(where: { $0.isWhitespace }) { fail("id", "must not contain spaces") }
        let deviceClass = requiredString("class")
        let source = requiredString("source")
        let conf: DataConfidence? = o["confidence"] == nil ? { fail("confidence", "missing (required: high, medium or low)"); return nil }()
            : confidence(o["confidence"], "confidence")

        var peaks: [String: Double] = [:]
        if let p = o["peak_dense"] as? [String: Any] {
            for (k, v) in p where k != "units" {
                if let x = optionalNumber(p, k, "peak_dense.\(k)", allowZero: true) { peaks[k] = x * 1e12 }
                else if !(v is NSNull) && number(v) == nil { /* reported */ }
            }
            if peaks.isEmpty && !errors.contains(where: { $0.path.hasPrefix(join(path, "peak_dense")) }) {
                fail("peak_dense", "needs at least one numeric peak (TFLOPS/TOPS), e.g. \"fp16\": 100")
            }
        } else { fail("peak_dense", o["peak_dense"] == nil ? "missing (required object of TFLOPS/TOPS by precision)" : "must be an object") }

        var capacity: Double?, bandwidth: Double?, memType = ""
        if let m = o["memory"] as? [String: Any] {
            capacity = optionalNumber(m, "capacity_gb", "memory.capacity_gb", allowZero: true).map { $0 * 1e9 }
            bandwidth = optionalNumber(m, "bandwidth_gbps", "memory.bandwidth_gbps").map { $0 * 1e9 }
            if let t = m["type"], !(t is NSNull) { if let s = t as? String { memType = s } else { fail("memory.type", "must be a string") } }
        } else { fail("memory", o["memory"] == nil ? "missing (required object with bandwidth_gbps, capacity_gb)" : "must be an object") }

        var onChip: [String: Double] = [:]
        if let oc = o["on_chip"], !(oc is NSNull) {
            if let d = oc as? [String: Any] {
                for k in d.keys {
                    if let v = optionalNumber(d, k, "on_chip.\(k)", allowZero: true) {
                        let name = k.hasSuffix("_mb") ? String(k.dropLast(3)) : k
                        onChip[name] = k.hasSuffix("_mb") ? v * 1e6 : v
                    }
                }
            } else { fail("on_chip", "must be an object") }
        }
        let tdp = optionalNumber(o, "tdp_w", "tdp_w")
        var link: Double?
        if let ic = o["interconnect"], !(ic is NSNull) {
            if let d = ic as? [String: Any] { link = optionalNumber(d, "bandwidth_gbps", "interconnect.bandwidth_gbps").map { $0 * 1e9 } }
            else { fail("interconnect", "must be an object") }
        }
        var units: Int?
        if let u = optionalNumber(o, "compute_units", "compute_units") {
            if u != u.rounded() || u > 1e9 { fail("compute_units", "must be an integer up to 1e9") } else { units = Int(u) }
        }
        let launch = optionalNumber(o, "launch_overhead_us", "launch_overhead_us", allowZero: true).map { $0 * 1e-6 }
        var energy = EnergyParameters()
        if let e = o["energy"], !(e is NSNull) {
            if let d = e as? [String: Any] {
                energy.picojoulesPerByte = optionalNumber(d, "pj_per_byte", "energy.pj_per_byte")
                energy.staticWatts = optionalNumber(d, "static_w", "energy.static_w", allowZero: true)
                if let f = d["pj_per_flop"], !(f is NSNull) {
                    if let fd = f as? [String: Any] {
                        for k in fd.keys {
                            guard let p = Precision(parsing: k) else { fail("energy.pj_per_flop.\(k)", "unknown precision (use fp32, bf16, fp16, fp8, int8, ...)"); continue }
                            if let v = optionalNumber(fd, k, "energy.pj_per_flop.\(k)") { energy.picojoulesPerFLOP[p] = v }
                        }
                    } else { fail("energy.pj_per_flop", "must be an object of precision -> pJ") }
                }
            } else { fail("energy", "must be an object") }
        }
        var fieldConf: [String: DataConfidence] = [:]
        if let fc = o["field_confidence"], !(fc is NSNull) {
            if let d = fc as? [String: Any] {
                for (k, v) in d { if let c = confidence(v, "field_confidence.\(k)") { fieldConf[k] = c } }
            } else { fail("field_confidence", "must be an object of field path -> high|medium|low") }
        }
        guard let id, let deviceClass, let source, let conf else { return nil }
        let name = optionalString("name")
        return HardwareTarget(id: id, name: name.isEmpty ? id : name, vendor: optionalString("vendor"),
                              deviceClass: deviceClass, architecture: optionalString("architecture"),
                              peakOpsPerSecond: peaks, memoryCapacityBytes: capacity, memoryType: memType,
                              memoryBandwidthBytesPerSecond: bandwidth, onChipBytes: onChip, tdpWatts: tdp,
                              interconnectBytesPerSecond: link, computeUnits: units, launchOverheadSeconds: launch,
                              energy: energy, source: source, notes: optionalString("notes"),
                              confidence: conf, fieldConfidence: fieldConf)
    }
}
