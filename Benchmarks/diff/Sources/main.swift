// Diff benchmark: `GraphDiff.compute` on two versions of the 10k-node synthetic transformer.
//   diff-bench MODEL.onnx [--runs N] [--json]
// Two cases: (1) versions of one model (shared ids: pairing by id, the `diff @0 @3` case) and
// (2) the same model read twice (no shared ids: every node paired by signature, the case of a
// plugin's result read back from a file). The new version has 200 nodes changed (an attribute
// set), 100 Identity nodes inserted and rewired, so pairing, change detection and grouping all
// do work. Target (issue 14): under 100 ms for two 10k-node versions.
import Foundation
import GraphEditing
import GraphFormats
import GraphIR
import GraphPasses

let args = CommandLine.arguments
func argValue(_ name: String) -> String? { args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } }
let runs = Int(argValue("--runs") ?? "") ?? 20
let files = args.dropFirst().filter { $0.hasSuffix(".onnx") }

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s.isEmpty ? 0 : s[s.count / 2] }

/// The edits every case applies to its new version.
func edit(_ model: Model) throws -> Model {
    let g = model.graph
    var tx = Transaction(model, origin: "bench")
    let used = g.nodes.filter { n in n.outputs.first.map { !$0.isEmpty && !g.uses(of: $0).isEmpty } ?? false }
    guard used.count > 400 else { return tx.model }
    for k in 0..<200 {
        try tx.apply(.setAttribute(node: used[(k * 7919) % used.count].id, name: "bench_mark", value: .int(Int64(k))))
    }
    for k in 0..<100 {
        let target = used[(k * 104_729 + 13) % used.count]
        let edge = target.outputs[0]
        let e = try tx.apply(.addNode(NewNode(opType: "Identity", inputs: [edge], outputs: [""], sources: [target.id])))
        guard let out = tx.model.graph.node(e.addedNodes[0])?.outputs[0] else { continue }
        for use in tx.model.graph.uses(of: edge) where use.node != e.addedNodes[0] {
            if case .input(let i) = use.slot { try tx.apply(.setInput(node: use.node, index: i, value: out)) }
        }
    }
    return tx.model
}

var rows: [[String: Any]] = []
for file in files {
    let url = URL(fileURLWithPath: file)
    let a = try ONNXReader.load(url)
    let b = try edit(a)
    let other = try edit(try ONNXReader.load(url))  // its own id space
    for (label, left, right) in [("versions (shared ids)", a.graph, b.graph), ("read twice (signatures)", a.graph, other.graph)] {
        var ms: [Double] = []
        var diff = GraphDiff.compute(left, right)  // warm-up: graph indexes are built once per version
        for _ in 0..<runs {
            let t0 = now()
            diff = GraphDiff.compute(left, right)
            ms.append(Double(now() - t0) / 1e6)
        }
        let row: [String: Any] = [
            "model": url.lastPathComponent, "case": label, "nodes_a": left.nodes.count, "nodes_b": right.nodes.count,
            "median_ms": median(ms), "min_ms": ms.min() ?? 0, "runs": runs,
            "matched": diff.matched.count, "changed": diff.changed.count, "added": diff.added.count,
            "removed": diff.removed.count, "groups": diff.groups.count,
        ]
        rows.append(row)
        if !args.contains("--json") {
            print(String(format: "%@ %@: %d vs %d nodes, median %.2f ms (min %.2f) over %d runs; %d matched, %d changed, %d added, %d removed, %d groups",
                         url.lastPathComponent, label, left.nodes.count, right.nodes.count, median(ms), ms.min() ?? 0, runs,
                         diff.matched.count, diff.changed.count, diff.added.count, diff.removed.count, diff.groups.count))
        }
    }
}
if args.contains("--json") {
    let data = try JSONSerialization.data(withJSONObject: rows, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}
