/// runtime-tool: the command-line face of GraphRuntime for the Python cross-checks and the
/// benchmark.
///   runtime-tool run MODEL.onnx NAME=IN.npy ... --out DIR [--timed]
///       runs once, writes DIR/out_<i>.npy per graph output, prints a JSON summary
///       (--timed: mean ms per op type over 10 runs after 3 warm-ups; --all-nodes: every node, not the 10 slowest)
///   runtime-tool bench MODEL.onnx NAME=IN.npy ... [--warmup 5] [--repeat 20]
///       median/min/p90 latency in ms and peak RSS as JSON
///   runtime-tool nodetests DIR [--json FILE] [--only A,B] [--after NAME] [--match TEXT]
///       runs the ONNX backend node tests under DIR against their stored outputs (NodeTests.swift)
///   runtime-tool fuzz DIR [--count N] [--seed S] [--start I] [--match TEXT]
///       hostile numbers in node-test models, inferred, planned and run (Fuzz.swift; driver: fuzz.py)
import Foundation
import GraphFormats
import GraphIR
import GraphRuntime

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data(("runtime-tool: " + message + "\n").utf8))
    exit(1)
}

func option(_ args: [String], _ name: String) -> String? {
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

/// Peak resident set size in bytes (VmHWM).
func peakRSS() -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }
    return 0
}

/// A .npy (version 1.0) file of `t`; a type NumPy has no fixed-size form of is written as its raw bytes.
func npyBytes(_ t: RuntimeTensor) throws -> [UInt8] {
    if NPYWriter.descr(t.elementType) != nil { return try NPYWriter.bytes(type: t.elementType, shape: t.shape, data: t.bytes) }
    return try NPYWriter.bytes(type: .uint8, shape: [t.bytes.count], data: t.bytes)
}

/// Reads NAME=FILE.npy arguments into runtime tensors.
func loadInputs(_ args: [String]) -> [String: RuntimeTensor] {
    var inputs: [String: RuntimeTensor] = [:]
    for a in args where a.contains("=") && !a.hasPrefix("--") {
        guard let eq = a.firstIndex(of: "=") else { continue }
        let name = String(a[..<eq]), file = String(a[a.index(after: eq)...])
        do {
            let t = try NPYReader.read(URL(fileURLWithPath: file), name: name)
            inputs[name] = try RuntimeTensor.from(t).tensor.copied()
        } catch {
            fail("input '\(name)': \(error)")
        }
    }
    return inputs
}

func json(_ object: Any) -> String {
    guard let d = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "{}" }
    return String(decoding: d, as: UTF8.self)
}

/// Seconds of CPU time the calling thread has used.
func threadCPU() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

let args = Array(CommandLine.arguments.dropFirst())
if args.first == "nodetests" {
    NodeTests.run(arguments: args)
    exit(0)
}
if args.first == "fuzz" {
    ValueFuzz.run(arguments: args)
    exit(0)
}
guard args.count >= 2 else {
    fail("usage: runtime-tool run|bench MODEL.onnx NAME=IN.npy ... [--out DIR] [--warmup N] [--repeat N]")
}
let command = args[0], modelPath = args[1]
let model: Model
do { model = try ONNXReader.load(path: modelPath) } catch { fail("\(modelPath): \(error)") }
let inputs = loadInputs(Array(args.dropFirst(2)))

