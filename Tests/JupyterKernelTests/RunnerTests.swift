import XCTest
@testable import JupyterKernel

final class RunnerTests: XCTestCase {
    func testSplitCellsAtMarkers() {
        let source = "echo a\n# %%\necho b\nresult 2\n# %% titled cell\n\n   \n# %%\r\nclear\r\n"
        XCTAssertEqual(HeadlessRunner.splitCells(source), ["echo a", "echo b\nresult 2", "clear"])
        XCTAssertEqual(HeadlessRunner.splitCells(""), [])
        // Each cell knows the file line it starts on, blank leading lines counted.
        XCTAssertEqual(HeadlessRunner.scriptCells(source).map(\.firstLine), [1, 3, 9])
        XCTAssertEqual(HeadlessRunner.scriptCells("\n\n  echo x\n").first, .init(code: "  echo x", firstLine: 3))
    }

    func testRunCollectsOutputsAndErrors() {
        let runs = HeadlessRunner(interpreter: TestInterpreter()).run(cells: ["echo hi", "fail", "result 4"])
        XCTAssertEqual(runs.count, 3)
        XCTAssertEqual(runs[0].outputs, [.stream(.stdout, "hi\n")])
        XCTAssertEqual(runs[1].error?.name, "TestError")
        XCTAssertEqual(runs[1].outputs.count, 1)
        XCTAssertEqual(runs[2].outputs, [.executeResult(data: ["text/plain": "4"], metadata: [:])])
    }

    func testPagerPayloadsBecomeOutput() {
        let runs = HeadlessRunner(interpreter: TestInterpreter()).run(cells: ["page some help"])
        XCTAssertEqual(runs[0].outputs, [.display(data: ["text/plain": "some help"], metadata: [:], displayID: nil)])
        XCTAssertNil(runs[0].error)
    }

    func testTextFormat() {
        let runs = HeadlessRunner(interpreter: TestInterpreter()).run(cells: ["echo hi", "result 4", "fail"])
        XCTAssertEqual(RunReport.text(runs), "hi\nOut[2]: 4\nTestError: failed on purpose\n")
    }

    func testJSONLinesFormat() throws {
        let runs = HeadlessRunner(interpreter: TestInterpreter()).run(cells: ["err oops", "show <svg/>", "fail"])
        let lines = RunReport.jsonLines(runs).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3)
        let objects = try lines.map { try JSONParser.parse($0) }
        XCTAssertEqual(objects[0]["cell"], 1)
        XCTAssertEqual(objects[0]["type"], "stream")
        XCTAssertEqual(objects[0]["name"], "stderr")
        XCTAssertEqual(objects[0]["data"]?["text/plain"], "oops\n")
        XCTAssertEqual(objects[1]["type"], "display_data")
        XCTAssertEqual(objects[1]["data"]?["image/svg+xml"], "<svg/>")
        XCTAssertEqual(objects[2]["type"], "error")
        XCTAssertEqual(objects[2]["ename"], "TestError")
    }

    func testHTMLReportInlinesSVGAndEscapesText() {
        let runs = HeadlessRunner(interpreter: TestInterpreter()).run(cells: ["show <svg id=\"g\"/>", "echo <b>&", "fail"])
        let html = RunReport.html(runs, title: "t<1>")
        XCTAssertTrue(html.contains("<svg id=\"g\"/>"))
        XCTAssertTrue(html.contains("&lt;b&gt;&amp;"))
        XCTAssertTrue(html.contains("<title>t&lt;1&gt;</title>"))
        XCTAssertTrue(html.contains("TestError: failed on purpose"))
        XCTAssertTrue(html.contains("class=\"cell failed\""))
    }

    func testKernelSpecInstallWritesJSONAndLogos() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ks-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = KernelSpec(name: "graphsmith", displayName: "Graphsmith", language: "graphsmith",
                              argv: ["/bin/graphsmith", "kernel", "-f", "{connection_file}"],
                              resources: ["logo-32x32.png": [1, 2, 3]])
        let folder = try spec.install(dataDirectory: dir)
        XCTAssertEqual(folder.path, dir.appendingPathComponent("kernels/graphsmith").path)
        let json = try JSONParser.parse(Array(try Data(contentsOf: folder.appendingPathComponent("kernel.json"))))
        XCTAssertEqual(json["argv"], ["/bin/graphsmith", "kernel", "-f", "{connection_file}"])
        XCTAssertEqual(json["interrupt_mode"], "message")
        XCTAssertEqual(json["display_name"], "Graphsmith")
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("logo-32x32.png")), Data([1, 2, 3]))
        XCTAssertThrowsError(try KernelSpec(name: "bad name", displayName: "", language: "", argv: []).install(dataDirectory: dir))
    }

    func testUserDataDirectoryFollowsJupyterRules() {
        XCTAssertEqual(KernelSpec.userDataDirectory(environment: ["JUPYTER_DATA_DIR": "/x"]).path, "/x")
        #if os(Linux)
        XCTAssertEqual(KernelSpec.userDataDirectory(environment: ["HOME": "/home/u"]).path, "/home/u/.local/share/jupyter")
        XCTAssertEqual(KernelSpec.userDataDirectory(environment: ["HOME": "/h", "XDG_DATA_HOME": "/d"]).path, "/d/jupyter")
        #endif
    }
}
