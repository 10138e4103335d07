// The session journal through the interpreter: which commands are recorded (only successful
// state-changing ones, with the injected clock's time and a snapshot for loads), the notice a
// new kernel gives, `restore` bringing back exactly the recorded state (from snapshots, even
// when the model file changed), refusals that leave the session unchanged, and `journal`.

import Foundation
import GraphEditing
import GraphFormats
import JupyterKernel
import XCTest
@testable import Notebook

final class JournalSessionTests: XCTestCase {
    private var dir: URL!
    private var store: JournalStore!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("journal-session-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        store = JournalStore(root: dir.appendingPathComponent("state"))
        let model = CellRunner.repo.appendingPathComponent("Tests/GraphFormatsTests/Fixtures/transformer_like.onnx")
        try FileManager.default.copyItem(at: model, to: dir.appendingPathComponent("m.onnx"))
        let other = CellRunner.repo.appendingPathComponent("Tests/GraphFormatsTests/Fixtures/control_flow.onnx")
        try FileManager.default.copyItem(at: other, to: dir.appendingPathComponent("cf.onnx"))
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    /// A kernel of the notebook `nb.ipynb` whose clock ticks one second per command from `start`.
    private func kernel(start: Double = 1_796_000_000) -> CellRunner {
        var tick = start
        let settings = SessionJournal.Settings(store: store, notebook: dir.appendingPathComponent("nb.ipynb").path,
                                               workingDirectory: dir.path, kernelID: "0a1b2c3d-0000")
        let interpreter = CellInterpreter(workingDirectory: dir, journal: SessionJournal(settings, started: Date(timeIntervalSince1970: start)),
                                          clock: { tick += 1; return Date(timeIntervalSince1970: tick) })
        return CellRunner(interpreter: interpreter)
    }

    /// The state restore must reproduce: graphs with their versions and exported bytes, the current graph, variables.
    private func state(_ r: CellRunner) throws -> [String] {
        let s = r.interpreter.session
        var out = ["current=\(s.graphs.currentName ?? "-")"]
        for e in s.graphs.entries {
            out.append("\(e.name) \(e.source.path) at @\(e.step) fields=\(e.fields.keys.sorted())")
            // Every step of the history tree: shape, what made it, when, and its graph's bytes.
            for step in e.history.steps {
                let bytes = try ONNXWriter.serialize(step.state.model)
                out.append("@\(step.number) parent=\(step.parent.map(String.init) ?? "-") \(step.origin) `\(step.command)` "
                    + "\(step.time.timeIntervalSince1970) \(SHA256.hex(bytes))")
            }
        }
        out += s.variables.keys.sorted().map { "\($0)=\(s.variables[$0]?.literal ?? "")" }
        return out
    }

    private func journalRecords(_ r: CellRunner) throws -> [JournalRecord] {
        try JournalReader.read(XCTUnwrap(r.interpreter.journal).url).records
    }

    func testOnlySuccessfulStateChangesAreRecordedWithTheirTimeAndSnapshot() throws {
        let k = kernel()
        XCTAssertNil(k.run("print 1 + 1").error)
        XCTAssertFalse(FileManager.default.fileExists(atPath: try XCTUnwrap(k.interpreter.journal).url.path),
                       "a kernel that only looked writes no journal")
        XCTAssertNil(k.run("load m.onnx as m\nbatch = 4\nsummary").error)
        XCTAssertNotNil(k.run("load nope.onnx").error)
        XCTAssertNotNil(k.run("use nothing").error)
        XCTAssertNil(k.run("x = [batch, \"two\"]  # a comment\nvars\nfind MatMul\nhardware h100").error)
        XCTAssertNil(k.run("find op=MatMul save=mm").error)
        let records = try journalRecords(k)
        XCTAssertEqual(records.map { $0.command ?? "" }, ["load m.onnx as m", "batch = 4", "x = [batch, \"two\"]", "find op=MatMul save=mm"],
                       "a plain find and a hardware listing change nothing and are not journaled")
        XCTAssertEqual(records.map(\.time), [1_796_000_002, 1_796_000_003, 1_796_000_007, 1_796_000_011].map { Date(timeIntervalSince1970: $0) })
        XCTAssertEqual(records.map(\.graph), [nil, "m", "m", "m"])
        let snapshot = try XCTUnwrap(records[0].snapshot)
        let modelBytes = Array(try Data(contentsOf: dir.appendingPathComponent("m.onnx")))
        XCTAssertEqual(snapshot, SHA256.hex(modelBytes) + ".onnx")
        XCTAssertEqual(try store.snapshots(key: XCTUnwrap(k.interpreter.journal).place.key).read(snapshot), modelBytes)
        XCTAssertNil(records[1].snapshot)
    }

    func testRestoreBringsBackExactlyTheRecordedStateFromSnapshots() throws {
        var before: [String] = []
        do {
            let k = kernel()
            XCTAssertNil(k.run("load m.onnx as m\nload cf.onnx\nuse m\nestimate seq=8\nn = 3\nl = [n, n * 2]\ndel n\nload m.onnx as m2\nclose m2").error)
            // Edits, undo, a branch, an annotation, redo and checkout: the whole history tree must come back.
            XCTAssertNil(k.run("use m\nrename n3 renamed_node\nundo\nannotate n2 note=\"hi\"\nset n4 perm=[0, 2, 1, 3] --force\nundo\ncheckout @1").error,
                         "\(k.outputs)")
            before = try state(k)
            XCTAssertEqual(k.interpreter.session.graphs["m"]?.history.steps.count, 4)
        }   // the kernel goes away without closing its journal, as a kill leaves it
        // The model file changes after the crash: restore must use what was loaded.
        try Data("garbage".utf8).write(to: dir.appendingPathComponent("m.onnx"))
        do {
            let next = kernel(start: 1_796_100_000)
            // A silent request (a front end's own) publishes nothing: the notice waits for a visible cell.
            _ = next.interpreter.execute(ExecuteRequest(code: "print 9", silent: true), context: ExecutionContext(executionCount: 0) { _ in })
            XCTAssertNil(next.run("print 0").error)
            XCTAssertTrue(next.stdout.contains("Run `restore`"), next.stdout)
            XCTAssertTrue(next.stdout.contains("16 step(s)"), next.stdout)
            XCTAssertNil(next.run("print 1").error)
            XCTAssertFalse(next.stdout.contains("restore"), "the notice comes once")
            XCTAssertNil(next.run("restore").error, "\(next.outputs)")
            XCTAssertTrue(next.stdout.contains("Restored 16 step(s)"), next.stdout)
            XCTAssertEqual(try state(next), before)
            // The new kernel's journal holds the steps with their original times; the old one is closed.
            let records = try journalRecords(next)
            XCTAssertEqual(records.first?.kind, .restoring)
            XCTAssertEqual(records.first?.count, 16)
            let copied = records.filter { $0.kind == .step }
            XCTAssertEqual(copied.count, 16)
            XCTAssertEqual(copied.first?.time, Date(timeIntervalSince1970: 1_796_000_001))
            XCTAssertEqual(store.listAll().first?.closedReason?.hasPrefix("restored by"), true)
        }
        // A third kernel after a second crash restores the same state from the copy.
        let third = kernel(start: 1_796_200_000)
        XCTAssertNil(third.run("restore").error, "\(third.outputs)")
        XCTAssertEqual(try state(third), before)
    }

    /// `restore` must not run an external compiler again: the journal keeps the accepted result
    /// as a snapshot and restore reads it back. The plugin here copies the model and counts its runs.
    func testRestoreUsesTheStoredPluginResultWithoutRunningThePlugin() throws {
        let plugins = dir.appendingPathComponent("plugins")
        try FileManager.default.createDirectory(at: plugins, withIntermediateDirectories: true)
        let runs = dir.appendingPathComponent("runs.txt")
        let json = """
        {"name": "counted", "description": "copies the model and counts its runs",
         "command": ["/bin/sh", "-c", "echo run >> \\"$3\\"; cp \\"$1\\" \\"$2\\"", "sh", "{input}", "{output}", "\(runs.path)"],
         "version": ["/bin/sh", "-c", "echo counted 1.0"], "timeout": 20}
        """
        try Data(json.utf8).write(to: plugins.appendingPathComponent("counted.json"))
        let previous = ProcessInfo.processInfo.environment["GRAPHSMITH_PLUGINS"]
        setenv("GRAPHSMITH_PLUGINS", plugins.path, 1)
        defer { if let previous { setenv("GRAPHSMITH_PLUGINS", previous, 1) } else { unsetenv("GRAPHSMITH_PLUGINS") } }
        var before: [String] = []
        do {
            let k = kernel()
            XCTAssertNil(k.run("load m.onnx as m\nannotate n2 note=\"kept\"\ncompile counted\nrename n3 after_plugin").error, "\(k.outputs)")
            XCTAssertEqual(try String(contentsOf: runs, encoding: .utf8), "run\n")
            let records = try journalRecords(k)
            XCTAssertEqual(records.map { $0.command ?? "" }, ["load m.onnx as m", "annotate n2 note=\"kept\"", "compile counted", "rename n3 after_plugin"])
            XCTAssertNotNil(records[2].snapshot, "the plugin's result is kept")
            before = try state(k)
        }
        let next = kernel(start: 1_796_100_000)
        XCTAssertNil(next.run("restore").error, "\(next.outputs)")
        XCTAssertEqual(try state(next), before)
        XCTAssertEqual(try String(contentsOf: runs, encoding: .utf8), "run\n", "restore did not run the plugin")
    }

    func testADamagedTailRestoresUpToTheLastCompleteRecordAndSaysSo() throws {
        var url: URL?
        do {
            let k = kernel()
            XCTAssertNil(k.run("a = 1").error)
            XCTAssertNil(k.run("b = 2\nc = 3").error)
            url = k.interpreter.journal?.url
        }
        let file = try XCTUnwrap(url)
        let bytes = try Data(contentsOf: file)
        try bytes.prefix(bytes.count - 5).write(to: file)
        let next = kernel(start: 1_796_100_000)
        XCTAssertNil(next.run("restore").error, "\(next.outputs)")
        XCTAssertTrue(next.stdout.contains("damaged"), next.stdout)
        XCTAssertEqual(next.interpreter.session.variables.keys.sorted(), ["a"], "the cut cell is lost whole, never in part")
    }

    /// A kill while `restore` copies leaves the new journal without its copy frame (at most a
    /// torn one): it is not offered, and its source, not closed yet, is restored instead.
    func testACopyCutShortByAKillIsNotOfferedItsSourceIs() throws {
        var source = ""
        do {
            let k = kernel()
            XCTAssertNil(k.run("a = 1\nb = 2\nc = 3").error)
            source = try XCTUnwrap(k.interpreter.journal).place.ownID
        }
        let key = try XCTUnwrap(kernel().interpreter.journal).place.key
        let partial = JournalHeader(id: "20991231-000000-aaaa", notebook: nil, workingDirectory: dir.path, kernelID: nil,
                                    started: Date(timeIntervalSince1970: 1_796_050_000), producer: "t")
        let url = store.journalURL(key: key, id: partial.id)
        let w = try JournalWriter(creating: url, header: partial)
        w.close()
        let t = Date(timeIntervalSince1970: 1_796_050_001)
        let copy = try JournalFraming.frame([JournalRecord.restoring(from: source, count: 3, time: t), .step("a = 1", graph: nil, time: t)])
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(copy.prefix(copy.count - 3)))
        try handle.close()
        let next = kernel(start: 1_796_100_000)
        XCTAssertNil(next.run("restore").error, "\(next.outputs)")
        XCTAssertTrue(next.stdout.contains("from journal \(source)"), next.stdout)
        XCTAssertEqual(next.interpreter.session.variables.keys.sorted(), ["a", "b", "c"])
    }

