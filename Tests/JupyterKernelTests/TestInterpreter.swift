// A tiny language used to test the kernel core without the real cell language:
//   echo TEXT | err TEXT | fail | result TEXT | show | update ID | clear | sleep SECONDS | ask PROMPT
import Foundation
import JupyterKernel

final class TestInterpreter: KernelInterpreter {
    var shutdownCalls: [Bool] = []
    let commands = ["echo", "err", "fail", "result", "show", "update", "clear", "sleep", "ask"]

    var kernelInfo: KernelInfo {
        KernelInfo(implementation: "test", implementationVersion: "0.1", languageName: "testlang",
                   languageVersion: "1.0", mimetype: "text/x-test", fileExtension: ".tst",
                   banner: "test kernel", helpLinks: [(text: "Docs", url: "https://example.org")])
    }

    func execute(_ request: ExecuteRequest, context: ExecutionContext) -> ExecuteOutcome {
        let code = request.code.trimmingCharacters(in: .whitespacesAndNewlines)
        let (command, argument): (String, String) = {
            guard let space = code.firstIndex(of: " ") else { return (code, "") }
            return (String(code[..<space]), String(code[code.index(after: space)...]))
        }()
        switch command {
        case "", "pass": return .ok()
        case "echo": context.stream(.stdout, argument + "\n")
        case "err": context.stream(.stderr, argument + "\n")
        case "fail": return .error(KernelError(name: "TestError", value: "failed on purpose"))
        case "result": context.executeResult(["text/plain": .string(argument)])
        case "show": context.display(["image/svg+xml": .string(argument), "text/plain": "<svg>"], displayID: "d1")
        case "update": context.updateDisplay(["text/plain": .string("updated")], displayID: argument)
        case "clear": context.clearOutput(wait: false)
        case "page":
            return .ok(payload: [.object(["source": "page", "data": .object(["text/plain": .string(argument)]), "start": 0])])
        case "ask":
            guard let answer = context.readInput(prompt: argument) else {
                return .error(KernelError(name: "StdinNotImplementedError", value: "no stdin"))
            }
            context.stream(.stdout, "got \(answer)\n")
        case "sleep":
            let deadline = Date().addingTimeInterval(Double(argument) ?? 1)
            while Date() < deadline {
                if context.isCancelled { return .error(KernelError(name: "KeyboardInterrupt", value: "interrupted")) }
                usleep(2_000)
            }
        default:
            return .error(KernelError(name: "CommandError", value: "unknown command '\(command)'"))
        }
        return .ok()
    }

    func complete(code: String, cursorPosition: Int) -> CompletionResult {
        let prefix = String(String.UnicodeScalarView(code.unicodeScalars.prefix(cursorPosition)))
        return CompletionResult(matches: commands.filter { $0.hasPrefix(prefix) }, cursorStart: 0, cursorEnd: cursorPosition)
    }

    func inspect(code: String, cursorPosition: Int, detailLevel: Int) -> InspectionResult {
        commands.contains(code) ? InspectionResult(found: true, data: ["text/plain": .string("help for \(code)")]) : .notFound
    }

    func isComplete(code: String) -> Completeness {
        code.hasSuffix("\\") ? .incomplete(indent: "  ") : (code.hasPrefix(")") ? .invalid : .complete)
    }

    func shutdown(restart: Bool) { shutdownCalls.append(restart) }
}
