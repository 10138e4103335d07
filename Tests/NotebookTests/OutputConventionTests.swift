import XCTest
import JupyterKernel
@testable import Notebook

/// Every command's outputs follow the bundle rules in OutputBundle.swift / docs/outputs.md:
/// text/plain always; no plain application/json beside rich forms (JupyterLab would show a JSON
/// tree); a chart never shares an output with HTML (HTML outranks Vega-Lite in JupyterLab);
/// machine-readable data only under the vendor type.
final class OutputConventionTests: XCTestCase {
    /// One cell per command family that draws, tabulates or charts.
    static let cells = [
        "summary", "tree depth=2", "info /encoder/layer.0/attention/self/Softmax", "find op=Softmax", "graphs",
        "show", "show encoder depth=2", "estimate hw=h100-sxm5 batch=8 seq=128", "roofline hw=h100-sxm5 batch=8 seq=128",
        "sweep batch=1,8 seq=128 hw=h100-sxm5 metric=latency", "sweep batch=1,8 seq=64,128 hw=h100-sxm5",
        "llm gpt2 hw=h100-sxm5", "hardware", "x = 3\nvars", "print {'a': [1, 2]}", "help", "help show",
        "load models/broken.onnx as broken\ncheck", "show", "diff @0", "plugins",
    ]

    func testEveryOutputFollowsTheBundleRules() throws {
        let runner = try CellRunner.withTourModel()
        for cell in Self.cells {
            XCTAssertNil(runner.run(cell).error, cell)
            let bundles = runner.outputs.compactMap { output -> MimeBundle? in
                switch output {
                case .display(let d, _, _), .executeResult(let d, _): return d
                default: return nil
                }
            }
            XCTAssertFalse(bundles.isEmpty, "\(cell): no rich output")
            for b in bundles {
                XCTAssertNotNil(b["text/plain"], "\(cell): no text/plain")
                XCTAssertNil(b["application/json"], "\(cell): plain application/json would render as a JSON tree")
                if b[OutputBundle.vegaLiteMIME] != nil {
                    XCTAssertNil(b["text/html"], "\(cell): HTML beside Vega-Lite hides the chart in JupyterLab")
                    XCTAssertNotNil(b["image/svg+xml"], "\(cell): a chart needs its static SVG fallback")
                }
                if let data = b[OutputBundle.dataMIME] {
                    XCTAssertNotNil(data.objectValue, "\(cell): vendor data must be an object")
                }
                XCTAssertTrue(b["text/html"] != nil || b["image/svg+xml"] != nil || b[OutputBundle.vegaLiteMIME] != nil
                              || cell.hasPrefix("print"), "\(cell): no rich form")
            }
        }
    }

    /// `check` with problems is one report: its links only work beside the viewer they focus.
    func testCheckReportIsOneOutputWithTableAndViewer() throws {
        let runner = try CellRunner.withTourModel()
        XCTAssertNil(runner.run("load models/broken.onnx as broken").error)
        XCTAssertNil(runner.run("check").error)
        XCTAssertEqual(runner.displays.count, 1)
        let b = try XCTUnwrap(runner.displays.first)
        let html = try XCTUnwrap(b["text/html"]?.stringValue)
        XCTAssertTrue(html.hasPrefix("<div class=\"gs-report\"><table") && html.contains("class=\"gs-view\"") && html.hasSuffix("</div>"))
        XCTAssertNil(b["image/svg+xml"], "an SVG copy would let a front end show the drawing without the table")
        XCTAssertNotNil(b[OutputBundle.dataMIME]?.objectValue)
    }

    func testChartAloneIsOneOutputWithItsData() {
        var b = OutputBundle(text: "roofline", json: ["k": 1])
        Chart.bars([("a", 1), ("b", 2)], title: "t", unit: "GB").attach(to: &b)
        XCTAssertEqual(b.outputs.count, 1)
        XCTAssertEqual(b.outputs[0][OutputBundle.dataMIME], ["k": 1])
        XCTAssertEqual(b.outputs[0]["text/plain"], .string("roofline"))
        b.html = "<table></table>"
        XCTAssertEqual(b.outputs.count, 2)
        XCTAssertNil(b.outputs[1]["text/html"])
        XCTAssertNil(b.outputs[1][OutputBundle.dataMIME])
        XCTAssertEqual(b.outputs[0][OutputBundle.dataMIME], ["k": 1])
    }

    func testUserAskedJSONIsPublishedAsSuch() {
        let r = CellRunner()
        XCTAssertNil(r.run("display {'a': 1} mime=application/json").error)
        XCTAssertEqual(r.displays.first?["application/json"], .object(["a": .int(1)]))
    }
}
