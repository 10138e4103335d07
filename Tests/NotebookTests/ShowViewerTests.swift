import XCTest
import Foundation
import JupyterKernel
@testable import Notebook

/// `show` as the viewer uses it: constants folded by default and `constants=boxes`, sections of a
/// long flat graph named by content and openable by that name, and the focus mark of `show PATH`.
final class ShowViewerTests: XCTestCase {
    private func html(_ runner: CellRunner) -> String { runner.displays.first?["text/html"]?.stringValue ?? "" }
    private func text(_ runner: CellRunner) -> String { runner.displays.first?["text/plain"]?.stringValue ?? "" }

    func testShowPathMarksTheFocusForTheViewer() throws {
        let runner = try CellRunner.withTourModel()
        XCTAssertNil(runner.run("show /encoder/layer.0").error)
        XCTAssertTrue(html(runner).contains("data-focus=\"encoder/layer.0\""))
        XCTAssertNil(runner.run("show").error)
        XCTAssertFalse(html(runner).contains("data-focus="))
        XCTAssertEqual(runner.run("show constants=bricks").error?.name, "ValueError")
    }

    func testLayoutCdlaFoldsItsConstantsAndNamesItsSections() throws {
        let model = CorpusCommandTests.corpus.appendingPathComponent("models/layout_cdla.onnx")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: model.path), "../shared/corpus is absent")
        let runner = CellRunner(directory: model.deletingLastPathComponent())
        XCTAssertNil(runner.run("load layout_cdla.onnx as m").error)
        XCTAssertNil(runner.run("show").error)
        XCTAssertTrue(text(runner).contains("878 constants folded"), text(runner))
        let folded = html(runner)
        XCTAssertFalse(folded.contains("section_"), "sections are named by content, not section_i_of_n")
        XCTAssertTrue(folded.contains("stage ×"), "repeated op sequences are labelled as stages")
        // Open the first section by the name the drawing gives it.
        let marker = "class=\"gs-group\" data-id=\""
        let start = try XCTUnwrap(folded.range(of: marker))
        let section = String(folded[start.upperBound...].prefix { $0 != "\"" })
        XCTAssertTrue(section.hasPrefix("s") && section.dropFirst().prefix { $0 != "_" }.allSatisfy(\.isNumber), section)
        XCTAssertTrue(section.contains(".."), "named by first..last node: \(section)")
        XCTAssertNil(runner.run("show \(section)").error)
        XCTAssertTrue(html(runner).contains("data-focus=\"\(section)\""))
        XCTAssertTrue(html(runner).contains("class=\"gs-frame\" data-id=\"\(section)\""))
        XCTAssertEqual(runner.run("show section_1_of_11").error?.name, "LookupError")
        // Tab completes the section names of the drawing.
        let code = "show " + String(section.prefix(3))
        XCTAssertTrue(runner.interpreter.complete(code: code, cursorPosition: code.count).matches.contains(section))

        XCTAssertNil(runner.run("show constants=boxes").error)
        XCTAssertFalse(text(runner).contains("constants folded"))
        XCTAssertNil(runner.run("show all constants=boxes").error)
        XCTAssertEqual(html(runner).components(separatedBy: "data-op=\"Constant\"").count - 1, 878, "constants=boxes keeps every Constant box")
        XCTAssertNil(runner.run("show all").error)
        XCTAssertEqual(html(runner).components(separatedBy: "data-op=\"Constant\"").count - 1, 0)
    }
}
