// The version tree: undo/redo/checkout, branches, and a model-checked random walk.
import Foundation
import GraphEditing
import XCTest

final class HistoryTests: XCTestCase {
    private let counts = GraphCounts(nodes: 0, edges: 0, parameters: 0)

    func testUndoRedoAndBranches() throws {
        var h = History(root: "v0", counts: counts, command: "load a.onnx")
        h.commit("v1", counts: counts, origin: "edit", command: "e1", edits: [])
        h.commit("v2", counts: counts, origin: "edit", command: "e2", edits: [])
        XCTAssertEqual(try h.undo(2), 0)
        XCTAssertEqual(h.state, "v0")
        XCTAssertEqual(try h.redo(), 1)
        // A new step after an undo starts a branch; redo now follows it.
        h.commit("v3", counts: counts, origin: "edit", command: "e3", edits: [])
        XCTAssertEqual(h.children(of: 1), [2, 3])
        try h.undo()
        XCTAssertEqual(try h.redo(), 3)
        try h.checkout(2)
        XCTAssertEqual(h.state, "v2")
        try h.undo()
        XCTAssertEqual(try h.redo(), 2, "checkout makes its branch the one redo follows")
        XCTAssertEqual(h.path(to: 3), [0, 1, 3])
        XCTAssertEqual(h.treeOrder.map(\.step), [0, 1, 2, 3])
        XCTAssertEqual(h.treeOrder.map(\.depth), [0, 0, 0, 1])
        XCTAssertEqual(h.treeOrder.map(\.startsBranch), [false, false, false, true])
        XCTAssertThrowsError(try h.undo(5)) { XCTAssertTrue("\($0)".contains("only 2 steps"), "\($0)") }
        XCTAssertEqual(h.current, 2, "a refused undo does not move")
        XCTAssertThrowsError(try h.checkout(9))
        XCTAssertThrowsError(try h.redo())
    }

    /// 500 random commits, undos, redos and checkouts against a plain model of the tree
    /// (parent links and a "last visited child" map kept by hand).
    func testRandomWalkMatchesModel() throws {
        var rng = SystemRandomNumberGenerator()
        var h = History(root: 0, counts: counts, command: "load")
        var parent: [Int?] = [nil]
        var current = 0
        var last: [Int: Int] = [:]
        for _ in 0..<500 {
            switch Int.random(in: 0..<4, using: &rng) {
            case 0:
                let n = parent.count
                h.commit(n, counts: counts, origin: "edit", command: "e\(n)", edits: [])
                parent.append(current); last[current] = n; current = n
            case 1:
                let k = Int.random(in: 1...3, using: &rng)
                var at = current, ok = true
                for _ in 0..<k { guard let p = parent[at] else { ok = false; break }; last[p] = at; at = p }
                if ok { XCTAssertEqual(try h.undo(k), at); current = at } else { XCTAssertThrowsError(try h.undo(k)) }
            case 2:
                if let c = last[current] { XCTAssertEqual(try h.redo(), c); current = c } else { XCTAssertThrowsError(try h.redo()) }
            default:
                let target = Int.random(in: 0..<parent.count, using: &rng)
                try h.checkout(target)
                var c = target
                while let p = parent[c] { last[p] = c; c = p }
                current = target
            }
            XCTAssertEqual(h.current, current)
            XCTAssertEqual(h.state, current, "the state is the one committed at that step")
        }
    }
}
