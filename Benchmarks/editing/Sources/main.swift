// Editing benchmark: one edit plus the re-validation an edit command runs (schema, structure,
// shape inference), undo/redo, on the 10k-node synthetic transformer and on layout_cdla.
//   edit-bench MODEL.onnx [MODEL.onnx ...] [--runs N] [--json]
// Benchmarks/editing/bench_edit.py runs it (release) beside the same edit done as a Python user
// does it today (onnx.load, modify, onnx.shape_inference.infer_shapes, onnx.save).
import Foundation
import GraphEditing
import GraphFormats
import GraphIR
import GraphOps

let args = CommandLine.arguments
func argValue(_ name: String) -> String? { args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } }
let runs = Int(argValue("--runs") ?? "") ?? 50
let files = args.dropFirst().filter { $0.hasSuffix(".onnx") }

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
func percentile(_ xs: [Double], _ p: Double) -> Double {
    let s = xs.sorted()
    return s[min(s.count - 1, Int(Double(s.count - 1) * p))]
}

var results: [[String: Any]] = []
for file in files {
    let model = try ONNXReader.load(URL(fileURLWithPath: file))
    let g = model.graph
    // The edit: insert an Identity on the output of the middle node that has consumers (what
    // `add Identity after=NODE` does), a different node each run.
    let candidates = g.nodes.filter { n in n.outputs.first.map { !$0.isEmpty && !g.uses(of: $0).isEmpty } ?? false }
    let baseline = IncrementalCheck.Baseline(model)
    var editMs: [Double] = [], checkMs: [Double] = [], fullMs: [Double] = [], undoMs: [Double] = []
    var history = History(root: model, counts: GraphCounts(nodes: g.nodes.count, edges: 0, parameters: 0), command: "load")
    for r in 0..<runs {
        let target = candidates[(candidates.count / 2 + r * 7919) % candidates.count]
        let edge = target.outputs[0]
        let t0 = now()
        var tx = Transaction(model, origin: "edit")
        let e = try tx.apply(.addNode(NewNode(opType: "Identity", inputs: [edge], outputs: [""])))
        let out = tx.model.graph.node(e.addedNodes[0])!.outputs[0]
        for use in g.uses(of: edge) {
            if case .input(let k) = use.slot { try tx.apply(.setInput(node: use.node, index: k, value: out)) }
        }
        let t1 = now()
        let check = IncrementalCheck.check(tx.model, after: tx.effect, from: baseline)
        let t2 = now()
        precondition(check.introduced.filter { $0.severity == .error }.isEmpty, "the edit broke \(check.introduced)")
        history.commit(tx.model, counts: GraphCounts(nodes: 0, edges: 0, parameters: 0), origin: "edit", command: "add", edits: tx.applied)
        let t3 = now()
        try history.undo()
        try history.redo()
        let t4 = now()
        editMs.append(Double(t1 - t0) / 1e6)
        checkMs.append(Double(t2 - t1) / 1e6)
        undoMs.append(Double(t4 - t3) / 2e6)
        if r < 5 {
            let f0 = now()
            _ = ModelCheck.problems(of: tx.model)
            fullMs.append(Double(now() - f0) / 1e6)
        }
        try history.undo()
    }
    let total = zip(editMs, checkMs).map { $0 + $1 }
    let row: [String: Any] = [
        "model": URL(fileURLWithPath: file).lastPathComponent, "nodes": g.nodes.count, "runs": runs,
        "edit_p50_ms": percentile(editMs, 0.5), "check_p50_ms": percentile(checkMs, 0.5),
        "edit_plus_check_p50_ms": percentile(total, 0.5), "edit_plus_check_p99_ms": percentile(total, 0.99),
        "full_recheck_p50_ms": percentile(fullMs, 0.5), "undo_redo_p50_ms": percentile(undoMs, 0.5),
    ]
    results.append(row)
    if !args.contains("--json") {
        print(String(format: "%@ (%d nodes): edit %.3f ms + check %.3f ms = p50 %.3f ms (p99 %.3f); full re-check %.2f ms; undo/redo %.5f ms",
                     row["model"] as! String, g.nodes.count, percentile(editMs, 0.5), percentile(checkMs, 0.5),
                     percentile(total, 0.5), percentile(total, 0.99), percentile(fullMs, 0.5), percentile(undoMs, 0.5)))
    }
}
if args.contains("--json") {
    let data = try JSONSerialization.data(withJSONObject: results, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}
