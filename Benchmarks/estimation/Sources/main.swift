import Foundation
import GraphIR
import GraphFormats
import GraphEstimation
import GraphOps

// estimate-bench: the figures of Benchmarks/README.md "## Estimation".
//   estimate-bench [--corpus DIR] [--model FILE.onnx] [--write-synthetic FILE.onnx] [--runs N]
// Benchmarks/estimation/run.sh runs it (release) next to onnx-tool on the same files.
let args = CommandLine.arguments
func argValue(_ name: String) -> String? { args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } }
let runs = Int(argValue("--runs") ?? "") ?? 20

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}
/// CPU time of the whole process (all threads) (the machine is shared: wall time includes waiting for a core).
func threadCPU() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
func stats(_ xs: [Double]) -> (median: Double, min: Double) { let s = xs.sorted(); return (s[s.count / 2], s[0]) }
func ms(_ x: Double) -> String { String(format: "%.2f ms", x * 1e3) }

/// The 10k-node model: 278 decoder layers of 36 nodes + 8 = 10,016 nodes.
let tenK = (layers: 278, hidden: 64, heads: 2, ffn: 176, vocab: 256)

if let out = argValue("--write-synthetic") {
    let g = Synthetic.transformer(layers: tenK.layers, hidden: tenK.hidden, heads: tenK.heads, ffn: tenK.ffn, vocab: tenK.vocab, materialize: true)
    try ONNXWriter.save(Model(graph: g, opsetImports: [OpsetImport(version: 18)]), to: URL(fileURLWithPath: out))
    print("wrote \(out): \(g.nodes.count) nodes")
    exit(0)
}

let registry = try HardwareRegistry.bundled()
guard let h100 = registry.target("nvidia-h100-sxm5-80gb") else { fatalError("bundled registry lacks the H100") }

// 1. Whole-model estimate of a 10k-node graph.
print("== Whole-model estimate, 10k-node graph (batch=1 seq=128, H100 SXM fp16, median of \(runs)) ==")
let graph: Graph
if let path = argValue("--model") {
    var g: Graph?
    let load = try seconds { g = try ONNXReader.load(URL(fileURLWithPath: path)).graph }
    graph = g ?? Graph()
    print("model \(path): \(graph.nodes.count) nodes, ONNX load \(ms(load)) (not included below)")
} else {
    graph = Synthetic.transformer(layers: tenK.layers, hidden: tenK.hidden, heads: tenK.heads, ffn: tenK.ffn, vocab: tenK.vocab)
    print("synthetic in-memory graph: \(graph.nodes.count) nodes")
}
var infer: [Double] = [], convert: [Double] = [], analyze: [Double] = [], price: [Double] = [], total: [Double] = [], cpu: [Double] = []
var last: GraphEstimate?
var opts = EstimateOptions(bindings: ["batch": 1, "seq": 128], precision: .fp16, hardware: h100)
opts.inputShapes = ["input_ids": [1, 128]]
for _ in 0..<runs {
    var og = OpGraph(), a: CostAnalysis?
    // Free the previous run's result before timing this one (its 10k node estimates were
    // otherwise released inside the next run's "roofline+rollups" phase).
    last = nil
    let c0 = threadCPU()
    // GraphOps' symbolic inference (a notebook has it cached per graph version), then the cost view
    var inference: InferenceResult?
    let t0 = seconds { inference = ShapeInference.infer(graph) }
    let t1 = seconds { og = OpGraph(graph, inference: inference) }
    let t2 = try seconds { a = try CostAnalysis(graph: og, bindings: opts.bindings, inputShapes: opts.inputShapes,
                                               options: CostOptions(bytesPrecision: .fp16)) }
    let t3 = try seconds { if let a { last = try GraphEstimator.estimate(a, options: opts) } }
    cpu.append(threadCPU() - c0)
    infer.append(t0); convert.append(t1); analyze.append(t2); price.append(t3); total.append(t0 + t1 + t2 + t3)
}
print("symbolic inference \(ms(stats(infer).median)), GraphIR -> OpGraph \(ms(stats(convert).median)), shapes+costs \(ms(stats(analyze).median)), roofline+rollups \(ms(stats(price).median))")
print("TOTAL whole-model estimate: wall median \(ms(stats(total).median)), min \(ms(stats(total).min)); process CPU median \(ms(stats(cpu).median)), min \(ms(stats(cpu).min))  (target < 20 ms)")
if let e = last {
    print(String(format: "  -> %d nodes, %.3f GMACs, %.3f GFLOPs, latency %.3f ms [%.3f, %.3f] (%@), energy %.3f mJ, %d issues",
                 e.nodes.count, Double(e.totals.macs) / 1e9, Double(e.totals.flops) / 1e9,
                 (e.totals.latencySeconds?.value ?? 0) * 1e3, (e.totals.latencySeconds?.low ?? 0) * 1e3,
                 (e.totals.latencySeconds?.high ?? 0) * 1e3, e.confidence?.rawValue ?? "-", (e.totals.energyJoules?.value ?? 0) * 1e3,
                 e.issues.count))
}

