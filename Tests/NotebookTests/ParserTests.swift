import XCTest
import JupyterKernel
@testable import Notebook

final class ParserTests: XCTestCase {
    func testLogicalLinesJoinContinuationsAndDropComments() {
        let source = CellSource("echo a \\\n  b # comment\n\n# only a comment\nprint [1,\n 2]\n")
        XCTAssertEqual(source.lines.map(\.text), ["echo a    b", "print [1,  2]"])
        XCTAssertFalse(source.endsIncomplete)
        // The second line's '2' came from physical line 6.
        let second = source.lines[1]
        let two = second.scalars.firstIndex(of: "2") ?? -1
        XCTAssertEqual(second.location(at: two), SourceLocation(line: 6, column: 2))
    }

    func testHashInsideQuotesIsNotAComment() {
        let r = CellRunner()
        XCTAssertNil(r.run("echo \"a # b\"").error)
        XCTAssertEqual(r.stdout, "a # b\n")
    }

    func testExpressionsFollowPythonArithmetic() throws {
        let r = CellRunner()
        let cases: [(String, String)] = [
            ("1 + 2 * 3", "7"), ("(1 + 2) * 3", "9"), ("7 // 2", "3"), ("-7 // 2", "-4"), ("-7 % 3", "2"),
            ("7 / 2", "3.5"), ("2 ** 10", "1024"), ("2 ** -1", "0.5"), ("-2 ** 2", "-4"), ("'a' + \"b\"", "ab"),
            ("[1, 2] + [3]", "[1, 2, 3]"), ("range(0, 10, 3)", "[0, 3, 6, 9]"), ("len(range(5))", "5"),
            ("max([3, 9, 2])", "9"), ("{'a': 1, \"b\": [True, None]}", "{\"a\": 1, \"b\": [True, None]}"),
            ("[10, 20, 30][-1]", "30"), ("1_000 * 2", "2000"), ("1e3", "1000.0"), ("round(2.567, 2)", "2.57"),
            ("str(3) + 'x'", "3x"), ("int('42') + 1", "43"),
        ]
        for (expr, expected) in cases {
            XCTAssertNil(r.run("print \(expr)").error, expr)
            XCTAssertEqual(r.results, [expected], expr)
        }
    }

    func testVariablesAssignmentAndInterpolation() {
        let r = CellRunner()
        XCTAssertNil(r.run("batch = 8\nseq = batch * 64\nname = \"bert\"\necho $name uses ${batch * 2} and $seq").error)
        XCTAssertEqual(r.stdout, "bert uses 16 and 512\n")
        XCTAssertEqual(r.interpreter.session.variables["seq"], .int(512))
        // Single quotes are literal; escaped dollars too.
        r.run("echo '$name' \\$name \"${name}!\"")
        XCTAssertEqual(r.stdout, "$name $name bert!\n")
    }

    func testPapermillPythonLiteralsParse() {
        let r = CellRunner()
        let injected = """
        # Parameters
        model = "models/tiny.onnx"
        batch = 8
        lr = 0.001
        use_fp16 = True
        tags = ["a", "b"]
        cfg = {"depth": 2, "name": None}
        """
        XCTAssertNil(r.run(injected).error)
        let v = r.interpreter.session.variables
        XCTAssertEqual(v["model"], .string("models/tiny.onnx"))
        XCTAssertEqual(v["batch"], .int(8))
        XCTAssertEqual(v["lr"], .float(0.001))
        XCTAssertEqual(v["use_fp16"], .bool(true))
        XCTAssertEqual(v["tags"], .list([.string("a"), .string("b")]))
        XCTAssertEqual(v["cfg"], .dict([.init(key: "depth", value: .int(2)), .init(key: "name", value: .none)]))
    }

    func testErrorsCarryKindAndPosition() {
        let r = CellRunner()
        let cases: [(String, String, SourceLocation)] = [
            ("echo ok\nprint 1 +", "SyntaxError", SourceLocation(line: 2, column: 10)),
            ("print )", "SyntaxError", SourceLocation(line: 1, column: 7)),
            ("nosuch 1 2", "CommandError", SourceLocation(line: 1, column: 1)),
            ("echo ok\n  print undefined_var", "NameError", SourceLocation(line: 2, column: 9)),
            ("print 1 / 0", "ZeroDivisionError", SourceLocation(line: 1, column: 9)),
            ("print 'abc", "SyntaxError", SourceLocation(line: 1, column: 7)),
            ("sleep soon", "TypeError", SourceLocation(line: 1, column: 7)),
            ("echo --loud x", "CommandError", SourceLocation(line: 1, column: 6)),
            ("help nosuch", "CommandError", SourceLocation(line: 1, column: 6)),
            ("print [1, 2", "SyntaxError", SourceLocation(line: 1, column: 7)),
            ("x = 1 +* 2", "SyntaxError", SourceLocation(line: 1, column: 8)),
        ]
        for (code, ename, location) in cases {
            guard let e = r.run(code).error else { XCTFail("no error for \(code)"); continue }
            XCTAssertEqual(e.name, ename, code)
            XCTAssertTrue(e.value.hasSuffix("(\(location))"), "\(code): \(e.value)")
            // The traceback shows the line and a caret under the column.
            let caretLine = e.traceback.first { $0.trimmingCharacters(in: .whitespaces) == "^" }
            XCTAssertEqual(caretLine?.count, 4 + location.column, code)
        }
    }

