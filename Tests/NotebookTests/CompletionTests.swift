import XCTest
import JupyterKernel
@testable import Notebook

final class CompletionTests: XCTestCase {
    func testCommandNames() {
        let i = CellInterpreter()
        let r = i.complete(code: "ec", cursorPosition: 2)
        XCTAssertEqual(r.matches, ["echo"])
        XCTAssertEqual(r.cursorStart, 0)
        XCTAssertEqual(r.cursorEnd, 2)
    }

    func testFlagsOptionsAndVariables() {
        let runner = CellRunner()
        runner.run("batch = 1\nbig = 2")
        let i = runner.interpreter
        XCTAssertEqual(i.complete(code: "echo --st", cursorPosition: 9).matches, ["--stderr"])
        let v = i.complete(code: "echo $b", cursorPosition: 7)
        XCTAssertEqual(Set(v.matches), ["batch", "big"])
        XCTAssertEqual(v.cursorStart, 6)
        XCTAssertEqual(i.complete(code: "echo ${ba", cursorPosition: 9).matches, ["batch"])
        XCTAssertEqual(i.complete(code: "print ba", cursorPosition: 8).matches, ["batch"])
        XCTAssertEqual(i.complete(code: "help ", cursorPosition: 5).matches, [])
    }

    func testCursorCountsUnicodeScalars() {
        let i = CellInterpreter()
        // "é" written as e + combining acute is 2 scalars but 1 Character; the emoji is 1 scalar, 2 UTF-16 units.
        let code = "echo e\u{301}🙂\nec"
        let cursor = code.unicodeScalars.count
        let r = i.complete(code: code, cursorPosition: cursor)
        XCTAssertEqual(r.matches, ["echo"])
        XCTAssertEqual(r.cursorStart, cursor - 2)
        XCTAssertEqual(r.cursorEnd, cursor)
    }

    func testPathCompletion() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gs-complete-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("models"), withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.createFile(atPath: dir.appendingPathComponent("models/tiny.onnx").path, contents: Data()))
        XCTAssertTrue(FileManager.default.createFile(atPath: dir.appendingPathComponent("models/tall.onnx").path, contents: Data()))
        defer { try? FileManager.default.removeItem(at: dir) }
        var session = Session(workingDirectory: dir)
        session.variables = [:]
        let completer = Completer(table: .standard, session: session)
        let (top, skip0) = completer.pathCompletions("mo")
        XCTAssertEqual(top, ["models/"])
        XCTAssertEqual(skip0, 0)
        let (inner, skip) = completer.pathCompletions("models/t")
        XCTAssertEqual(inner, ["tall.onnx", "tiny.onnx"])
        XCTAssertEqual(skip, 7)
    }

    func testInspect() {
        let runner = CellRunner()
        runner.run("batch = 8")
        let i = runner.interpreter
        let help = i.inspect(code: "echo", cursorPosition: 4, detailLevel: 0)
        XCTAssertTrue(help.found)
        XCTAssertTrue(help.data["text/plain"]?.stringValue?.contains("echo [--stderr] TEXT...") ?? false)
        XCTAssertNotNil(help.data["text/html"])
        let variable = i.inspect(code: "echo $batch", cursorPosition: 11, detailLevel: 0)
        XCTAssertEqual(variable.data["text/plain"]?.stringValue, "batch: int = 8")
        XCTAssertFalse(i.inspect(code: "zzz", cursorPosition: 3, detailLevel: 0).found)
    }

    func testQuestionMarkShowsHelpInThePager() throws {
        XCTAssertEqual(CellInterpreter.pagerSubject("load?"), "load")
        XCTAssertEqual(CellInterpreter.pagerSubject("  ?summary \n"), "summary")
        XCTAssertEqual(CellInterpreter.pagerSubject("$batch?"), "$batch")
        XCTAssertNil(CellInterpreter.pagerSubject("print 1 ? 2"))
        XCTAssertNil(CellInterpreter.pagerSubject("?"))
        XCTAssertNil(CellInterpreter.pagerSubject("load??"))
        XCTAssertNil(CellInterpreter.pagerSubject("load"))
        XCTAssertEqual(CellInterpreter().isComplete(code: "load?"), .complete)

        let runner = CellRunner()
        runner.run("batch = 8")
        guard case .ok(let payload) = runner.run("load?") else { return XCTFail("load? failed") }
        XCTAssertTrue(runner.outputs.isEmpty, "the help goes to the pager, not to the cell's output")
        guard case .object(let page)? = payload.first, case .object(let data)? = page["data"] else {
            return XCTFail("no page payload: \(payload)")
        }
        XCTAssertEqual(page["source"], .string("page"))
        XCTAssertTrue(data["text/plain"]?.stringValue?.contains("load PATH [as NAME]") ?? false)
        guard case .ok(let variable) = runner.run("?batch") else { return XCTFail("?batch failed") }
        XCTAssertTrue("\(variable)".contains("batch: int = 8"))
        guard case .error(let error) = runner.run("nosuchthing?") else { return XCTFail("expected an error") }
        XCTAssertEqual(error.name, "NameError")
        // The session is untouched by either.
        XCTAssertEqual(runner.interpreter.session.variables["batch"], .int(8))
    }
}
