/// NodeCatalog: bodies walked into one scope tree, display names, and node/path lookups.
import XCTest
@testable import GraphIR

/// x, cond -> Neg "Neg" -> If (unnamed, so `If_1`) whose then_branch holds an unnamed Constant,
/// an Add named `/blk/Add` and a Loop "inner" with its own body; else_branch holds a Neg also
/// named "Neg" and a Relu named `inl_0/stft/Relu`. Ids are given explicitly: 0 and 1 at the top,
/// bodies from 100, 200, 300 (unique across the model, as the ONNX reader makes them).
func makeIfModel() throws -> Graph {
    let innerBody = Graph(name: "inner_body", nodes: [
        Node(id: NodeID(301), opType: "Relu", name: "LoopRelu", inputs: ["t"], outputs: ["acc"]),
        Node(id: NodeID(300), opType: "Identity", inputs: ["c_in"], outputs: ["c_out"]),
    ], inputs: [ValueInfo(name: "i", type: .tensor(.int64, TensorShape(static: []))),
                ValueInfo(name: "c_in", type: .tensor(.bool, TensorShape(static: [])))],
    outputs: [ValueInfo(name: "c_out"), ValueInfo(name: "acc")], isSubgraph: true)
    let thenB = Graph(name: "then", nodes: [
        Node(id: NodeID(100), opType: "Constant", outputs: ["c"],
             attributes: [Attribute("value", .tensor(Tensor(floats: [1, 2], dims: [2])))]),
        Node(id: NodeID(101), opType: "Add", name: "/blk/Add", inputs: ["xn", "c"], outputs: ["t"]),
        Node(id: NodeID(102), opType: "Loop", name: "inner", inputs: ["", ""], outputs: ["t2"],
             attributes: [Attribute("body", .graph(innerBody))]),
    ], outputs: [ValueInfo(name: "t2", type: f32(2))], isSubgraph: true)
    let elseB = Graph(name: "else", nodes: [
        Node(id: NodeID(200), opType: "Neg", name: "Neg", inputs: ["xn"], outputs: ["e"]),
        Node(id: NodeID(201), opType: "Relu", name: "inl_0/stft/Relu", inputs: ["e"], outputs: ["r"]),  // an inliner's name
    ], outputs: [ValueInfo(name: "e", type: f32(2))], isSubgraph: true)
    return Graph(name: "ifmodel", nodes: [
        Node(id: NodeID(0), opType: "Neg", name: "Neg", inputs: ["x"], outputs: ["xn"]),
        Node(id: NodeID(1), opType: "If", inputs: ["cond"], outputs: ["y"],
             attributes: [Attribute("then_branch", .graph(thenB)), Attribute("else_branch", .graph(elseB))]),
    ], inputs: [ValueInfo(name: "x", type: f32(2)), ValueInfo(name: "cond", type: .tensor(.bool, TensorShape(static: [])))],
    outputs: [ValueInfo(name: "y", type: f32(2))])
}

final class NodeCatalogTests: XCTestCase {
    func testDisplayNameIsTheNameOrOpTypeAndID() throws {
        let g = try makeIfModel()
        XCTAssertEqual(g.nodes.map(\.displayName), ["Neg", "If_1"])
        XCTAssertEqual(Node(id: NodeID(37), opType: "Constant").displayName, "Constant_37")
    }

