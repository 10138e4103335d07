// cell-bench: in-process cost of the cell language. Parses and dispatches trivial commands
// through the real CellInterpreter (outputs go to a sink that drops them) and times
// completion and inspection on a loaded model. Run: swift run -c release cell-bench [MODEL]
import Foundation
import JupyterKernel
import Notebook

func measure(_ label: String, iterations: Int, _ body: () -> Void) {
    for _ in 0..<min(1000, iterations / 10) { body() }
    var samples: [Double] = []
    samples.reserveCapacity(iterations)
    for _ in 0..<iterations {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1000)
    }
    samples.sort()
    let p = { (q: Double) in samples[min(samples.count - 1, Int(Double(samples.count) * q))] }
    print(label.padding(toLength: 40, withPad: " ", startingAt: 0) + String(format: " p50 %8.2f µs   p99 %8.2f µs   (n=%d)", p(0.5), p(0.99), iterations))
}

let args = CommandLine.arguments.dropFirst()
let model = args.first ?? "notebooks/models/tiny_bert.onnx"
let interpreter = CellInterpreter()
let context = ExecutionContext(executionCount: 1) { _ in }
func run(_ code: String) -> ExecuteOutcome { interpreter.execute(ExecuteRequest(code: code), context: context) }

print("Cell language, in process (target: trivial command parse + dispatch < 20 µs)")
measure("x = 1 (assignment)", iterations: 100_000) { _ = run("x = 1") }
measure("echo hello, world", iterations: 100_000) { _ = run("echo hello, world") }
measure("print 1 + 2 * x", iterations: 100_000) { _ = run("print 1 + 2 * x") }
measure("echo with interpolation ${x * 8}", iterations: 100_000) { _ = run("echo batch=$x total=${x * 8}") }
if case .error(let e) = run("load \(model) as m") {
    print("(no model: \(e.value); completion on a loaded graph skipped)")
} else {
    measure("summary (\(model.split(separator: "/").last ?? ""))", iterations: 2_000) { _ = run("summary") }
    measure("complete `tree /enc`", iterations: 20_000) { _ = interpreter.complete(code: "tree /enc", cursorPosition: 9) }
    measure("complete `find op=So`", iterations: 20_000) { _ = interpreter.complete(code: "find op=So", cursorPosition: 10) }
    measure("complete `info /encoder/layer.0/att`", iterations: 20_000) {
        _ = interpreter.complete(code: "info /encoder/layer.0/att", cursorPosition: 25)
    }
    measure("inspect `load`", iterations: 20_000) { _ = interpreter.inspect(code: "load", cursorPosition: 2, detailLevel: 0) }
}
