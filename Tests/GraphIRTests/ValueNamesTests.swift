import XCTest
@testable import GraphIR

/// `ValueNames` must behave exactly like `[String]` whether it owns its names or is a window
/// into a list shared with other nodes (as the ONNX reader builds them).
final class ValueNamesTests: XCTestCase {
    /// Three windows into one shared list, the way a reader lays out a graph's node inputs.
    private func sharedWindows() -> (all: [String], a: ValueNames, b: ValueNames, c: ValueNames) {
        let all = ["x", "w", "", "y", "z", "q"]
        return (all, ValueNames(shared: all, range: 0..<3), ValueNames(shared: all, range: 3..<5),
                ValueNames(shared: all, range: 5..<6))
    }

    func testWindowsReadLikeArrays() {
        let (_, a, b, c) = sharedWindows()
        XCTAssertEqual(Array(a), ["x", "w", ""])
        XCTAssertEqual(a.count, 3)
        XCTAssertEqual(a.indices, 0..<3)
        XCTAssertEqual(b[0], "y")
        XCTAssertEqual(b[1], "z")
        XCTAssertEqual(c.first, "q")
        XCTAssertEqual(b.array, ["y", "z"])
        XCTAssertEqual(a.firstIndex(of: "w"), 1)
        XCTAssertEqual(Array(a.enumerated().map(\.offset)), [0, 1, 2])
        XCTAssertEqual(a.description, ["x", "w", ""].description)
        XCTAssertTrue(ValueNames(shared: ["a"], range: 1..<1).isEmpty)
    }

    func testEqualityAndHashingIgnoreSharing() {
        let (_, a, b, _) = sharedWindows()
        let owned: ValueNames = ["y", "z"]
        XCTAssertEqual(b, owned)
        XCTAssertEqual(b.hashValue, owned.hashValue)
        XCTAssertNotEqual(a, owned)
        XCTAssertTrue(b == ["y", "z"])
        XCTAssertTrue(["y", "z"] == b)
        XCTAssertTrue(a != ["y", "z"])
        XCTAssertEqual(Set([b, owned]).count, 1)
    }

    func testMutatingAWindowCopiesOnlyItsOwnNames() {
        var (all, a, b, c) = sharedWindows()
        b[1] = "changed"
        XCTAssertEqual(Array(b), ["y", "changed"])
        // Neither the shared list nor the other windows see the change.
        XCTAssertEqual(all, ["x", "w", "", "y", "z", "q"])
        XCTAssertEqual(Array(a), ["x", "w", ""])
        XCTAssertEqual(Array(c), ["q"])
        a.append("extra")
        a.remove(at: 0)
        XCTAssertEqual(Array(a), ["w", "", "extra"])
        c.replaceSubrange(0..<1, with: ["r", "s"])
        XCTAssertEqual(Array(c), ["r", "s"])
        all[0] = "mutated"
        XCTAssertEqual(Array(a), ["w", "", "extra"])
    }

    func testPendingWindowsAttachLater() {
        var list: [String] = []
        var first = ValueNames(pending: 0..<0)
        list.append("a")
        list.append("b")
        var second = ValueNames(pending: 0..<2)
        first.attach(list)
        second.attach(list)
        XCTAssertTrue(first.isEmpty)
        XCTAssertEqual(Array(second), ["a", "b"])
    }

    func testNodesEditedThroughTheGraphKeepOtherNodesIntact() throws {
        // Nodes whose names share one list, edited through the public graph API.
        let all = ["x", "a", "a", "y"]
        var n1 = Node(opType: "Relu", outputs: [])
        n1.inputs = ValueNames(shared: all, range: 0..<1)
        n1.outputs = ValueNames(shared: all, range: 1..<2)
        var n2 = Node(opType: "Neg")
        n2.inputs = ValueNames(shared: all, range: 2..<3)
        n2.outputs = ValueNames(shared: all, range: 3..<4)
        var g = Graph(name: "g", nodes: [n1, n2], inputs: [ValueInfo(name: "x")], outputs: [ValueInfo(name: "y")])
        XCTAssertTrue(g.validate().isEmpty, "\(g.validate())")
        try g.renameValue("a", to: "b")
        XCTAssertEqual(Array(g.nodes[0].outputs), ["b"])
        XCTAssertEqual(Array(g.nodes[1].inputs), ["b"])
        XCTAssertEqual(Array(g.nodes[0].inputs), ["x"])
        XCTAssertEqual(Array(g.nodes[1].outputs), ["y"])
        XCTAssertEqual(g.uses(of: "b").map(\.node), [g.nodes[1].id])
    }
}
