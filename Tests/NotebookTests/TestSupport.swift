import XCTest
import Foundation
import JupyterKernel
@testable import Notebook

/// Runs cells through a real `CellInterpreter` and collects what they publish.
final class CellRunner {
    let interpreter: CellInterpreter
    private(set) var outputs: [KernelOutput] = []

    init(directory: URL = URL(fileURLWithPath: NSTemporaryDirectory())) {
        interpreter = CellInterpreter(workingDirectory: directory)
    }

    /// A runner around a configured interpreter (a journal, a clock).
    init(interpreter: CellInterpreter) {
        self.interpreter = interpreter
    }

    @discardableResult
    func run(_ code: String, stopOnError: Bool = true) -> ExecuteOutcome {
        outputs = []
        let context = ExecutionContext(executionCount: 1) { [weak self] output in self?.outputs.append(output) }
        return interpreter.execute(ExecuteRequest(code: code, stopOnError: stopOnError), context: context)
    }

    var stdout: String {
        outputs.compactMap { if case .stream(.stdout, let t) = $0 { return t } else { return nil } }.joined()
    }

    var stderr: String {
        outputs.compactMap { if case .stream(.stderr, let t) = $0 { return t } else { return nil } }.joined()
    }

    /// text/plain of every execute_result.
    var results: [String] {
        outputs.compactMap { if case .executeResult(let d, _) = $0 { return d["text/plain"]?.stringValue } else { return nil } }
    }

    /// Every display_data bundle.
    var displays: [MimeBundle] {
        outputs.compactMap { if case .display(let d, _, _) = $0 { return d } else { return nil } }
    }
}

extension CellRunner {
    /// The repository root (three folders up from this file).
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A runner in `notebooks/` with the tour model loaded as `bert`; skips when the model is missing.
    static func withTourModel() throws -> CellRunner {
        let model = repo.appendingPathComponent("notebooks/models/tiny_bert.onnx")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: model.path), "tour model missing")
        let runner = CellRunner(directory: repo.appendingPathComponent("notebooks"))
        XCTAssertNil(runner.run("load models/tiny_bert.onnx as bert").error)
        return runner
    }
}

extension ExecuteOutcome {
    var error: KernelError? { if case .error(let e) = self { return e } else { return nil } }
}
