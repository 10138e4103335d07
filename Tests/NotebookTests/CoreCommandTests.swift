import XCTest
import JupyterKernel
@testable import Notebook

final class CoreCommandTests: XCTestCase {
    func testEchoAndStreams() {
        let r = CellRunner()
        XCTAssertNil(r.run("echo hello, world\necho --stderr oops").error)
        XCTAssertEqual(r.stdout, "hello, world\n")
        XCTAssertEqual(r.stderr, "oops\n")
    }

    func testHelpListsEveryCommandAndExplainsOne() {
        let r = CellRunner()
        XCTAssertNil(r.run("help").error)
        let bundle = r.displays.first
        let text = bundle?["text/plain"]?.stringValue ?? ""
        for name in CommandTable.standard.names { XCTAssertTrue(text.contains(name), name) }
        XCTAssertTrue(bundle?["text/html"]?.stringValue?.contains("<table") ?? false)
        XCTAssertNil(r.run("help sleep").error)
        let detail = r.displays.first?["text/plain"]?.stringValue ?? ""
        XCTAssertTrue(detail.contains("SECONDS"))
        XCTAssertTrue(detail.contains("--progress"))
        XCTAssertTrue(detail.contains("Examples:"))
    }

    func testClearAndVars() {
        let r = CellRunner()
        r.run("clear")
        XCTAssertEqual(r.outputs, [.clearOutput(wait: false)])
        r.run("zeta = [1, 2]\nalpha = 'x'\nvars")
        let text = r.displays.first?["text/plain"]?.stringValue ?? ""
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[2].hasPrefix("alpha"))
        XCTAssertTrue(lines[3].hasPrefix("zeta   list  [1, 2]"), lines[3])
        XCTAssertNil(r.run("del alpha").error)
        XCTAssertNil(r.interpreter.session.variables["alpha"])
        XCTAssertEqual(r.run("del alpha").error?.name, "NameError")
    }

    func testSleepHonorsInterruptQuickly() {
        let runner = CellRunner()
        let flag = CancellationFlag()
        let context = ExecutionContext(executionCount: 1, cancellation: flag) { _ in }
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.1) { flag.cancel() }
        let start = Date()
        let outcome = runner.interpreter.execute(ExecuteRequest(code: "sleep 10"), context: context)
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(outcome.error?.name, "KeyboardInterrupt")
        XCTAssertLessThan(elapsed, 2.0)
    }

    func testProgressUsesUpdateDisplay() {
        let r = CellRunner()
        XCTAssertNil(r.run("sleep 0.2 --progress").error)
        guard case .display(let first, _, let id?)? = r.outputs.first else { return XCTFail("no progress display") }
        XCTAssertNotNil(first["text/html"])
        let updates = r.outputs.filter { if case .updateDisplay(_, _, let u) = $0 { return u == id } else { return false } }
        XCTAssertFalse(updates.isEmpty)
        if case .updateDisplay(let last, _, _)? = updates.last {
            XCTAssertTrue(last["text/plain"]?.stringValue?.contains("(100%)") ?? false)
        }
    }

    func testDisplayRichValues() {
        let r = CellRunner()
        XCTAssertNil(r.run("svg = \"<svg xmlns='http://www.w3.org/2000/svg'/>\"\ndisplay $svg mime=image/svg+xml").error)
        XCTAssertEqual(r.displays.first?["image/svg+xml"], .string("<svg xmlns='http://www.w3.org/2000/svg'/>"))
        XCTAssertNotNil(r.displays.first?["text/plain"])
        XCTAssertNil(r.run("display {'a': 1} mime=application/json").error)
        XCTAssertEqual(r.displays.first?["application/json"], .object(["a": .int(1)]))
        XCTAssertEqual(r.run("display [1] mime=application/json").error?.name, "TypeError")
    }

    func testPrintListCarriesJSON() {
        let r = CellRunner()
        r.run("print {'a': [1, 2]}")
        guard case .executeResult(let data, _)? = r.outputs.first else { return XCTFail() }
        XCTAssertEqual(data[OutputBundle.dataMIME], .object(["a": .array([.int(1), .int(2)])]))
    }
}
