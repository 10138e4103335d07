// Layout invariants on the real corpus models (../shared/corpus/models), default view and fully
// expanded, in both directions. Skips cleanly when the shared corpus is absent.
import XCTest
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import GraphIR
import GraphFormats
@testable import GraphRendering

final class CorpusLayoutTests: XCTestCase {
    private func corpusModels() -> [String] {
        let here = URL(fileURLWithPath: #filePath)
        let candidates = [here.appendingPathComponent("../../../../shared/corpus/models").standardized.path, "/work/shared/corpus/models"]
        for dir in candidates {
            guard let list = try? FileManager.default.contentsOfDirectory(atPath: dir) else { continue }
            var files = list.filter { $0.hasSuffix(".onnx") }.map { dir + "/" + $0 }
            if let light = try? FileManager.default.contentsOfDirectory(atPath: dir + "/light") {
                files += light.filter { $0.hasSuffix(".onnx") }.map { dir + "/light/" + $0 }
            }
            if !files.isEmpty { return files.sorted() }
        }
        return []
    }

    func testCorpusDrawingsPassTheAudit() throws {
        let models = corpusModels()
        try XCTSkipIf(models.isEmpty, "shared corpus not present")
        for path in models {
            let model = try ONNXReader.load(path: path)
            let renderer = try GraphRenderer(model.graph)
            var views: [RenderOptions] = [RenderOptions()]
            var all = RenderOptions(); all.expandAll = true
            views.append(all)
            var lr = all; lr.direction = .leftToRight
            views.append(lr)
            for options in views {
                let result = try renderer.render(options)
                XCTAssertEqual(auditLayout(result.visible.layoutGraph, result.layout), [], "\(path) \(options.direction) expandAll=\(options.expandAll)")
                XCTAssertEqual(auditEdgeLabels(result.edgeLabels.labels, layout: result.layout, direction: options.direction), [],
                               "\(path): edge labels")
                XCTAssertLessThanOrEqual(result.stats.visibleBoxes, options.expandAll ? Int.max : 600, path)
                XCTAssertTrue(XMLParser(data: Data(result.svg.utf8)).parse(), "\(path): SVG is not well-formed")
                if result.stats.columns == 1 {
                    XCTAssertEqual(result.stats.crossings, countGeometricCrossings(result.layout.edges),
                                   "\(path): an unwrapped drawing has exactly the crossings the ordering counted")
                }
            }
        }
    }
}
