import Foundation
import XCTest
@testable import GraphFormats
import GraphIR

/// Our summary figures against the corpus reference JSON (node counts with and without
/// subgraphs, subgraph count, op histogram, float parameter elements, initializer count).
final class CorpusFiguresTests: XCTestCase {
    func testSummaryMatchesCorpusReference() throws {
        let models = TestPaths.corpusModels()
        guard let shared = TestPaths.shared, !models.isEmpty else { throw XCTSkip("shared corpus not present") }
        var checked = 0
        for url in models {
            let name = url.deletingPathExtension().lastPathComponent
            let refURL = shared.appendingPathComponent("corpus/reference/\(name).json")
            guard let data = try? Data(contentsOf: refURL),
                  let ref = try JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let g = ref["graph"] as? [String: Any] else { continue }
            let s = try ONNXReader.load(url).graph.summary()
            XCTAssertEqual(s.nodeCount, g["nodes_top_level"] as? Int, name)
            XCTAssertEqual(s.totalNodeCount, g["nodes_including_subgraphs"] as? Int, name)
            XCTAssertEqual(s.subgraphCount, g["subgraphs"] as? Int, name)
            XCTAssertEqual(s.initializerCount, g["initializers"] as? Int, name)
            XCTAssertEqual(s.parameterCount, g["params_float_elements"] as? Int, name)
            if let hist = g["op_histogram_including_subgraphs"] as? [String: Int] {
                XCTAssertEqual(s.opHistogram, hist, name)
            }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 10)
    }
}
