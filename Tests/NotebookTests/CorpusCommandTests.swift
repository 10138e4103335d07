import XCTest
import JupyterKernel
@testable import Notebook

/// The commands on every real ONNX model of `../shared/corpus`, checked against the reference
/// figures other tools produced (skips when the corpus is absent).
final class CorpusCommandTests: XCTestCase {
    static let corpus = GraphCommandTests.repo.deletingLastPathComponent().appendingPathComponent("shared/corpus")

    func references() throws -> [[String: Any]] {
        let dir = Self.corpus.appendingPathComponent("reference")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: dir.path), "../shared/corpus is absent")
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }.sorted().compactMap {
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent($0)))
            guard let ref = object as? [String: Any], ref["format"] as? String == "onnx" else { return nil }
            return ref
        }
    }

    func testSummaryShowAndEstimateMatchTheReferences() throws {
        let refs = try references()
        XCTAssertGreaterThanOrEqual(refs.count, 15)
        let runner = CellRunner(directory: Self.corpus)
        for ref in refs {
            let name = ref["name"] as? String ?? "?"
            let graph = ref["graph"] as? [String: Any] ?? [:]
            XCTAssertNil(runner.run("load \(ref["file"] as? String ?? "") as m").error, name)
            XCTAssertNil(runner.run("summary").error, name)
            let summary = runner.displays.first?[OutputBundle.dataMIME]
            XCTAssertEqual(summary?["nodes"]?.intValue, (graph["nodes_top_level"] as? Int).map(Int64.init), name)
            XCTAssertEqual(summary?["nodes_total"]?.intValue, (graph["nodes_including_subgraphs"] as? Int).map(Int64.init), name)
            XCTAssertEqual(summary?["stored_parameters"]?.intValue, (graph["params_float_elements"] as? Int).map(Int64.init), name)
            // every parameter: stored plus the float tensors ConstantOfShape makes (the light models keep their weights
            // there); the reference counts every dtype, and the non-float ones are a few index elements
            let stored = summary?["stored_parameters"]?.intValue ?? 0, generated = summary?["generated_parameters"]?.intValue ?? 0
            XCTAssertEqual(summary?["parameters"]?.intValue, stored + generated, name)
            XCTAssertTrue((0...16).contains(Int64(graph["constant_of_shape_generated_elements"] as? Int ?? 0) - generated),
                          "\(name): \(generated) generated vs \(graph["constant_of_shape_generated_elements"] ?? "?")")
            let counted = (summary?["parameters"]?.intValue ?? 0) - (summary?["unused_parameters"]?.intValue ?? 0)

            XCTAssertNil(runner.run("show").error, name)
            let visible = (runner.displays.first?[OutputBundle.dataMIME]?["visible_nodes"]?.intValue ?? 0)
                + (runner.displays.first?[OutputBundle.dataMIME]?["collapsed_groups"]?.intValue ?? 0)
            // Scoped graphs collapse to ~150 boxes; flat levels are cut into sections only past 600 nodes
            // (smaller flat graphs are drawn whole, wrapped into columns).
            XCTAssertLessThanOrEqual(visible, 600, "\(name): the default view should stay small")

            // Reference input shapes bind every dynamic dim; onnx-tool's own convention must agree within 1%.
            let shapes = (ref["reference_inputs"] as? [[String: Any]] ?? []).map { input in
                "\(input["name"] as? String ?? ""):" + ((input["shape"] as? [Int]) ?? []).map(String.init).joined(separator: "x")
            }
            let shapeList = "[" + shapes.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
            guard let tool = ref["onnx_tool"] as? [String: Any], tool["status"] as? String == "ok",
                  let expected = tool["macs"] as? Int else { continue }
            // summary and estimate agree once summary's unused initializers are left out
            XCTAssertNil(runner.run("estimate shape=\(shapeList)").error, name)
            XCTAssertEqual(runner.displays.first?[OutputBundle.dataMIME]?["totals"]?["params"]?.intValue, counted, "\(name): estimate vs summary parameters")
            XCTAssertNil(runner.run("estimate convention=onnx-tool shape=\(shapeList)").error, name)
            let macs = runner.displays.first?[OutputBundle.dataMIME]?["totals"]?["macs"]?.doubleValue ?? 0
            XCTAssertEqual(macs, Double(expected), accuracy: Double(expected) * 0.01, name)
            if let dense = (ref["dense_macs"] as? [String: Any])?["total"] as? Int {
                XCTAssertNil(runner.run("estimate convention=dense shape=\(shapeList)").error, name)
                let got = runner.displays.first?[OutputBundle.dataMIME]?["totals"]?["macs"]?.doubleValue ?? 0
                XCTAssertEqual(got, Double(dense), accuracy: Double(dense) * 0.01, "\(name) dense")
            }
        }
    }
}
