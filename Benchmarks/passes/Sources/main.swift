// Pass benchmark: `optimize level=extended` (the extended preset to a fixed point, as the cell
// command runs it) on ONNX files, timed in process.
//   pass-bench MODEL.onnx... [--runs N] [--target onnx|ort] [--fold-limit N] [--pipeline LIST] [--passes] [--json]
// Per model: the check that builds the pass manager's baseline (schema validation and shape
// inference of the loaded model; a notebook session already holds it when `optimize` runs), and
// the pipeline itself from that baseline (every pass, its contract check after each change).
// Medians over N runs after one warm-up. Benchmarks/passes/bench.py puts the peers beside it.
import Foundation
import GraphEditing
import GraphFormats
import GraphIR
import GraphPasses

let args = CommandLine.arguments
func argValue(_ name: String) -> String? { args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } }
let runs = max(1, Int(argValue("--runs") ?? "") ?? 5)
let target = PassTarget(rawValue: argValue("--target") ?? "onnx") ?? .onnx
var options = PassOptions(target: target)
if let limit = argValue("--fold-limit").flatMap(Int.init) { options.foldLimit = limit }
let files = args.dropFirst().filter { $0.hasSuffix(".onnx") }

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s.isEmpty ? 0 : s[s.count / 2] }
func countNodes(_ g: Graph) -> Int { g.nodes.filter { !($0.opType == "Constant" && ($0.domain.isEmpty || $0.domain == "ai.onnx")) }.count }

var rows: [[String: Any]] = []
let passes = try BuiltInPasses.pipeline(argValue("--pipeline") ?? "extended")
for file in files {
    let url = URL(fileURLWithPath: file)
    let model = try ONNXReader.load(url)
    let manager = PassManager(passes: passes, options: options, fixedPoint: true)
    var checkMs: [Double] = [], passMs: [Double] = []
    var after = 0
    for k in 0...runs {
        let t0 = now()
        let base = IncrementalCheck.Baseline(model)
        let t1 = now()
        let run = try manager.run(model, origin: "optimize", baseline: base)
        let t2 = now()
        after = countNodes(run.transaction.model.graph)
        if k > 0 { checkMs.append(Double(t1 - t0) / 1e6); passMs.append(Double(t2 - t1) / 1e6) }
        if k == runs && args.contains("--passes") {
            // Per pass of the last run (`--passes`): where the time goes.
            for r in run.records where r.seconds + r.checkSeconds > 0.001 {
                print(String(format: "  %@ round %d: %d -> %d nodes, %.1f ms", r.pass, r.round, r.nodesBefore, r.nodesAfter, r.seconds * 1000)
                      + (r.checkSeconds > 0 ? String(format: " + check %.1f ms", r.checkSeconds * 1000) : ""))
            }
        }
    }
    let row: [String: Any] = ["model": url.deletingPathExtension().lastPathComponent, "nodes": model.graph.nodes.count,
                              "nodes_before": countNodes(model.graph), "nodes_after": after, "target": target.rawValue,
                              "check_ms": median(checkMs), "optimize_ms": median(passMs), "runs": runs]
    rows.append(row)
    if !args.contains("--json") {
        print(String(format: "%@: %d -> %d nodes (no Constant), baseline check %.1f ms, optimize %.1f ms (median of %d)",
                     url.lastPathComponent, countNodes(model.graph), after, median(checkMs), median(passMs), runs))
    }
}
if args.contains("--json") {
    let data = try JSONSerialization.data(withJSONObject: rows, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}
