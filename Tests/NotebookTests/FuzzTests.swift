import XCTest
import JupyterKernel
@testable import Notebook

/// Random cells built from the language's own pieces: the interpreter must answer every one
/// (a result or a clear error) and never trap, and completion/inspection must accept any cursor.
final class FuzzTests: XCTestCase {
    struct SplitMix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E3779B97F4A7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return z ^ (z >> 31)
        }
        mutating func pick<T>(_ xs: [T]) -> T { xs[Int(next() % UInt64(xs.count))] }
    }

    static let pieces: [String] = [
        "print", "echo", "x", "=", " ", " ", " ", "1", "0", "-1", "9223372036854775807", "2.5e308", "1e-400", "+", "-", "*", "/",
        "//", "%", "**", "(", ")", "[", "]", "{", "}", ",", ":", "\"", "'", "\\", "\n", "#", "$", "${", "$x", "x=", "--", "--stderr",
        "range(", "len(", "max(", "int(", "round(", "str(", "True", "None", "é", "🙂", "\u{301}", "\t", "help", "vars", "del", "clear",
        "display", "mime=", "text/html", "sleep", "0.001", "load", "summary", "tree", "info", "find", "show", "estimate", "hw=",
        "batch=", "seq=", "sweep", "llm", "gpt2", "hardware", "as", "/encoder", "op=", "depth=", "-5", "[1, 2]", "${x * 2}",
        "n12", "/encoder/layer.0", "all", "overlay=", "latency", "boxes=", "1..8*2", "dtype=", "fp16", "metric=", "memory",
        "export", "/tmp/gs-fuzz.onnx", "format=", "dot", "layers=", "hidden=", "heads=", "vocab=", "--training",
    ]

    func testRandomCellsNeverTrap() {
        let runner = CellRunner(directory: GraphCommandTests.repo.appendingPathComponent("notebooks"))
        // With a graph loaded, graph commands get past "load one first" and into their arguments.
        _ = runner.run("load models/tiny_bert.onnx")
        var rng = SplitMix(state: 20261121)
        var errors = 0
        for _ in 0..<10_000 {
            var code = ""
            for _ in 0..<(1 + Int(rng.next() % 12)) { code += rng.pick(Self.pieces) }
            if runner.run(code).error != nil { errors += 1 }
            let i = runner.interpreter
            let length = code.unicodeScalars.count
            for cursor in [0, length / 2, length, length + 3, -1] {
                _ = i.complete(code: code, cursorPosition: cursor)
                _ = i.inspect(code: code, cursorPosition: cursor, detailLevel: 0)
            }
            _ = i.isComplete(code: code)
        }
        // Most random cells are wrong, and each got an error rather than a crash; some ran.
        XCTAssertGreaterThan(errors, 2000)
        XCTAssertLessThan(errors, 10_000)
    }
}
