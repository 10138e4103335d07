// The journal store: folder keys, snapshots (content-addressed, verified, collected) and
// listing and deleting journals.

import Foundation
import XCTest
@testable import GraphEditing

final class JournalStoreTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("journal-store-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    func testStateFolderComesFromTheEnvironmentInOrder() {
        let home = URL(fileURLWithPath: "/home/u")
        XCTAssertEqual(JournalStore.defaultRoot(environment: ["GRAPHSMITH_STATE_DIR": "/tmp/s", "XDG_STATE_HOME": "/x"], home: home).path, "/tmp/s")
        XCTAssertEqual(JournalStore.defaultRoot(environment: ["XDG_STATE_HOME": "/x"], home: home).path, "/x/graphsmith")
        XCTAssertEqual(JournalStore.defaultRoot(environment: ["XDG_STATE_HOME": "relative"], home: home).path, "/home/u/.local/state/graphsmith")
        XCTAssertEqual(JournalStore.defaultRoot(environment: [:], home: home).path, "/home/u/.local/state/graphsmith")
    }

    func testFolderKeysSeparateNotebooksWithTheSameName() {
        let a = JournalStore.folderKey(notebook: "/a/edit.ipynb", workingDirectory: "/a")
        let b = JournalStore.folderKey(notebook: "/b/edit.ipynb", workingDirectory: "/a")
        XCTAssertTrue(a.hasPrefix("edit-"))
        XCTAssertNotEqual(a, b)
        XCTAssertEqual(a, JournalStore.folderKey(notebook: "/a/edit.ipynb", workingDirectory: "/elsewhere"))
        let odd = JournalStore.folderKey(notebook: "../we ird/../../x y.ipynb", workingDirectory: "/")
        XCTAssertFalse(odd.contains("/") || odd.contains(" ") || odd.contains(".."), odd)
        XCTAssertNotEqual(JournalStore.folderKey(notebook: nil, workingDirectory: "/w1"),
                          JournalStore.folderKey(notebook: nil, workingDirectory: "/w2"))
    }

    func testSnapshotsAreContentAddressedVerifiedAndSafe() throws {
        let store = SnapshotStore(folder: root.appendingPathComponent("snapshots"))
        let bytes: [UInt8] = Array("model bytes".utf8)
        let name = try store.put(bytes, ext: "onnx")
        XCTAssertEqual(name, SHA256.hex(bytes) + ".onnx")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(try store.put(bytes, ext: "onnx"), name)
        XCTAssertEqual(store.names(), [name])
        XCTAssertEqual(try store.read(name), bytes)
        XCTAssertThrowsError(try store.read("../../etc/passwd"))
        XCTAssertThrowsError(try store.read(String(repeating: "0", count: 64) + ".onnx"))
        // A changed snapshot is refused, never used.
        try Data("other".utf8).write(to: store.folder.appendingPathComponent(name))
        XCTAssertThrowsError(try store.read(name)) { XCTAssertTrue("\($0)".contains("SHA-256"), "\($0)") }
    }

    func testListDeleteAndSnapshotCollection() throws {
        let store = JournalStore(root: root)
        let key = JournalStore.folderKey(notebook: "/n/a.ipynb", workingDirectory: "/n")
        try store.makeFolder(key: key)
        let snaps = store.snapshots(key: key)
        let s1 = try snaps.put([1, 2, 3], ext: "onnx")
        let s2 = try snaps.put([4, 5, 6], ext: "onnx")
        func make(_ id: String, snapshot: String, close: Bool) throws {
            let w = try JournalWriter(creating: store.journalURL(key: key, id: id),
                                      header: JournalHeader(id: id, notebook: "/n/a.ipynb", workingDirectory: "/n", kernelID: nil,
                                                            started: Date(timeIntervalSince1970: Double(id.count)), producer: "t"))
            try w.append(.step("load m.onnx", graph: nil, time: Date(), snapshot: snapshot))
            if close { try w.append(.closed("shutdown", time: Date())) }
            w.close()
        }
        try make("j1", snapshot: s1, close: true)
        try make("j22", snapshot: s2, close: false)
        let listed = store.listAll()
        XCTAssertEqual(listed.map(\.id), ["j1", "j22"])
        XCTAssertEqual(listed.map(\.steps), [1, 1])
        XCTAssertEqual(listed.map(\.closedReason), ["shutdown", nil])
        XCTAssertEqual(listed.map(\.isOpen), [false, true])
        XCTAssertTrue(listed.allSatisfy { $0.size > 0 && !$0.inUse })
        XCTAssertEqual(try store.delete(id: "j1")?.id, "j1")
        XCTAssertEqual(store.listAll().map(\.id), ["j22"])
        XCTAssertEqual(snaps.names(), [s2], "the snapshot only j1 named goes with it")
        // A temporary file of a writer killed mid-snapshot goes too; a live writer's stays.
        let dead = ".\(s1).999999999.tmp", live = ".\(s1).\(ProcessInfo.processInfo.processIdentifier).tmp"
        for name in [dead, live] { try Data([1]).write(to: snaps.folder.appendingPathComponent(name)) }
        store.collectSnapshots(key: key)
        XCTAssertFalse(FileManager.default.fileExists(atPath: snaps.folder.appendingPathComponent(dead).path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: snaps.folder.appendingPathComponent(live).path))
        XCTAssertNil(try store.delete(id: "nope"))
        XCTAssertTrue(JournalStore.newID(started: Date(timeIntervalSince1970: 0), kernelID: "ABCD-ef01-2345").hasPrefix("19700101-000000-abcdef01-"))
    }
}
