/// Memory a run will need, estimated before anything is allocated: the input shapes bind the
/// graph's symbolic dims, shape inference sizes every value, and a walk in node order with
/// value lifetimes gives the most activation bytes alive at once. A run whose estimate exceeds
/// the memory the machine has free is refused up front (a clear error, not a crash).
import Foundation
import GraphIR
import GraphOps

/// What a run of a graph on given input shapes is expected to hold.
public struct MemoryEstimate: Sendable, Equatable {
    /// The most activation bytes alive at once (inputs, node outputs; weights excluded).
    public var peakBytes: Int
    /// All node outputs together (what keeping every intermediate value costs).
    public var totalBytes: Int
    /// The largest single value and its size.
    public var largestValue: String?
    public var largestBytes: Int
    /// Values whose size inference could not fix (data-dependent shapes): not counted.
    public var unsizedValues: Int
    /// Weight bytes the model holds.
    public var weightBytes: Int
}

extension Interpreter {
    /// Symbolic dim bindings from concrete input shapes; throws naming the input whose shape
    /// does not fit its declaration or binds a dim differently from another input.
    func bindings(for inputShapes: [String: [Int]]) throws -> [String: SymDim] {
        var bindings: [String: SymDim] = [:]
        for vi in model.graph.inputs {
            guard let shape = inputShapes[vi.name] else { continue }
            guard case .tensor(_, let dims?)? = facts.type(of: vi.name) else { continue }
            do {
                let b = try facts.bindings(forInput: vi.name, shape: shape.map { Int64($0) })
                for (k, v) in b {
                    if let prior = bindings[k], prior != v {
                        throw RuntimeError("dimension '\(k)' is \(v) here but \(prior) in another input", input: vi.name)
                    }
                    bindings[k] = v
                }
            } catch let e as InferenceFailure {
                throw RuntimeError("shape \(shape) does not fit the declared \(dims.map { $0?.description ?? "?" }): \(e.reason)", input: vi.name)
            }
        }
        return bindings
    }

    /// Estimates the memory of a run on `inputShapes` without planning or allocating it.
    /// `keepAll`: every intermediate is kept to the end (`keep=all`).
    public func estimateMemory(inputShapes: [String: [Int]], keepAll: Bool = false) throws -> MemoryEstimate {
        let facts = self.facts.substituting(try bindings(for: inputShapes))
        let graph = model.graph
        func bytes(_ name: String) -> Int? { ExecutionPlan.plannedBytes(facts.type(of: name)) }
        var lastUse: [String: Int] = [:]
        for (k, n) in graph.nodes.enumerated() { for i in n.inputs where !i.isEmpty { lastUse[i] = k } }
        let pinned = Set(graph.outputs.map(\.name))
        var live = 0, peak = 0, total = 0, unsized = 0, largest = 0
        var largestName: String?
        func add(_ a: Int, _ b: Int) -> Int { let (r, o) = a.addingReportingOverflow(b); return o ? Int.max : r }
        func product(_ shape: [Int], _ size: Int) -> Int {
            shape.reduce(size) { acc, d in let (r, o) = acc.multipliedReportingOverflow(by: max(d, 0)); return o ? Int.max : r }
        }
        for (name, shape) in inputShapes {
            let declared = graph.inputs.first { $0.name == name }?.type?.elementType
            let stored: ElementType? = declared.map(RuntimeElement.stored)
            live = add(live, product(shape, stored.flatMap(RuntimeElement.size) ?? 4))
        }
        peak = live
        for (k, node) in graph.nodes.enumerated() {
            if node.opType == "Constant" && node.domain.isEmpty { continue }
            for out in node.outputs where !out.isEmpty {
                guard let b = bytes(out) else { unsized += 1; continue }
                if b > largest { largest = b; largestName = out }
                total = add(total, b)
                live = add(live, b)
            }
            peak = max(peak, live)
            if keepAll { continue }
            for v in Set(node.inputs.array + node.outputs.array) where !v.isEmpty && !pinned.contains(v) && weights[v] == nil {
                guard (lastUse[v] ?? k) == k, let b = bytes(v) ?? inputShapes[v].map({ product($0, 4) }) else { continue }
                live -= min(b, live)
            }
        }
        return MemoryEstimate(peakBytes: peak, totalBytes: total, largestValue: largestName, largestBytes: largest,
                              unsizedValues: unsized, weightBytes: borrowedWeightBytes + copiedWeightBytes)
    }

    /// The bytes free now when `bytes` would not fit in them, nil when they would. Sizes up to
    /// 1 GiB are not checked: reading free memory is a file read, and a block that small
    /// cannot take the machine down.
    static func freeMemory(ifShortOf bytes: Int) -> UInt64? {
        guard bytes > 1 << 30 else { return nil }
        let free = availableMemory()
        return UInt64(bytes) > free ? free : nil
    }

    /// Bytes of memory the system can still give this process: `MemAvailable` on Linux, else
    /// the physical memory; inside a container with a cgroup v2 memory limit (a notebook
    /// server often runs in one), no more than the limit minus what the group already uses,
    /// since past it the OOM killer ends the kernel whatever the host has free.
    public static func availableMemory() -> UInt64 {
        var free = ProcessInfo.processInfo.physicalMemory
        if let s = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) {
            for line in s.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
                if let kb = line.split(separator: " ").dropFirst().first.flatMap({ UInt64($0) }) { free = kb * 1024 }
            }
        }
        func number(_ path: String) -> UInt64? {
            (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        if let limit = number("/sys/fs/cgroup/memory.max"), let used = number("/sys/fs/cgroup/memory.current") {
            free = Swift.min(free, limit > used ? limit - used : 0)
        }
        return free
    }
}