    func testRefusalsLeaveTheSessionUnchanged() throws {
        do {
            let k = kernel()
            XCTAssertNil(k.run("a = 1").error)
        }
        let next = kernel(start: 1_796_100_000)
        XCTAssertNil(next.run("z = 9").error)
        let busy = try XCTUnwrap(next.run("restore").error)
        XCTAssertTrue(busy.value.contains("fresh session"), busy.value)
        XCTAssertEqual(next.interpreter.session.variables.keys.sorted(), ["z"])
        let unknown = try XCTUnwrap(kernel(start: 1_796_200_000).run("restore 2026-nope").error)
        XCTAssertEqual(unknown.name, "LookupError")
        // A plain interpreter keeps no journal and says so.
        let plain = CellRunner(directory: dir)
        XCTAssertTrue(try XCTUnwrap(plain.run("restore").error).value.contains("keeps no journal"))
    }

    func testAJournalFromANewerVersionIsRefused() throws {
        let k = kernel()
        let key = try XCTUnwrap(k.interpreter.journal).place.key
        try store.makeFolder(key: key)
        var header = JournalHeader(id: "20991231-000000-ffff", notebook: nil, workingDirectory: dir.path, kernelID: nil,
                                   started: Date(), producer: "graphsmith 9")
        header.format = JournalFormat.version + 1
        try Data(JournalFormat.magic + (try JournalFraming.frame(header))).write(to: store.journalURL(key: key, id: header.id))
        let error = try XCTUnwrap(k.run("restore 20991231-000000-ffff").error)
        XCTAssertTrue(error.value.contains("newer Graphsmith"), error.value)
        XCTAssertTrue(k.interpreter.session.graphs.entries.isEmpty)
        XCTAssertNil(k.run("journal list").error)
        XCTAssertTrue(k.displays.first?["text/plain"]?.stringValue?.contains("unreadable") ?? false)
    }