if let a = try? CostAnalysis(graph: OpGraph(graph), bindings: opts.bindings, inputShapes: opts.inputShapes) {
    var o = opts; o.convention = .onnxTool
    if let e = try? GraphEstimator.estimate(a, options: o) { print("  -> MACs in the onnx-tool convention: \(e.totals.macs) (compare with the peer's figure)") }
}

// 2. 1,000-point sweep of a Llama-2-7B-sized graph.
if !args.contains("--skip-sweep") {
print("\n== Sweep: Llama-2-7B-sized graph, batch x seq x dtype x hardware = 5 x 5 x 4 x 10 ==")
let llama = Synthetic.transformer(layers: 32, hidden: 4096, heads: 32, ffn: 11008, vocab: 32000)
let llamaOG = OpGraph(llama)
let gpus = ["nvidia-h100-sxm5-80gb", "nvidia-h100-pcie-80gb", "nvidia-h200-sxm-141gb", "nvidia-a100-sxm4-80gb",
            "nvidia-a100-pcie-80gb", "nvidia-l40s", "nvidia-l4", "nvidia-a10", "amd-mi300x", "nvidia-rtx-4090"]
let axes = [try SweepAxis.parse("batch=1,2,4,8,16"), try SweepAxis.parse("seq=128,256,512,1024,2048"),
            try SweepAxis.parse("dtype=fp32,fp16,bf16,int8"), SweepAxis(key: "hardware", values: gpus.map { .text($0) })]
let sweep = GraphSweep(graph: llamaOG, registry: registry, base: EstimateOptions())
var sweepTimes: [Double] = []
var result: SweepResult<SweepFigures>?
let engine = SweepEngine()
for _ in 0..<max(3, runs / 4) {
    sweepTimes.append(try seconds { result = try sweep.run(axes: axes, engine: engine, isCancelled: { false }) })
}
if let r = result {
    let ok = r.results.compactMap { $0 }
    print("graph: \(llama.nodes.count) nodes, \(r.points.count) points, \(ok.count) priced, \(r.errors.count) not supported by the device (no peak for that precision)")
    print("TOTAL sweep: median \(ms(stats(sweepTimes).median)), min \(ms(stats(sweepTimes).min)) on \(engine.concurrency) threads  (target < 1 s)")
    if let best = ok.min(by: { $0.latency.value < $1.latency.value }), let i = r.results.firstIndex(where: { $0 == best }) {
        print("  fastest point: \(r.points[i].values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")) -> \(ms(best.latency.value))")
    }
}

}

// 3. MAC cross-check against the corpus references.
print("\n== MAC cross-check vs corpus references (onnx-tool 1.0.1 and dense figures) ==")
let corpus = URL(fileURLWithPath: argValue("--corpus") ?? "../shared/corpus")
if FileManager.default.fileExists(atPath: corpus.appendingPathComponent("reference").path) {
    let rows = CrossCheck.run(corpus: corpus)
    func f(_ v: Double?) -> String { v.map { String(format: "%.4f%%", $0 * 100) } ?? "n/a" }
    print("| model | ours (onnx-tool conv.) | onnx-tool | err | ours (dense) | dense ref | err | our load+estimate |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows {
        let denseCell = r.denseTopLevel.map { "\(r.ours.dense) (top level: \($0))" } ?? "\(r.ours.dense)"
        let denseErr: String
        if let top = r.denseTopLevel, let ref = r.reference.dense { denseErr = top == ref ? "0 (top level)" : "\(top - ref) (top level)" }
        else { denseErr = f(CrossCheckRow.relErr(r.ours.dense, r.reference.dense)) }
        print("| \(r.model) | \(r.ours.onnxTool) | \(r.reference.onnxTool.map(String.init) ?? "n/a") | \(f(CrossCheckRow.relErr(r.ours.onnxTool, r.reference.onnxTool))) | \(denseCell) | \(r.reference.dense.map(String.init) ?? "n/a") | \(denseErr) | \(ms(r.seconds)) |")
    }
    for r in rows where !r.issues.isEmpty { print("  \(r.model): \(r.issues.count) issue(s), e.g. \(r.issues[0])") }
} else {
    print("corpus not found at \(corpus.path); skipped")
}
