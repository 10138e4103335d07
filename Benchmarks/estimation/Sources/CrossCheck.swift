import Foundation
import GraphIR
import GraphFormats
import GraphEstimation

/// MAC cross-check against the corpus references (shared/corpus/reference/*.json):
/// our `onnx-tool` and `dense` conventions vs the figures onnx-tool 1.0.1 and the reference
/// script computed, with the reference input shapes bound (and scalar inputs the reference
/// fills with a constant bound to that value, e.g. silero_vad's `sr=16000`). Where the dense
/// reference counts the top-level graph only (it lists If/Loop/Scan as not counted), the error
/// compares our top-level figure without the bodies; the figure with bodies is shown beside it.
struct CrossCheckRow {
    var model: String
    var ours: (onnxTool: Int, dense: Int)
    /// Our dense MACs of top-level nodes only (If/Loop/Scan bodies left out, as the reference does).
    var denseTopLevel: Int? = nil
    var reference: (onnxTool: Int?, dense: Int?)
    var seconds: Double
    var issues: [String]

    static func relErr(_ a: Int, _ b: Int?) -> Double? {
        guard let b, b > 0 else { return nil }
        return abs(Double(a) - Double(b)) / Double(b)
    }
}

enum CrossCheck {
    static func run(corpus: URL) -> [CrossCheckRow] {
        let refDir = corpus.appendingPathComponent("reference")
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: refDir.path)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        var rows: [CrossCheckRow] = []
        for f in files {
            guard let data = try? Data(contentsOf: refDir.appendingPathComponent(f)),
                  let ref = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                  ref["format"] as? String == "onnx", let file = ref["file"] as? String else { continue }
            var shapes: [String: [Int]] = [:], bindings: [String: Int] = [:]
            for i in (ref["reference_inputs"] as? [[String: Any]]) ?? [] {
                if let n = i["name"] as? String, let s = i["shape"] as? [Int] { shapes[n] = s }
                if let n = i["name"] as? String, (i["shape"] as? [Int])?.isEmpty == true,
                   let gen = i["generator"] as? [String: Any], gen["gen"] as? String == "full", let v = gen["value"] as? Int {
                    bindings[n] = v
                }
            }
            let denseRef = ref["dense_macs"] as? [String: Any]
            let topOnly = ((denseRef?["not_counted_nodes"] as? [String: Int]) ?? [:]).keys.contains { ["If", "Loop", "Scan"].contains($0) }
            let ot = (ref["onnx_tool"] as? [String: Any]).flatMap { $0["status"] as? String == "ok" ? $0["macs"] as? Int : nil }
            let dense = denseRef?["total"] as? Int
            let start = Date()
            do {
                let model = try ONNXReader.load(corpus.appendingPathComponent(file))
                let og = OpGraph(model)
                var o = EstimateOptions(bindings: bindings, convention: .onnxTool)
                o.inputShapes = shapes
                let a = try CostAnalysis(graph: og, bindings: bindings, inputShapes: shapes)
                let e1 = try GraphEstimator.estimate(a, options: o)
                o.convention = .dense
                let e2 = try GraphEstimator.estimate(a, options: o)
                let top = topOnly ? e2.nodes.filter { $0.parent == nil && $0.status != .controlFlow }.reduce(0) { $0 + $1.macs } : nil
                rows.append(CrossCheckRow(model: ref["name"] as? String ?? f, ours: (e1.totals.macs, e2.totals.macs), denseTopLevel: top,
                                          reference: (ot, dense), seconds: Date().timeIntervalSince(start), issues: e1.issues))
            } catch {
                rows.append(CrossCheckRow(model: f, ours: (0, 0), reference: (ot, dense), seconds: 0, issues: ["error: \(error)"]))
            }
        }
        return rows
    }
}
