// Problem marks in drawings (`RenderOptions.problems`): outline, badge, tooltip, side-panel lines
// and legend on a marked node; a count on the collapsed group holding marked nodes; dashed edges
// for tensors of unknown shape; `revealed` nodes drawn singly whatever the budget; a marked
// constant kept as a box; and `RenderGraph.neighbourhood` for drawing a few nodes of a big graph.
import XCTest
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import GraphIR
@testable import GraphRendering

final class ProblemMarkTests: XCTestCase {
    /// in -> a(Relu) -> b(Add) -> c(Relu) -> out, flat.
    private func chain() -> RenderGraph {
        var g = RenderGraph(name: "chain")
        g.nodes = [.init(id: "input:x", name: "x", op: "Input", kind: .graphInput),
                   .init(id: "a", op: "Relu"), .init(id: "b", op: "Add"), .init(id: "c", op: "Relu"),
                   .init(id: "output:y", name: "y", op: "Output", kind: .graphOutput)]
        g.edges = [.init(source: 0, target: 1, tensor: "x", shape: "4"), .init(source: 1, target: 2, tensor: "ta", shape: "4"),
                   .init(source: 2, target: 3, tensor: "tb"), .init(source: 3, target: 4, tensor: "y")]
        return g
    }

    private func element(_ svg: String, _ marker: String) -> String? {
        guard let r = svg.range(of: marker) else { return nil }
        let rest = svg[r.lowerBound...]
        return rest.range(of: "</g>").map { String(rest[..<$0.upperBound]) }
    }

    func testAMarkedNodeHasOutlineBadgeTooltipPanelLinesAndALegendEntry() throws {
        var o = RenderOptions()
        o.problems.add("b", .error, "shape: dimensions 4 and 5 do not broadcast")
        o.problems.add("c", .warning, "shape: no inference rule for op Relu2")
        o.problems.unknownShapes = ["tb", "y"]
        let r = try GraphRenderer.render(chain(), options: o)
        XCTAssertTrue(r.svg.contains("<g class=\"gs-node gs-problem\" data-id=\"b\""), "the class marks it")
        let b = try XCTUnwrap(element(r.svg, "data-id=\"b\""))
        XCTAssertTrue(b.contains("data-problem=\"error\""))
        XCTAssertTrue(b.contains("problems:&#10;  shape: dimensions 4 and 5 do not broadcast"), "tooltip: \(b)")
        XCTAssertTrue(r.svg.contains("class=\"gs-mark\""), "an outline")
        XCTAssertTrue(r.svg.contains("stroke=\"#d32f2f\" stroke-width=\"3\""), "red for the error")
        XCTAssertTrue(r.svg.contains("stroke=\"#ef8f00\" stroke-width=\"3\""), "orange for the warning")
        XCTAssertEqual(r.svg.components(separatedBy: "class=\"gs-badge\"").count - 1, 2, "one badge per marked box")
        XCTAssertFalse(try XCTUnwrap(element(r.svg, "data-id=\"a\"")).contains("gs-problem"), "an unmarked node stays plain")
        // Legend: both severities and the dashed edge.
        XCTAssertTrue(r.svg.contains("data-problem=\"error\"><rect"))
        XCTAssertTrue(r.svg.contains("data-problem=\"warning\"><rect"))
        XCTAssertTrue(r.svg.contains("data-problem=\"unknown-shape\""))
        // Edges carrying tb and y are dashed, the known ones are not.
        XCTAssertEqual(r.svg.components(separatedBy: "class=\"gs-edge gs-unknown-shape\"").count - 1, 2)
        XCTAssertTrue(r.svg.contains("stroke-dasharray=\"5 3\""))
        XCTAssertTrue(r.svg.contains("shape unknown (inference failed upstream)"))
        // Panel: problem lines and severity in the JSON block, and the script shows them.
        let json = try XCTUnwrap(r.html.components(separatedBy: "class=\"gs-data\">").dropFirst().first?.components(separatedBy: "</script>").first)
        let parsed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let nodes = try XCTUnwrap(parsed["nodes"] as? [String: [String: Any]])
        XCTAssertEqual(nodes["b"]?["x"] as? [String], ["shape: dimensions 4 and 5 do not broadcast"])
        XCTAssertEqual(nodes["b"]?["xs"] as? String, "error")
        XCTAssertEqual(nodes["c"]?["xs"] as? String, "warning")
        XCTAssertNil(nodes["a"]?["x"])
        XCTAssertTrue(r.html.contains("part('problems'"))
        XCTAssertTrue(XMLParser(data: Data(r.html.utf8)).parse(), "still well-formed XML")
    }

    func testNoMarksDrawNothingExtra() throws {
        let r = try GraphRenderer.render(chain())
        for marker in ["gs-problem", "gs-mark", "gs-badge", "gs-legend-problems", "gs-unknown-shape", "\"xs\""] {
            XCTAssertFalse(r.html.contains(marker), marker)
        }
    }

