import XCTest
import Foundation
import JupyterKernel
@testable import Notebook

/// The drawing each edit leaves: the edited region with the edited nodes highlighted, problem
/// nodes outlined and broken inputs drawn red; the edits of one cell share one display that
/// later edits refresh in place.
final class EditRegionDrawingTests: XCTestCase {
    private func updates(_ r: CellRunner) -> [(MimeBundle, String)] {
        r.outputs.compactMap { if case .updateDisplay(let d, _, let id) = $0 { return (d, id) } else { return nil } }
    }

    private func displayIDs(_ r: CellRunner) -> [String] {
        r.outputs.compactMap { if case .display(_, _, let id) = $0 { return id } else { return nil } }
    }

    func testAnEditDrawsItsRegionWithTheNewNodeHighlighted() throws {
        let r = try CellRunner.withTourModel()
        XCTAssertNil(r.run("add Identity after=/encoder/layer.0/attention/self/Softmax name=probe").error, r.stderr)
        XCTAssertEqual(r.displays.count, 1, "one drawing of the edited region")
        let bundle = try XCTUnwrap(r.displays.first)
        let text = try XCTUnwrap(bundle["text/plain"]?.stringValue)
        XCTAssertTrue(text.hasPrefix("Edited region of bert @1: 3 nodes added or rewired"), "the new node and the two consumers it rewired"); XCTAssertTrue(text.contains("drawn"), text)
        let svg = try XCTUnwrap(bundle["image/svg+xml"]?.stringValue)
        XCTAssertTrue(svg.contains("probe"), "the new node is drawn")
        XCTAssertTrue(svg.contains("Softmax"), "with its producer")
        XCTAssertFalse(svg.contains("gs-broken-edge"), "a clean edit draws no broken edge")
        XCTAssertTrue(try XCTUnwrap(displayIDs(r).first).hasPrefix("gs-edit-"))
    }

    func testBrokenInputIsDrawnRedAndLaterEditsRefreshTheSameDisplay() throws {
        let r = try CellRunner.withTourModel()
        // An int64 graph input wired into Softmax (float only) breaks its type constraint.
        let cell = """
        connect input_ids /encoder/layer.0/attention/self/Softmax:0 --force
        add Identity after=/encoder/layer.0/attention/self/Softmax name=probe
        """
        XCTAssertNil(r.run(cell).error, r.stderr)
        XCTAssertEqual(r.displays.count, 1, "the cell's edits share one drawing")
        let ids = displayIDs(r)
        let refreshed = updates(r)
        XCTAssertEqual(refreshed.count, 1, "the second edit refreshes it")
        XCTAssertEqual(refreshed.first?.1, ids.first)
        let first = try XCTUnwrap(r.displays.first?["image/svg+xml"]?.stringValue)
        XCTAssertTrue(first.contains("gs-broken-edge"), "the wrong-typed input is drawn as a broken edge")
        XCTAssertTrue(first.contains("broken input"), "the legend names it")
        let text = try XCTUnwrap(refreshed.first?.0["text/plain"]?.stringValue)
        XCTAssertTrue(text.contains("bert @2") && text.contains("broken inputs in red"), text)
        let second = try XCTUnwrap(refreshed.first?.0["image/svg+xml"]?.stringValue)
        XCTAssertTrue(second.contains("probe") && second.contains("gs-broken-edge"), "the refresh draws both edits")
        // A new cell starts its own drawing.
        XCTAssertNil(r.run("undo").error)
        XCTAssertNil(r.run("set /encoder/layer.0/attention/self/Softmax axis=-1").error, r.stderr)
        XCTAssertEqual(updates(r).count, 0)
        XCTAssertEqual(r.displays.count, 1)
        XCTAssertNotEqual(displayIDs(r).first, ids.first)
    }
}
