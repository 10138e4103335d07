// The incremental check must find exactly what a full check finds, on random edits of a real
// model (tiny_bert from notebooks/models), broken ones included.
import Foundation
import GraphEditing
import GraphFormats
import GraphIR
import GraphOps
import XCTest

final class IncrementalCheckTests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private func key(_ p: GraphProblem) -> String { "\(p.checker)|\(p.kind)|\(p.node.map(\.description) ?? "")|\(p.scope)|\(p.location)|\(p.problem)" }

    func testMatchesFullCheckOnRandomEdits() throws {
        let url = Self.repo.appendingPathComponent("notebooks/models/tiny_bert.onnx")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: url.path))
        var model = try ONNXReader.load(url)
        var baseline = IncrementalCheck.Baseline(model)
        var rng = SystemRandomNumberGenerator()
        var checked = 0
        for step in 0..<120 {
            let g = model.graph
            var tx = Transaction(model, origin: "test", allowDangling: true)
            let n = g.nodes.randomElement(using: &rng)!
            let values = g.nodes.flatMap { $0.outputs.array } + g.inputs.map(\.name)
            do {
                switch Int.random(in: 0..<8, using: &rng) {
                case 0: try tx.apply(.addNode(NewNode(opType: "Identity", inputs: [values.randomElement(using: &rng)!], outputs: [""])))
                case 1: try tx.apply(.setInput(node: n.id, index: 0, value: values.randomElement(using: &rng)!))
                case 2: try tx.apply(.removeNode(n.id))
                case 3: try tx.apply(.setAttribute(node: n.id, name: "axis", value: .int(Int64.random(in: -5...5, using: &rng))))
                case 6: try tx.apply(.setDimension(from: .symbolic("batch"), to: .known(Int64.random(in: 1...4, using: &rng)), value: nil, axis: nil))
                case 7:
                    try tx.apply(.renameValue(values.randomElement(using: &rng)!, to: "renamed_\(step)"))
                case 4: try tx.apply(.setInput(node: n.id, index: 0, value: ""))
                case 5: try tx.apply(.addNode(NewNode(opType: "Relu", inputs: ["nowhere_\(step)"], outputs: [""])))
                default: break
                }
            } catch { continue }
            let incremental = IncrementalCheck.check(tx.model, after: tx.effect, from: baseline)
            let full = ModelCheck.problems(of: tx.model)
            let fullInference = ShapeInference.infer(tx.model)
            XCTAssertEqual(incremental.inference.values, fullInference.values, "step \(step): inferred values differ")
            XCTAssertEqual(incremental.problems.map(key).sorted(), full.map(key).sorted(), "step \(step)")
            XCTAssertEqual(ModelCheck.introduced(before: baseline.problems, after: full).map(key).sorted(),
                           incremental.introduced.map(key).sorted(), "step \(step)")
            model = tx.model
            baseline = IncrementalCheck.Baseline(model: model, schemaProblems: incremental.schemaProblems, inference: incremental.inference,
                                                 structure: incremental.structure, problems: incremental.problems)
            checked += 1
        }
        XCTAssertGreaterThan(checked, 60)
    }
}