    func testBodiesAreWalkedWithPathsFromOwnerAndAttribute() throws {
        let c = NodeCatalog(try makeIfModel())
        XCTAssertEqual(c.entries.count, 9)
        XCTAssertEqual(c.bodies.map(\.pathText), ["If_1/then_branch", "If_1/else_branch", "If_1/then_branch/inner/body"])
        XCTAssertEqual(c.entries.indices.map { c.qualifiedName($0) },
                       ["Neg", "If_1", "If_1/then_branch/Constant_100", "If_1/then_branch/blk/Add", "If_1/then_branch/inner",
                        "If_1/then_branch/inner/body/LoopRelu", "If_1/then_branch/inner/body/Identity_300", "If_1/else_branch/Neg", "If_1/else_branch/inl_0/stft/Relu"])
        // A body node's own hierarchy continues below the body's path.
        XCTAssertEqual(c.entries[3].path, ["If_1", "then_branch", "blk"])
        XCTAssertEqual(c.children(of: []), ["If_1"])
        XCTAssertEqual(c.children(of: ["If_1"]), ["then_branch", "else_branch"])
        XCTAssertEqual(c.count(under: ["If_1"]), 7)
        XCTAssertEqual(c.count(under: ["If_1", "then_branch", "inner", "body"]), 2)
        XCTAssertEqual(c.bodies[2].steps, [BodyStep(owner: NodeID(1), attribute: "then_branch"), BodyStep(owner: NodeID(102), attribute: "body")])
        XCTAssertEqual(c.graph.body(at: c.bodies[2].steps)?.name, "inner_body")
        XCTAssertEqual(c.node(6)?.opType, "Identity")
    }

    func testLookupByIDNameQualifiedNameAndScopeLeaf() throws {
        let c = NodeCatalog(try makeIfModel())
        XCTAssertEqual(c.lookup("n300"), .node(6))
        XCTAssertEqual(c.lookup("#1"), .node(1))
        XCTAssertEqual(c.lookup("If_1"), .node(1))
        XCTAssertEqual(c.lookup("Constant_100"), .node(2))              // the drawn name of an unnamed node
        XCTAssertEqual(c.lookup("If_1/then_branch/Constant_100"), .node(2))
        XCTAssertEqual(c.lookup("/If_1/then_branch/blk/Add"), .node(3))  // a "/"-name inside a body
        XCTAssertEqual(c.lookup("/blk/Add"), .node(3))
        XCTAssertEqual(c.lookup("If_1/else_branch/Neg"), .node(7))
        XCTAssertEqual(c.lookup("If_1/then_branch/inner/body/LoopRelu"), .node(5))
        XCTAssertEqual(c.lookup("Neg"), .ambiguous([0, 7]))             // never a silent pick
        XCTAssertEqual(c.lookup("n999"), .none)
        XCTAssertEqual(c.lookup("If_1/then_branch/Nothing"), .none)
        XCTAssertEqual(c.lookup("If_1/else_branch/inl_0/stft/Relu"), .node(8))
        XCTAssertEqual(c.lookup("If_1/else_branch/Relu"), .none)         // only a "/a/b/Op" name's last part stands for it
        XCTAssertEqual(c.lookup(""), .none)
    }

    func testAnIDMeansTheIDEvenWhenANodeHasThatName() throws {
        let g = Graph(nodes: [Node(opType: "Neg", name: "n1", inputs: ["a"], outputs: ["b"]),
                              Node(opType: "Relu", inputs: ["b"], outputs: ["c"])],
                      inputs: [ValueInfo(name: "a")], outputs: [ValueInfo(name: "c")])
        let c = NodeCatalog(g)
        XCTAssertEqual(c.lookup("n1"), .node(1))           // the Relu with id 1, not the Neg named "n1"
        XCTAssertEqual(c.lookup("n0"), .node(0))
    }

    func testRepeatedIDsAreAmbiguous() throws {
        // A graph built by hand with explicit ids may still repeat an id between a body and the
        // top level (a loaded model or `addNode` never does): the catalog says so, never picks.
        let body = Graph(nodes: [Node(id: NodeID(0), opType: "Neg", inputs: ["a"], outputs: ["b"])],
                         outputs: [ValueInfo(name: "b")], isSubgraph: true)
        let g = Graph(nodes: [Node(id: NodeID(0), opType: "Loop", name: "L", inputs: ["", ""], outputs: ["o"],
                                   attributes: [Attribute("body", .graph(body))])],
                      inputs: [ValueInfo(name: "a")], outputs: [ValueInfo(name: "o")])
        let c = NodeCatalog(g)
        XCTAssertEqual(c.lookup("n0"), .ambiguous([0, 1]))
        XCTAssertEqual(c.lookup("L/body/Neg_0"), .node(1))
    }