    func testHugeResultsAreErrorsNotCrashes() {
        let r = CellRunner()
        XCTAssertEqual(r.run("print 'a' * 1000000000000").error?.name, "ValueError")
        XCTAssertEqual(r.run("print [1] * 100000000000").error?.name, "ValueError")
        XCTAssertEqual(r.run("print 2 ** 1000").error?.name, "ValueError")
        XCTAssertEqual(r.run("print range(100000000000)").error?.name, "ValueError")
        XCTAssertEqual(r.run("print 9223372036854775807 + 1").error?.name, "ValueError")
        XCTAssertEqual(r.run("print 99999999999999999999999").error?.name, "ValueError")
        XCTAssertEqual(r.run("print -9223372036854775807 - 2").error?.name, "ValueError")
        XCTAssertNil(r.run("m = -9223372036854775807 - 1").error)
        for expr in ["-m", "abs(m)", "m // -1"] { XCTAssertEqual(r.run("print \(expr)").error?.name, "ValueError", expr) }
        XCTAssertNil(r.run("print m % -1").error)
        XCTAssertNil(r.run("print 'ab' * 3").error)
        XCTAssertEqual(r.results, ["ababab"])
    }

    func testSyntaxErrorAnywhereRunsNothing() {
        let r = CellRunner()
        XCTAssertNotNil(r.run("echo first\nprint (").error)
        XCTAssertEqual(r.stdout, "")
    }

    func testStopOnErrorSkipsLaterCommandsAndKeepsState() {
        let r = CellRunner()
        r.run("a = 1")
        XCTAssertEqual(r.run("a = 2\nnosuch\na = 3\necho after").error?.name, "CommandError")
        XCTAssertEqual(r.interpreter.session.variables["a"], .int(2))
        XCTAssertEqual(r.stdout, "")
        // Without stop-on-error the later commands run, and the reply still reports the error.
        XCTAssertEqual(r.run("nosuch\necho after", stopOnError: false).error?.name, "CommandError")
        XCTAssertEqual(r.stdout, "after\n")
    }

    func testIsComplete() {
        let i = CellInterpreter()
        XCTAssertEqual(i.isComplete(code: "echo \"abc"), .incomplete(indent: ""))
        XCTAssertEqual(i.isComplete(code: "echo a \\"), .incomplete(indent: ""))
        XCTAssertEqual(i.isComplete(code: "print (1 +"), .incomplete(indent: ""))
        XCTAssertEqual(i.isComplete(code: "x = {\"a\": [1,"), .incomplete(indent: ""))
        XCTAssertEqual(i.isComplete(code: "print )"), .invalid)
        XCTAssertEqual(i.isComplete(code: "print 1 +* 2"), .invalid)
        XCTAssertEqual(i.isComplete(code: "echo hello"), .complete)
        XCTAssertEqual(i.isComplete(code: "nosuch command"), .complete)
        XCTAssertEqual(i.isComplete(code: ""), .complete)
    }

    func testOptionTypesAndScaledIntegers() throws {
        let spec = CommandSpec(name: "t", family: "x", summary: "", usage: "t",
                               options: [Parameter("n", .int, ""), Parameter("mode", .choice(["a", "b"]), ""),
                                         Parameter("sizes", .list(.int), "")]) { _, _, _ in }
        func resolve(_ code: String) throws -> Invocation {
            let line = CellSource(code).lines[0]
            guard case .command(_, let loc, let words, _, let end) = try LineParser.parse(line, styleOf: { _ in .words }) else {
                throw CellError(.syntax, "not a command")
            }
            return try Invocation.resolve(spec: spec, location: loc, words: words, expression: nil, end: end,
                                          variables: ["b": .int(3)])
        }
        let inv = try resolve("t n=4k mode=B sizes=[1, 2, $b]")
        XCTAssertEqual(inv.int("n"), 4000)
        XCTAssertEqual(inv.string("mode"), "b")
        XCTAssertEqual(inv.list("sizes"), [.int(1), .int(2), .int(3)])
        XCTAssertEqual(try resolve("t sizes=1,2").list("sizes"), [.int(1), .int(2)])
        XCTAssertThrowsError(try resolve("t mode=c")) { XCTAssertEqual(($0 as? CellError)?.kind, .value) }
        XCTAssertThrowsError(try resolve("t m=1")) { XCTAssertEqual(($0 as? CellError)?.message, "t has no option 'm'; did you mean 'n'?") }
    }
}
