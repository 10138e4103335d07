// Journal benchmark: the cost of a durable append (encode + write + fsync) as p50/p99, the
// cost a journaled cell adds over an unjournaled one, and the time `restore` takes to bring
// back a 1,000-step session (loads, edits, undo/redo, variables) in a new interpreter.
//
//   journal-bench [--dir FOLDER] [--model FILE] [--steps N] [--appends N]
//
// FOLDER must be on a real disk (fsync on tmpfs costs nothing); the default is
// .build/journal-bench under the current folder.

import Foundation
import GraphEditing
import JupyterKernel
import Notebook

struct Options {
    var dir = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/journal-bench")
    var model = "notebooks/models/tiny_bert.onnx"
    var steps = 1000
    var appends = 2000

    init(_ args: [String]) {
        var i = 0
        while i + 1 < args.count {
            switch args[i] {
            case "--dir": dir = URL(fileURLWithPath: args[i + 1])
            case "--model": model = args[i + 1]
            case "--steps": steps = Int(args[i + 1]) ?? steps
            case "--appends": appends = Int(args[i + 1]) ?? appends
            default: break
            }
            i += 2
        }
    }
}

func percentile(_ xs: [Double], _ p: Double) -> Double {
    let s = xs.sorted()
    return s[min(s.count - 1, Int(Double(s.count - 1) * p + 0.5))]
}

func ms(_ seconds: Double) -> String { String(format: "%.3f ms", seconds * 1000) }

func time(_ body: () throws -> Void) rethrows -> Double {
    let t = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9
}

/// Runs one cell and fails loudly if it errs.
func run(_ interpreter: CellInterpreter, _ code: String) -> Double {
    var failed: String?
    let seconds = time {
        let outcome = interpreter.execute(ExecuteRequest(code: code), context: ExecutionContext(executionCount: 1) { _ in })
        if case .error(let e) = outcome { failed = "\(e.name): \(e.value)" }
    }
    if let failed { FileHandle.standardError.write(Data("cell `\(code)` failed: \(failed)\n".utf8)); exit(1) }
    return seconds
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
try? FileManager.default.removeItem(at: options.dir)
try FileManager.default.createDirectory(at: options.dir, withIntermediateDirectories: true)
let store = JournalStore(root: options.dir.appendingPathComponent("state"))

// 1. Raw appends: one step record each, fsynced.
let rawURL = options.dir.appendingPathComponent("raw.gsj")
let writer = try JournalWriter(creating: rawURL, header: JournalHeader(id: "raw", notebook: "/bench.ipynb", workingDirectory: "/",
                                                                     kernelID: nil, started: Date(), producer: "journal-bench"))
var appendTimes: [Double] = []
for k in 0..<options.appends {
    let record = JournalRecord.step("set n\(k) alpha=0.5", graph: "bert", time: Date())
    appendTimes.append(try time { try writer.append(record) })
}
writer.close()
print("append+fsync (\(options.appends) records): p50 \(ms(percentile(appendTimes, 0.5))), p99 \(ms(percentile(appendTimes, 0.99))), "
    + "max \(ms(appendTimes.max() ?? 0))")

// 2. A session of N steps in a journaled interpreter, left unclosed as a kill leaves it.
let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
let settings = SessionJournal.Settings(store: store, notebook: "/bench/journal.ipynb", workingDirectory: cwd.path, kernelID: nil)
var cellJournaled: [Double] = []
do {
    let first = CellInterpreter(workingDirectory: cwd, journal: SessionJournal(settings, started: Date()))
    let loads = max(1, options.steps / 100)
    // Per ten steps: edits (annotate, rename), undo and redo, an assignment, a switch of graph.
    for k in 0..<options.steps {
        let node = "n\((k * 7) % 60)"
        let code: String
        if k % 100 == 0 && k / 100 < loads {
            code = "load \(options.model) as g\(k / 100)"
        } else {
            switch k % 10 {
            case 0, 2, 8: code = "annotate \(node) note=\"step \(k)\""
            case 1, 5: code = "rename \(node) r\(k)"
            case 3: code = "undo"
            case 4: code = "redo"
            case 7: code = "use g\((k / 10) % min(loads, k / 100 + 1))"
            default: code = "v\(k % 37) = [\(k), \"step \(k)\", \(Double(k) / 8)]"
            }
        }
        let s = run(first, code)
        if code.hasPrefix("v") { cellJournaled.append(s) }
    }
}
let plain = CellInterpreter(workingDirectory: cwd)
let cellPlain = (0..<500).map { k in run(plain, "v\(k % 37) = [\(k), \"step \(k)\", \(Double(k) / 8)]") }
print("assignment cell: journaled p50 \(ms(percentile(cellJournaled, 0.5))) (p99 \(ms(percentile(cellJournaled, 0.99)))), "
    + "without journal p50 \(ms(percentile(cellPlain, 0.5)))")

// 3. Restore in a new interpreter of the same notebook.
var restoreTimes: [Double] = []
for _ in 0..<5 {
    let second = CellInterpreter(workingDirectory: cwd, journal: SessionJournal(settings, started: Date()))
    guard let listing = store.list(key: second.journal!.place.key).last(where: { $0.isOpen && $0.steps == options.steps }) else {
        FileHandle.standardError.write(Data("no open journal of \(options.steps) steps\n".utf8)); exit(1)
    }
    restoreTimes.append(run(second, "restore \(listing.id)"))
    // Reopen the journal for the next round (restore closed it as restored).
    let contents = try JournalReader.read(listing.url)
    let w = try JournalWriter(appendingTo: listing.url, validLength: contents.validLength - closeFrameSize(contents))
    w.close()
    try? FileManager.default.removeItem(at: second.journal!.url)
}
print("restore of a \(options.steps)-step session (\(max(1, options.steps / 100)) loads from snapshots, "
    + "\(options.steps * 6 / 10) edits/undo/redo): "
    + "median \(ms(percentile(restoreTimes, 0.5))), min \(ms(restoreTimes.min() ?? 0))")

/// The size of the trailing close frame, to cut it off again.
func closeFrameSize(_ contents: JournalContents) -> Int {
    guard let last = contents.records.last, last.kind == .closed, let frame = try? JournalFraming.frame([last]) else { return 0 }
    return frame.count
}