    func testAddNodeAroundAHandBuiltBodyDoesNotRepeatItsIDs() throws {
        // The body numbers from 0 in its own space; adding its owner joins the spaces, so the
        // owner gets a fresh id and every id in the catalog is unique.
        var body = Graph(outputs: [ValueInfo(name: "b")], isSubgraph: true)
        try body.addNode(Node(opType: "Neg", inputs: ["a"], outputs: ["b"]))
        var g = Graph(inputs: [ValueInfo(name: "a")], outputs: [ValueInfo(name: "o")])
        let loop = try g.addNode(Node(opType: "Loop", name: "L", inputs: ["", ""], outputs: ["o"],
                                      attributes: [Attribute("body", .graph(body))]))
        XCTAssertEqual(loop, NodeID(1))
        let c = NodeCatalog(g)
        XCTAssertEqual(c.lookup("n0"), .node(1))
        XCTAssertEqual(c.lookup("n1"), .node(0))
        // The body pulled back out allocates from the joined space too.
        var inner = try XCTUnwrap(g.node(loop)?.attribute("body")?.subgraphs.first)
        XCTAssertEqual(try inner.addNode(Node(opType: "Relu", inputs: ["b"], outputs: ["r"])), NodeID(2))
    }

    func testLocateOpensBodiesScopesAndOwners() throws {
        let c = NodeCatalog(try makeIfModel())
        XCTAssertEqual(c.locate("If_1/then_branch"), .body(0))
        XCTAssertEqual(c.locate("/If_1/then_branch/inner/body"), .body(2))
        XCTAssertEqual(c.locate("If_1/then_branch/blk"), .scope(body: 0, path: ["blk"]))
        XCTAssertEqual(c.locate("If_1"), .node(1))                      // the scope of bodies is their owner
        XCTAssertEqual(c.locate("If_1/then_branch/inner"), .node(4))
        XCTAssertEqual(c.locate("If_1/else_branch/Neg"), .node(7))
        XCTAssertEqual(c.locate("Neg"), .ambiguous([0, 7]))
        XCTAssertEqual(c.locate("/"), .scope(body: nil, path: []))
        XCTAssertEqual(c.locate("nowhere"), .none)
    }

    func testOwnersSharingALeafGetDistinctScopes() throws {
        func ifNode(_ name: String, _ out: String, first: Int, path: [String]? = nil) throws -> Node {
            var b = Graph(outputs: [ValueInfo(name: out + "_b")], isSubgraph: true, firstNodeID: first)
            try b.addNode(Node(opType: "Neg", inputs: ["c"], outputs: [out + "_b"]))
            return Node(opType: "If", name: name, inputs: ["c"], outputs: [out], attributes: [Attribute("then_branch", .graph(b))],
                        hierarchyPath: path)
        }
        var g = Graph(inputs: [ValueInfo(name: "c")], outputs: [ValueInfo(name: "o1"), ValueInfo(name: "o2")])
        try g.addNode(ifNode("/enc/If", "o1", first: 10))
        try g.addNode(ifNode("If", "o2", first: 20, path: ["enc"]))   // same scope, same last segment (walked first: addNode puts it first)
        let c = NodeCatalog(g)
        // The first If added joined its body's id space (ids 10...) and so got id 11.
        XCTAssertEqual(c.bodies.map(\.pathText), ["enc/If/then_branch", "enc/If_n11/then_branch"])
        XCTAssertEqual(c.locate("enc/If_n11/then_branch"), .body(1))
        XCTAssertEqual(c.lookup("enc/If_n11/then_branch/Neg_10"), .node(3))
    }

    func testCompletionNamesScopesAndNodes() throws {
        let c = NodeCatalog(try makeIfModel())
        XCTAssertEqual(c.scopeNames(startingWith: "If_1/t"), ["If_1/then_branch/"])
        XCTAssertEqual(c.scopeNames(startingWith: "/I"), ["/If_1/"])
        XCTAssertEqual(c.nodeNames(startingWith: "If_1/then_branch/C", limit: 10), ["If_1/then_branch/Constant_100"])
        XCTAssertEqual(c.nodeNames(startingWith: "", limit: 3).count, 3)
    }
}
