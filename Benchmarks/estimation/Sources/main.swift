import Foundation
import GraphEstimation

// estimate-bench: figures for Benchmarks/README.md "## Estimation".
//   swift run -c release estimate-bench [--corpus PATH] [--skip-speed]
let args = CommandLine.arguments
func argValue(_ name: String) -> String? { args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } }
let corpusPath = argValue("--corpus") ?? "../shared/corpus"
let corpus = URL(fileURLWithPath: corpusPath)

print("== MAC cross-check vs corpus references (onnx-tool 1.0.1 / dense) ==")
if FileManager.default.fileExists(atPath: corpus.appendingPathComponent("reference").path) {
    let rows = CrossCheck.run(corpus: corpus)
    func f(_ v: Double?) -> String { v.map { String(format: "%.4f%%", $0 * 100) } ?? "n/a" }
    print("| model | ours onnx-tool | ref onnx-tool | err | ours dense | ref dense | err | time |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows {
        print("| \(r.model) | \(r.ours.onnxTool) | \(r.reference.onnxTool.map(String.init) ?? "n/a") | \(f(CrossCheckRow.relErr(r.ours.onnxTool, r.reference.onnxTool))) | \(r.ours.dense) | \(r.reference.dense.map(String.init) ?? "n/a") | \(f(CrossCheckRow.relErr(r.ours.dense, r.reference.dense))) | \(String(format: "%.1f ms", r.seconds * 1e3)) |")
    }
    for r in rows where !r.issues.isEmpty { print("  \(r.model): \(r.issues.count) issues, first: \(r.issues[0])") }
} else {
    print("corpus not found at \(corpus.path); skipped")
}