    func testShutdownClosesTheJournalAndJournalListAndDelete() throws {
        let k = kernel()
        XCTAssertNil(k.run("a = 1").error)
        let id = try XCTUnwrap(k.interpreter.journal).place.ownID
        XCTAssertNil(k.run("journal").error)
        XCTAssertTrue(k.displays.first?["text/plain"]?.stringValue?.contains("this kernel") ?? false)
        XCTAssertTrue(try XCTUnwrap(k.run("journal delete \(id)").error).value.contains("running kernel"))
        k.interpreter.shutdown(restart: true)
        XCTAssertEqual(store.listAll().first?.closedReason, "restart")
        let next = kernel(start: 1_796_100_000)
        XCTAssertNil(next.run("print 1").error)
        XCTAssertFalse(next.stdout.contains("restore"), "a closed journal is not offered")
        XCTAssertTrue(try XCTUnwrap(next.run("restore").error).value.contains("no journal of this notebook"))
        XCTAssertNil(next.run("journal list").error)
        let listing = next.displays.first?["text/plain"]?.stringValue ?? ""
        XCTAssertTrue(listing.contains(id) && listing.contains("closed (restart)") && listing.contains("nb.ipynb"), listing)
        XCTAssertNil(next.run("journal delete --all-closed").error)
        XCTAssertTrue(next.stdout.contains("Deleted 1 journal(s)"), next.stdout)
        XCTAssertTrue(store.listAll().isEmpty)
    }
}
