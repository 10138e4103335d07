import XCTest
import Foundation
import JupyterKernel
@testable import Notebook

/// `compare` with three or more versions: the versions side by side (nodes, op changes,
/// parameters, estimated and measured time, output error against the first), as a table and a
/// bar chart relative to the first version.
final class CompareMetricsTests: XCTestCase {
    private func classifier() throws -> CellRunner {
        let model = CellRunner.repo.appendingPathComponent("notebooks/models/ppocr_mobile_v2_cls.onnx")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: model.path), "ppocr classifier missing")
        let r = CellRunner(directory: FileManager.default.temporaryDirectory)
        XCTAssertNil(r.run("load \(model.path) as cls").error, r.stderr)
        return r
    }

    func testVersionsSideBySideWithErrorsAgainstTheFirst() throws {
        let r = try classifier()
        XCTAssertNil(r.run("pass fuse-hardswish").error, r.stderr)
        XCTAssertNil(r.run("set BatchNormalization@3 epsilon=0.5").error, r.stderr)
        XCTAssertNil(r.run("compare @0 @1 @2 shape=x:1x3x48x192 repeat=2 hw=a100-sxm4-80gb").error, r.stderr)
        let table = try XCTUnwrap(r.displays.first { $0[OutputBundle.dataMIME] != nil })
        let data = try XCTUnwrap(table[OutputBundle.dataMIME])
        let versions = try XCTUnwrap(data["versions"]?.arrayValue)
        XCTAssertEqual(versions.compactMap { $0["label"]?.stringValue }, ["cls@0", "cls@1", "cls@2"])
        XCTAssertEqual(versions.compactMap { $0["nodes"]?.intValue }, [566, 512, 512] as [Int64])
        XCTAssertEqual(versions[1]["pass"], .bool(true), "the fusion keeps the numbers")
        XCTAssertEqual(versions[2]["pass"], .bool(false), "the epsilon edit changes them")
        XCTAssertEqual(versions[0]["pass"], .null, "the first is the reference")
        XCTAssertEqual(versions[1]["made_by"]?.stringValue, "pass fuse-hardswish")
        for v in versions {
            XCTAssertGreaterThan(v["estimated_seconds"]?.doubleValue ?? 0, 0)
            XCTAssertGreaterThan(v["measured_seconds"]?.doubleValue ?? 0, 0)
        }
        let text = try XCTUnwrap(table["text/plain"]?.stringValue)
        XCTAssertTrue(text.contains("+18 HardSwish") && text.contains("−18 Div"), text)
        XCTAssertTrue(text.contains("outputs of cls@2 differ from cls@0"), text)
        XCTAssertTrue(r.displays.contains { $0["application/vnd.vegalite.v5+json"] != nil }, "a bar chart follows the table")
    }

    func testMetricOptionsNeedMetricsAndVersionsMustExist() throws {
        let r = try classifier()
        XCTAssertNil(r.run("pass fuse-hardswish").error, r.stderr)
        let wrong = r.run("compare @0 @1 shape=x:1x3x48x192 hw=a100-sxm4-80gb").error?.value ?? ""
        XCTAssertTrue(wrong.contains("hw= is for comparing metrics"), wrong)
        let missing = r.run("compare @0 @1 @7 shape=x:1x3x48x192").error?.value ?? ""
        XCTAssertTrue(missing.contains("no step '@7'"), missing)
        XCTAssertNil(r.run("compare @0 @1 view=metrics shape=x:1x3x48x192 repeat=1").error, r.stderr)
        XCTAssertTrue(r.displays.contains { $0["application/vnd.vegalite.v5+json"] != nil })
    }
}
