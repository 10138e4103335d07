import XCTest
import JupyterKernel
@testable import Notebook

/// Deep and long cells: each gets an answer (a result or a clear error), never a stack
/// overflow. Here (a debug build) nesting goes to 1,000,000 levels and cells to 1 MB; the
/// kernel end-to-end fuzz (Tests/e2e/test_hostile_cells.py) sends 10 MB cells through ZeroMQ.
final class HostileInputTests: XCTestCase {
    static func repeated(_ s: String, _ n: Int) -> String { String(repeating: s, count: n) }

    /// Cells that must be refused as too deeply nested.
    static var deepCells: [String] {
        var cells: [String] = []
        for n in [1_000, 100_000] {
            cells.append("x = " + repeated("[", n) + repeated("]", n))
            cells.append("x = " + repeated("(", n) + "1" + repeated(")", n))
            cells.append("x = " + repeated("-", n) + "1")
            cells.append("x = 2" + repeated("**2", n))
            cells.append("print " + repeated("{1: ", n) + "1" + repeated("}", n))
            cells.append("x = [0]" + repeated("[0]", n))
        }
        cells.append("x = " + repeated("[", 1_000_000) + repeated("]", 1_000_000))
        cells.append("x = 1" + repeated("+1", 500_000))                  // 1 MB, a chain of additions
        cells.append("x = len(" + repeated("max(", 100_000) + "1" + repeated(")", 100_001))
        return cells
    }

    func testDeepExpressionsAreSyntaxErrors() {
        let runner = CellRunner()
        for cell in Self.deepCells {
            let error = runner.run(cell).error
            XCTAssertEqual(error?.name, "SyntaxError", String(cell.prefix(40)))
            XCTAssertTrue(error?.value.contains("nested too deeply") ?? false, String(cell.prefix(40)))
            // The session is unchanged.
            XCTAssertNil(runner.interpreter.session.variables["x"])
        }
    }

    func testNestingWithinTheLimitStillWorks() {
        let runner = CellRunner()
        XCTAssertNil(runner.run("x = " + Self.repeated("[", 200) + "1" + Self.repeated("]", 200)).error)
        XCTAssertNil(runner.run("y = 1" + Self.repeated("+1", 400)).error)
        XCTAssertEqual(runner.interpreter.session.variables["y"], .int(401))
    }

    /// Values built up over many lines are bounded too.
    func testValuesBuiltLineByLineAreBounded() {
        let runner = CellRunner()
        let cell = "x = 1\n" + Self.repeated("x = [$x]\n", 100_000)
        let error = runner.run(cell).error
        XCTAssertEqual(error?.name, "ValueError")
        XCTAssertTrue(error?.value.contains("nested too deeply") ?? false)
        XCTAssertNil(runner.run("vars").error)
    }

    /// Long cells that are not deep: answered, in bounded time, without a crash.
    func testLongCellsAreAnswered() {
        let runner = CellRunner()
        let mb = 1 << 20
        let cells = [
            "echo " + Self.repeated("a", mb),
            "x = '" + Self.repeated("a", mb) + "'",
            Self.repeated("#", mb),
            "echo " + Self.repeated("${", 1_000_000),
            "find " + Self.repeated("[", 1_000_000),
            Self.repeated("x = 1\n", mb / 6),
            Self.repeated("\\\n", 1_000_000) + "echo hi",
            "x = \"" + Self.repeated("\\", 1_000_001),
        ]
        for cell in cells {
            _ = runner.run(cell)
            _ = runner.interpreter.isComplete(code: cell)
            let n = cell.unicodeScalars.count
            _ = runner.interpreter.complete(code: cell, cursorPosition: n)
            _ = runner.interpreter.inspect(code: cell, cursorPosition: n / 2, detailLevel: 0)
        }
        XCTAssertEqual(runner.interpreter.session.variables["x"], .int(1))
    }
}