do {
    let t0 = now()
    let interpreter = try Interpreter(model: model, threads: Int(option(args, "--threads") ?? "1") ?? 1)
    let plan = try interpreter.plan(inputShapes: inputs.mapValues(\.shape))
    let prepare = now() - t0
    var summary: [String: Any] = [
        "prepare_ms": prepare * 1000, "peak_activation_bytes": plan.peakActivationBytes,
        "activation_bytes_without_reuse": plan.totalActivationBytes, "steps": plan.stepCount,
        "folded_nodes": plan.foldedNodes, "fused_nodes": plan.fusedNodes, "winograd_convs": plan.winogradConvs, "direct_convs": plan.directConvs, "blocked_values": plan.blockedValues, "blocked_pools": plan.blockedPools, "unplanned_values": plan.unplannedValues, "views": plan.views,
        "blas_core": Interpreter.blasCoreName, "weight_bytes_in_place": interpreter.borrowedWeightBytes, "weight_bytes_copied": interpreter.copiedWeightBytes,
    ]
    switch command {
    case "run":
        let timed = args.contains("--timed")
        // Timing: warm up (page in weights, size buffers), then sum per-node times over 10 runs.
        var perOp: [String: Double] = [:], perNode: [String: Double] = [:]
        if timed {
            for _ in 0..<3 { _ = try interpreter.run(inputs) }
            for _ in 0..<10 {
                for t in try interpreter.run(inputs, timed: true).nodeTimes {
                    perOp[t.opType, default: 0] += t.seconds * 100
                    perNode[t.node, default: 0] += t.seconds * 100
                }
            }
        }
        let r = try interpreter.run(inputs)
        if let dir = option(args, "--out") {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for (i, o) in r.outputs.enumerated() {
                try Data(try npyBytes(o.tensor)).write(to: URL(fileURLWithPath: "\(dir)/out_\(i).npy"))
            }
        }
        summary["outputs"] = r.outputs.map { ["name": $0.name, "shape": $0.tensor.shape, "dtype": $0.tensor.elementType.name] }
        if timed {
            summary["ms_by_op"] = perOp
            let ranked = perNode.sorted { $0.value > $1.value }
            summary["slowest_nodes_ms"] = Dictionary(uniqueKeysWithValues: ranked.prefix(args.contains("--all-nodes") ? ranked.count : 10).map { ($0.key, $0.value) })
        }
    case "bench":
        let warmup = Int(option(args, "--warmup") ?? "5") ?? 5, repeats = Int(option(args, "--repeat") ?? "20") ?? 20
        for _ in 0..<warmup { _ = try interpreter.run(inputs) }
        var times: [Double] = [], cpu: [Double] = []
        times.reserveCapacity(max(repeats, 1))
        cpu.reserveCapacity(max(repeats, 1))
        let allocations = AllocationCounter()
        let before = allocations?.read()
        for _ in 0..<max(repeats, 1) {
            let s = now(), c = threadCPU()
            _ = try interpreter.run(inputs)
            times.append((now() - s) * 1000)
            cpu.append((threadCPU() - c) * 1000)
        }
        if let allocations, let before {
            // Heap allocations per timed run (outputs handed back included), ours and OpenBLAS's.
            let after = allocations.read(), n = Double(max(repeats, 1))
            summary["allocations_per_run"] = Double(after.total - before.total - (after.blas - before.blas)) / n
            summary["blas_allocations_per_run"] = Double(after.blas - before.blas) / n
        }
        times.sort()
        cpu.sort()
        // CPU time of this thread: unlike wall time, not inflated when other jobs take the core.
        summary["cpu_median_ms"] = cpu[cpu.count / 2]
        summary["median_ms"] = times[times.count / 2]
        summary["min_ms"] = times[0]
        summary["p90_ms"] = times[min(times.count - 1, Int(Double(times.count) * 0.9))]
        summary["runs"] = times.count
        summary["warmup"] = warmup
        summary["peak_rss_bytes"] = peakRSS()
    default:
        fail("unknown command '\(command)' (run, bench)")
    }
    print(json(summary))
} catch {
    fail("\(error)")
}

/// The heap-allocation counts of `Benchmarks/runtime/alloc_count.c` when it is preloaded
/// (`LD_PRELOAD`); nil otherwise.
struct AllocationCounter {
    typealias Read = @convention(c) () -> Int
    let total: Read, blas: Read

    init?() {
        guard let t = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gs_alloc_total"),
              let b = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gs_alloc_openblas") else { return nil }
        total = unsafeBitCast(t, to: Read.self)
        blas = unsafeBitCast(b, to: Read.self)
    }

    func read() -> (total: Int, blas: Int) { (total(), blas()) }
}
