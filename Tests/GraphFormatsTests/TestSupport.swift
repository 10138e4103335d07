/// Locating test inputs: the committed fixtures (bundle resources), the shared corpus
/// (`../shared` from the repo root, or $GRAPHSMITH_SHARED) and the ONNX backend node tests
/// from an installed onnx wheel ($ONNX_NODE_TEST_DIR, a known venv, or python3's onnx).
import Foundation
import XCTest

enum TestPaths {
    static let repoRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func fixture(_ name: String) throws -> URL {
        guard let dir = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            throw XCTSkip("fixtures bundle missing")
        }
        return dir.appendingPathComponent(name)
    }

    static var shared: URL? {
        if let e = ProcessInfo.processInfo.environment["GRAPHSMITH_SHARED"] { return URL(fileURLWithPath: e) }
        let u = repoRoot.appendingPathComponent("../shared").standardizedFileURL
        return FileManager.default.fileExists(atPath: u.path) ? u : nil
    }

    /// Every `*.onnx` under shared/corpus/models (including light/).
    static func corpusModels() -> [URL] {
        guard let s = shared else { return [] }
        var out: [URL] = []
        for sub in ["corpus/models", "corpus/models/light"] {
            let dir = s.appendingPathComponent(sub)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            out += names.filter { $0.hasSuffix(".onnx") }.sorted().map { dir.appendingPathComponent($0) }
        }
        return out
    }

    static var nodeTestDir: URL? {
        let fm = FileManager.default
        if let e = ProcessInfo.processInfo.environment["ONNX_NODE_TEST_DIR"], fm.fileExists(atPath: e) {
            return URL(fileURLWithPath: e)
        }
        for venv in [repoRoot.appendingPathComponent(".venv"), repoRoot.appendingPathComponent("../main/.venv")] {
            let lib = venv.appendingPathComponent("lib")
            for py in (try? fm.contentsOfDirectory(atPath: lib.path)) ?? [] {
                let d = lib.appendingPathComponent(py).appendingPathComponent("site-packages/onnx/backend/test/data/node")
                if fm.fileExists(atPath: d.path) { return d }
            }
        }
        return nil
    }

    static func nodeTestModels() -> [URL] {
        guard let d = nodeTestDir else { return [] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: d.path)) ?? []
        return names.sorted().map { d.appendingPathComponent($0).appendingPathComponent("model.onnx") }
            .filter { FileManager.default.fileExists(atPath: $0.path) }
    }

    static func tempDir() throws -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("graphsmith-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }
}
