import Foundation
import GraphIR
import GraphFormats
import GraphEstimation

/// MAC cross-check against the corpus references (shared/corpus/reference/*.json):
/// our `onnx-tool` and `dense` conventions vs the figures onnx-tool 1.0.1 and the reference
/// script computed, with the reference input shapes bound.
struct CrossCheckRow {
    var model: String
    var ours: (onnxTool: Int, dense: Int)
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
            var shapes: [String: [Int]] = [:]
            for i in (ref["reference_inputs"] as? [[String: Any]]) ?? [] {
                if let n = i["name"] as? String, let s = i["shape"] as? [Int] { shapes[n] = s }
            }
            let ot = (ref["onnx_tool"] as? [String: Any]).flatMap { $0["status"] as? String == "ok" ? $0["macs"] as? Int : nil }
            let dense = (ref["dense_macs"] as? [String: Any])?["total"] as? Int
            let start = Date()
            do {
                let model = try ONNXReader.load(corpus.appendingPathComponent(file))
                let og = OpGraph(model.graph)
                var o = EstimateOptions(convention: .onnxTool)
                o.inputShapes = shapes
                let a = try CostAnalysis(graph: og, inputShapes: shapes)
                let e1 = try GraphEstimator.estimate(a, options: o)
                o.convention = .dense
                let e2 = try GraphEstimator.estimate(a, options: o)
                rows.append(CrossCheckRow(model: ref["name"] as? String ?? f, ours: (e1.totals.macs, e2.totals.macs),
                                          reference: (ot, dense), seconds: Date().timeIntervalSince(start), issues: e1.issues))
            } catch {
                rows.append(CrossCheckRow(model: f, ours: (0, 0), reference: (ot, dense), seconds: 0, issues: ["error: \(error)"]))
            }
        }
        return rows
    }
}