    func testACollapsedGroupCountsItsMarkedNodesAndRevealOpensIt() throws {
        let graph = SyntheticGraphs.transformer(layers: 4, targetNodes: 600)
        let renderer = try GraphRenderer(graph)
        // Two ops deep in the same layer: the default view shows that layer collapsed.
        let deep = graph.nodes.filter { $0.path.count >= 3 && $0.path[1] == "layers.2" && $0.kind == .op }
        XCTAssertGreaterThanOrEqual(deep.count, 2)
        var o = RenderOptions()
        o.maxVisibleBoxes = 10
        o.problems.add(deep[0].id, .warning, "w")
        o.problems.add(deep[1].id, .error, "e")
        let collapsed = try renderer.render(o)
        XCTAssertFalse(collapsed.svg.contains("class=\"gs-node gs-problem\" data-id=\"\(deep[0].id)\""), "not drawn singly")
        let group = try XCTUnwrap(collapsed.svg.components(separatedBy: "<g class=\"gs-group gs-problem\"").dropFirst().first)
        XCTAssertTrue(group.contains("data-problem=\"error\" data-problems=\"2\""), "worst severity, count: \(group.prefix(300))")
        XCTAssertTrue(group.contains("2 node(s) with problems:&#10;"))
        XCTAssertTrue(group.contains(">2</text>"), "the badge shows the count")
        // Revealed: the groups holding them open and both are drawn as their own marked boxes.
        o.revealed = [deep[0].id, deep[1].id]
        let open = try renderer.render(o)
        for n in deep.prefix(2) { XCTAssertTrue(open.svg.contains("class=\"gs-node gs-problem\" data-id=\"\(n.id)\""), n.id) }
        XCTAssertGreaterThan(open.stats.visibleBoxes, collapsed.stats.visibleBoxes)
    }

    func testAMarkedConstantIsDrawnAsABox() throws {
        var g = RenderGraph(name: "k")
        g.nodes = [.init(id: "k", op: "Constant", kind: .constant), .init(id: "a", op: "Add", folded: [.init(slot: "B", tensor: "kv", type: "", constantNode: 0)])]
        g.edges = [.init(source: 0, target: 1, tensor: "kv")]
        let renderer = try GraphRenderer(g)
        XCTAssertFalse(try renderer.render().svg.contains("data-id=\"k\""), "folded by default")
        var o = RenderOptions()
        o.problems.add("k", .error, "schema: bad value")
        XCTAssertTrue(try renderer.render(o).svg.contains("class=\"gs-node gs-problem\" data-id=\"k\""))
    }

    func testAnInferredShapeLabelsAnEdgeWhoseDeclaredTypeHasNone() throws {
        // `y` is declared `float` without a shape (as broken.onnx's outputs are); inference knows it.
        let g = Graph(name: "g", nodes: [Node(opType: "Relu", name: "r", inputs: ["x"], outputs: ["y"])],
                      inputs: [ValueInfo(name: "x", type: .tensor(.float, TensorShape(static: [2, 3])))],
                      outputs: [ValueInfo(name: "y", type: .tensor(.float, nil))])
        let plain = try GraphRenderer(g).render()
        XCTAssertFalse(plain.svg.contains(">2×5</text>"))
        let inferred = try GraphRenderer(g, inferred: ["y": .tensor(.float, TensorShape(static: [2, 5]))]).render()
        XCTAssertTrue(inferred.svg.contains(">2×5</text>"), "the inferred shape labels the edge")
        XCTAssertTrue(inferred.svg.contains(">2×3</text>"), "declared shapes still win where given")
    }

    func testNeighbourhoodKeepsTheRingsAroundNodesWithinTheLimit() throws {
        let graph = SyntheticGraphs.transformer(layers: 4, targetNodes: 2000)
        let center = graph.nodes[graph.nodes.count / 2].id
        let part = graph.neighbourhood(of: [center], hops: 2, limit: 200)
        XCTAssertNoThrow(try part.graph.validate())
        XCTAssertTrue(part.graph.nodes.contains { $0.id == center })
        XCTAssertEqual(part.hops, 2)
        XCTAssertLessThan(part.graph.nodes.count, 60, "two rings of a transformer are small")
        // Every kept node is within two steps of the centre in the original graph.
        var adjacent: [String: Set<String>] = [:]
        for e in graph.edges {
            adjacent[graph.nodes[e.source].id, default: []].insert(graph.nodes[e.target].id)
            adjacent[graph.nodes[e.target].id, default: []].insert(graph.nodes[e.source].id)
        }
        let ring1 = adjacent[center] ?? []
        let ring2 = ring1.reduce(into: ring1) { $0.formUnion(adjacent[$1] ?? []) }
        for n in part.graph.nodes where n.id != center && n.kind != .constant {
            XCTAssertTrue(ring2.contains(n.id), "\(n.id) is more than two steps away")
        }
        // Edges keep their tensors and join the same nodes as before.
        for e in part.graph.edges {
            let s = part.graph.nodes[e.source].id, t = part.graph.nodes[e.target].id
            XCTAssertTrue(graph.edges.contains { graph.nodes[$0.source].id == s && graph.nodes[$0.target].id == t && $0.tensor == e.tensor })
        }
        // A tight limit stops growing before the ring that would pass it.
        let tight = graph.neighbourhood(of: [center], hops: 5, limit: 2)
        XCTAssertLessThanOrEqual(tight.graph.nodes.filter { !$0.isGraphBoundary && $0.kind != .constant }.count, 2)
        XCTAssertTrue(tight.graph.nodes.contains { $0.id == center })
    }
}
