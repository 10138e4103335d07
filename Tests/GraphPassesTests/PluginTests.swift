// Plugin descriptors (parsing, option checks, folders overriding each other) and the failure
// modes of a run: a plugin that exits 1, one that sleeps past its timeout, one that writes
// garbage, one that copies its input (accepted, every node paired by signature onto old ids).
import Foundation
import GraphFormats
import GraphIR
@testable import GraphPasses
import XCTest

final class PluginTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("plugin-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func descriptor(_ name: String, script: String, timeout: Double = 20, folder: URL? = nil) throws -> PluginDescriptor {
        let json = """
        {"name": "\(name)", "description": "test", "command": ["/bin/sh", "-c", "\(script)", "sh", "{input}", "{output}", "{mode}"],
         "options": {"mode": {"type": "choice", "values": ["a", "b"], "default": "a"}},
         "version": ["/bin/sh", "-c", "echo \(name) 1.0"], "timeout": \(timeout)}
        """
        let url = (folder ?? dir).appendingPathComponent("\(name).json")
        try Data(json.utf8).write(to: url)
        return try PluginDescriptor(json: Data(json.utf8), file: url)
    }

    func compile(_ p: PluginDescriptor, _ model: Model) throws -> PluginResult {
        try PluginCompile.run(p, on: model, options: [:], python: "python3", fixOpset: false,
                              write: { m, u in _ = try ONNXWriter.save(m, to: u) }, read: { try ONNXReader.load($0) })
    }

    func testDescriptorParsingAndOptions() throws {
        let p = try descriptor("copy", script: "cp \\\"$1\\\" \\\"$2\\\"")
        XCTAssertEqual(p.option("mode")?.defaultValue, "a")
        XCTAssertEqual(try p.arguments(input: "i", output: "o", python: "py", options: [:]).suffix(3), ["i", "o", "a"])
        XCTAssertThrowsError(try p.arguments(input: "i", output: "o", python: "py", options: ["mode": "c"])) {
            XCTAssertTrue("\($0)".contains("one of a, b"), "\($0)")
        }
        XCTAssertThrowsError(try p.arguments(input: "i", output: "o", python: "py", options: ["speed": "1"])) {
            XCTAssertTrue("\($0)".contains("no option 'speed'"), "\($0)")
        }
        XCTAssertEqual(PluginRunner.version(of: p, python: "python3"), "copy 1.0")
        // Broken descriptors name the field.
        for (bad, why) in [("{}", "name"), ("{\"name\": \"x\", \"description\": \"\", \"command\": [\"a\"], \"version\": [\"v\"]}", "{input}"),
                           ("{\"name\": \"x\", \"description\": \"\", \"command\": [\"{input}\", \"{output}\", \"{nope}\"], \"version\": [\"v\"]}", "{nope}")] {
            XCTAssertThrowsError(try PluginDescriptor(json: Data(bad.utf8), file: dir.appendingPathComponent("b.json"))) {
                XCTAssertTrue("\($0)".contains(why), "\($0)")
            }
        }
        // A later folder overrides a plugin of the same name; a broken file is listed, not fatal.
        let second = dir.appendingPathComponent("user")
        try FileManager.default.createDirectory(at: second, withIntermediateDirectories: true)
        _ = try descriptor("copy", script: "true", timeout: 7, folder: second)
        try Data("not json".utf8).write(to: second.appendingPathComponent("broken.json"))
        let c = PluginCatalog(folders: [dir, second, dir.appendingPathComponent("missing")])
        XCTAssertEqual(try c.plugin("copy").timeout, 7)
        XCTAssertEqual(c.problems.count, 1)
        XCTAssertThrowsError(try c.plugin("nothing"))
    }

    func testFailureModesLeaveNothingAndSayWhy() throws {
        let model = try layerNormModel()
        let fails = try descriptor("fails", script: "echo boom >&2; exit 1")
        XCTAssertThrowsError(try compile(fails, model)) { e in
            XCTAssertTrue("\(e)".contains("exit status 1") && "\(e)".contains("boom"), "\(e)")
        }
        let hangs = try descriptor("hangs", script: "echo waiting >&2; sleep 30", timeout: 1)
        let t0 = Date()
        XCTAssertThrowsError(try compile(hangs, model)) { e in
            XCTAssertTrue("\(e)".contains("timeout of 1 s") && "\(e)".contains("waiting"), "\(e)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(t0), 10)
        let garbage = try descriptor("garbage", script: "echo garbage > \\\"$2\\\"")
        XCTAssertThrowsError(try compile(garbage, model)) { e in
            XCTAssertTrue("\(e)".contains("not a readable ONNX model"), "\(e)")
        }
        let silent = try descriptor("silent", script: "true")
        XCTAssertThrowsError(try compile(silent, model)) { e in XCTAssertTrue("\(e)".contains("wrote no model"), "\(e)") }
    }

    func testCopyIsAcceptedWithOldIDs() throws {
        let model = try layerNormModel()
        let copy = try descriptor("copy", script: "cp \\\"$1\\\" \\\"$2\\\"")
        let r = try compile(copy, model)
        XCTAssertTrue(r.diff.isEmpty)
        XCTAssertEqual(r.model.graph.nodes.map(\.id), model.graph.nodes.map(\.id))
        XCTAssertTrue(r.model.graph.sharesNodeIDs(with: model.graph))
    }
}
