/// onnx-tool: the command-line face of the ONNX reader/writer for scripts and CI.
///   onnx-tool roundtrip IN OUT [--external]   load IN, save OUT (optionally with external data)
///   onnx-tool info FILE                        summary figures of a model
///   onnx-tool me FILE OUT.json [--node-data ND.json]  Model Explorer JSON export (+ demo node data)
///   onnx-tool load-time FILE [--repeat N]      load time (median ms), peak RSS, weight bytes
///   onnx-tool save-time IN OUT [--repeat N] [--external]   save time (median ms)
///   onnx-tool fuzz --count N --seed S FILE...  mutate inputs, count crashes/hangs/errors
///   onnx-tool infer FILE [--json] [--repeat N [--bare]] [--bind name=value] [--walk general]  symbolic shape inference
import Foundation
import GraphFormats
import GraphIR

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(1)
}

func option(_ args: [String], _ name: String) -> String? {
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

func positional(_ args: [String]) -> [String] {
    var out: [String] = []
    var skip = false
    for a in args {
        if skip { skip = false; continue }
        if a == "--repeat" || a == "--count" || a == "--seed" || a == "--max-seconds" || a == "--min-seconds" || a == "--node-data" || a == "--bind" || a == "--input-shape" || a == "--walk" {
            skip = true
            continue
        }
        if a.hasPrefix("--") { continue }
        out.append(a)
    }
    return out
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Peak resident set size of this process in bytes (Linux VmHWM).
func peakRSS() -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let parts = line.split(separator: " ", omittingEmptySubsequences: true)
        if parts.count >= 2, let kb = Int(parts[1]) { return kb * 1024 }
    }
    return 0
}

/// CPU time of this process (immune to waiting for a core on a busy machine).
func cpuNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? 0 : s[s.count / 2]
}

var args = Array(CommandLine.arguments.dropFirst())
guard let command = args.first else { fail("usage: onnx-tool roundtrip|info|me|load-time|save-time|fuzz|infer ...") }
args.removeFirst()
let pos = positional(args)

do {
    switch command {
    case "roundtrip":
        guard pos.count == 2 else { fail("usage: onnx-tool roundtrip IN OUT [--external]") }
        let model = try ONNXReader.load(path: pos[0])
        try ONNXWriter.save(model, to: URL(fileURLWithPath: pos[1]), externalData: args.contains("--external"))
    case "info":
        guard pos.count == 1 else { fail("usage: onnx-tool info FILE") }
        let model = try ONNXReader.load(path: pos[0])
        let s = model.graph.summary()
        print("nodes \(s.nodeCount) total \(s.totalNodeCount) subgraphs \(s.subgraphCount)")
        print("params \(s.parameterCount) bytes \(s.parameterBytes) initializers \(s.initializerCount)")
        for (op, n) in s.opHistogramRows { print("  \(op) \(n)") }
        let issues = model.graph.validate()
        for i in issues.prefix(20) { print("issue: \(i)") }
    case "me":
        guard pos.count == 2 else { fail("usage: onnx-tool me FILE OUT.json") }
        let model = try ONNXReader.load(path: pos[0])
        let json = ModelExplorerExporter.export(model, label: (pos[0] as NSString).lastPathComponent)
        try Data(json.utf8).write(to: URL(fileURLWithPath: pos[1]))
        if let nd = option(args, "--node-data") {
            // Demo figure: weight elements each node reads from initializers.
            var values: [NodeID: Double] = [:]
            for n in model.graph.nodes {
                values[n.id] = Double(n.inputs.compactMap { model.graph.initializer(named: $0)?.elementCount }.reduce(0, +))
            }
            try Data(ModelExplorerExporter.nodeData(values, name: "weight elements").utf8).write(to: URL(fileURLWithPath: nd))
        }
    case "load-time":
        guard pos.count == 1 else { fail("usage: onnx-tool load-time FILE [--repeat N] [--min-seconds S]") }
        // At least `repeats` loads, and more until `minSeconds` of loading have passed (small
        // models load in tens of microseconds; a median of a handful is mostly noise). The
        // Python harness applies the same rule to onnx.load.
        let repeats = Int(option(args, "--repeat") ?? "5") ?? 5
        let minSeconds = Double(option(args, "--min-seconds") ?? "0") ?? 0
        var times: [Double] = []
        var cpuTimes: [Double] = []
        var last: Model?
        var spent = 0.0
        while times.count < max(1, repeats) || spent < minSeconds {
            last = nil
            let t0 = now(), c0 = cpuNow()
            let model = try ONNXReader.load(path: pos[0])
            let t1 = now()
            times.append((t1 - t0) * 1000)
            cpuTimes.append((cpuNow() - c0) * 1000)
            spent += t1 - t0
            last = model
        }
        let summary = last?.graph.summary()
        let weightBytes = summary?.initializerBytes ?? 0
        let nodes = summary?.totalNodeCount ?? 0
        print(String(format: "load_ms %.4f cpu_ms %.4f peak_rss %d weight_bytes %d nodes %d",
                     median(times), median(cpuTimes), peakRSS(), weightBytes, nodes))
    case "save-time":
        guard pos.count == 2 else { fail("usage: onnx-tool save-time IN OUT [--repeat N] [--external]") }
        let repeats = Int(option(args, "--repeat") ?? "5") ?? 5
        let model = try ONNXReader.load(path: pos[0])
        var times: [Double] = []
        for _ in 0..<max(1, repeats) {
            // Same as the Python harness: start from no output files (deleting a big old
            // file is not part of saving).
            unlink(pos[1])
            unlink(pos[1] + ".data")
            let t0 = now()
            try ONNXWriter.save(model, to: URL(fileURLWithPath: pos[1]), externalData: args.contains("--external"))
            times.append((now() - t0) * 1000)
        }
        print(String(format: "save_ms %.3f peak_rss %d", median(times), peakRSS()))
    case "infer":
        try runInfer(args, pos)
    case "fuzz":
        let count = Int(option(args, "--count") ?? "100000") ?? 100_000
        let seed = UInt64(option(args, "--seed") ?? "1") ?? 1
        let maxSeconds = Double(option(args, "--max-seconds") ?? "1e9") ?? 1e9
        try Fuzzer(files: pos, count: count, seed: seed, maxSeconds: maxSeconds).run()
    default:
        fail("unknown command \(command)")
    }
} catch {
    fail("error: \(error)")
}
