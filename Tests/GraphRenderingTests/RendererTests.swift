// Tests of the drawing pipeline: collapse/expansion choices, overlays and their rollups, the
// SVG (valid XML, tooltips, stable ids, legend), the HTML viewer, DOT export, caching on
// expansion, and the GraphIR adapter.
import XCTest
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import GraphIR
@testable import GraphRendering

final class RendererTests: XCTestCase {
    private func isWellFormedXML(_ text: String) -> Bool {
        let parser = XMLParser(data: Data(text.utf8))
        return parser.parse()
    }

    /// A hand-made graph: input -> enc/{MatMul, Relu} -> head/{Gemm, Softmax} -> output.
    private func smallGraph() -> RenderGraph {
        var g = RenderGraph(name: "small <&> graph")
        g.nodes = [
            .init(id: "x", op: "Input", outputs: ["x: float32[1,8]"], kind: .graphInput),
            .init(id: "enc/MatMul_0", op: "MatMul", path: ["enc"], attributes: [("transB", "1")], inputs: ["x: float32[1,8]"], outputs: ["h: float32[1,16]"]),
            .init(id: "enc/Relu_0", op: "Relu", path: ["enc"]),
            .init(id: "head/Gemm_0", op: "Gemm", path: ["head"]),
            .init(id: "head/Softmax_0", op: "Softmax", path: ["head"]),
            .init(id: "logits", op: "Output", kind: .graphOutput),
        ]
        g.edges = [.init(source: 0, target: 1, tensor: "x", shape: "1x8"), .init(source: 1, target: 2, tensor: "h", shape: "1x16"),
                   .init(source: 2, target: 3, tensor: "r", shape: "1x16"), .init(source: 3, target: 4, tensor: "y"),
                   .init(source: 4, target: 5, tensor: "p", shape: "1x4")]
        return g
    }

    func testSVGIsValidXMLWithTooltipsIdsAndLegend() throws {
        var o = RenderOptions(); o.expandAll = true
        let result = try GraphRenderer.render(smallGraph(), options: o)
        XCTAssertTrue(isWellFormedXML(result.svg))
        XCTAssertTrue(result.svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        XCTAssertTrue(result.svg.contains("small &lt;&amp;&gt; graph"))
        for id in ["enc/MatMul_0", "enc/Relu_0", "head/Gemm_0", "head/Softmax_0"] {
            XCTAssertTrue(result.svg.contains("class=\"gs-node\" data-id=\"\(id)\""), id)
        }
        XCTAssertTrue(result.svg.contains("transB = 1"), "key attributes in the tooltip")
        XCTAssertTrue(result.svg.contains("h: float32[1,16]"), "output shapes in the tooltip")
        XCTAssertTrue(result.svg.contains("data-id=\"enc/MatMul_0->enc/Relu_0\""), "edges carry stable ids")
        XCTAssertTrue(result.svg.contains(">1x16</text>"), "edges are labelled with shapes")
        XCTAssertTrue(result.svg.contains("class=\"gs-frame\" data-id=\"enc\""))
        XCTAssertTrue(result.svg.contains("matmul / gemm") && result.svg.contains("activation"), "legend lists present categories")
        XCTAssertFalse(result.svg.contains("normalization"), "legend lists only present categories")
        XCTAssertFalse(result.svg.contains("http://") && result.svg.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http://"))
        // Four op nodes, and the graph's input and output boxes counted apart.
        XCTAssertEqual(result.stats.visibleNodes, 4)
        XCTAssertEqual(result.stats.totalNodes, 4)
        XCTAssertEqual(result.stats.boundaryNodes, 2)
        XCTAssertEqual(result.stats.expandedGroups, 2)
        XCTAssertEqual(auditLayout(result.visible.layoutGraph, result.layout), [])
    }

    func testHTMLViewerIsSelfContained() throws {
        let result = try GraphRenderer.render(smallGraph())
        XCTAssertTrue(result.html.contains(result.svg), "the SVG is the static fallback inside the viewer")
        XCTAssertTrue(result.html.contains("addEventListener('wheel'"))
        XCTAssertTrue(result.html.contains("type=\"search\""))
        XCTAssertFalse(result.html.contains("fetch("))
        XCTAssertFalse(result.html.contains("src="))
        XCTAssertTrue(isWellFormedXML(result.html), "the fragment is also well-formed XML")
    }

    func testNodesCarryTheirModelNameForSearch() throws {
        var g = smallGraph()
        g.nodes[1].name = "encoder.layer0.MatMul"
        var o = RenderOptions(); o.expandAll = true
        let result = try GraphRenderer.render(g, options: o)
        XCTAssertTrue(result.svg.contains("data-id=\"enc/MatMul_0\" data-op=\"MatMul\" data-category=\"matmul\" data-name=\"encoder.layer0.MatMul\""))
        XCTAssertFalse(result.svg.contains("data-name=\"enc/Relu_0\""), "no data-name when the name is the id")
        XCTAssertTrue(result.html.contains("'data-name'"), "the viewer's search looks at names")
    }

    func testDefaultViewKeepsAbout150BoxesAndFocusExpands() throws {
        let graph = SyntheticGraphs.transformer(layers: 24, targetNodes: 3000)
        let renderer = try GraphRenderer(graph)
        let view = try renderer.render()
        XCTAssertLessThanOrEqual(view.stats.visibleBoxes, 150)
        XCTAssertGreaterThan(view.stats.visibleBoxes, 10)
        XCTAssertTrue(view.svg.contains("class=\"gs-group\" data-id=\"model/layers.3\""))

        var focus = RenderOptions(); focus.focusPath = "model/layers.3"; focus.depth = 2
        let opened = try renderer.render(focus)
        XCTAssertTrue(opened.svg.contains("class=\"gs-frame\" data-id=\"model/layers.3\""))
        XCTAssertTrue(opened.svg.contains("class=\"gs-frame\" data-id=\"model/layers.3/attn\""))
        XCTAssertTrue(opened.svg.contains("class=\"gs-group\" data-id=\"model/layers.3/attn/q_proj\""), "depth 2 stops below attn")
        XCTAssertTrue(opened.svg.contains("class=\"gs-group\" data-id=\"model/layers.4\""), "siblings stay collapsed")
        XCTAssertEqual(auditLayout(opened.visible.layoutGraph, opened.layout), [])

        var bad = RenderOptions(); bad.focusPath = "model/nope"
        XCTAssertThrowsError(try renderer.render(bad)) { XCTAssertEqual($0 as? RenderError, .unknownPath("model/nope")) }

        var all = RenderOptions(); all.expandAll = true
        let full = try renderer.render(all)
        XCTAssertEqual(full.stats.visibleNodes, graph.nodes.count)
        XCTAssertEqual(auditLayout(full.visible.layoutGraph, full.layout), [])
    }

    func testExpandingOneGroupReusesCachedLevels() throws {
        let renderer = try GraphRenderer(SyntheticGraphs.transformer(layers: 8, targetNodes: 2000))
        let cache = LayoutCache()
        var o = RenderOptions(); o.expandedGroups = ["model/layers.1", "model/layers.2"]
        _ = try renderer.render(o, cache: cache)
        o.expandedGroups.insert("model/layers.5")
        let second = try renderer.render(o, cache: cache)
        XCTAssertGreaterThan(second.stats.levelsReused, 0)
        XCTAssertLessThanOrEqual(second.stats.levelsComputed, 3, "only the new group and its ancestors")
    }

    func testOverlayRollupsAndColours() throws {
        let graph = smallGraph()
        let values = ["enc/MatMul_0": 40.0, "enc/Relu_0": 2.0, "head/Gemm_0": 8.0, "p": 1.0] // "p" is Softmax's output tensor
        for (rollup, expected) in [(Overlay.Rollup.sum, 42.0), (.max, 40.0), (.mean, 21.0)] {
            var o = RenderOptions()
            o.overlay = Overlay(name: "latency", values: values, rollup: rollup)
            o.maxVisibleBoxes = 3 // forces both groups collapsed
            let vis = try GraphRenderer(graph).visible(o)
            guard let encBox = vis.items.firstIndex(of: .collapsedGroup(0)) else { return XCTFail("enc not collapsed") }
            XCTAssertEqual(vis.values[encBox], expected, "\(rollup)")
            XCTAssertEqual(vis.labels[encBox].prefix(3), ["enc", "2 nodes", "MatMul 1 · Relu 1"], "collapsed boxes summarise their ops")
            guard let headBox = vis.items.firstIndex(of: .collapsedGroup(1)) else { return XCTFail("head not collapsed") }
            XCTAssertEqual(vis.values[headBox], rollup == .mean ? 4.5 : rollup == .sum ? 9 : 8, "tensor-name keys land on the producer")
        }
        let gradient = Overlay(name: "t", values: [:], coloring: .gradient([.init(stop: 0, color: "#000000"), .init(stop: 1, color: "#ffffff")]))
        XCTAssertEqual(gradient.color(for: 0, range: (0, 10)), "#000000")
        XCTAssertEqual(gradient.color(for: 10, range: (0, 10)), "#ffffff")
        XCTAssertEqual(gradient.color(for: 5, range: (0, 10)), "#808080")
        let buckets = Overlay(name: "max abs error", values: [:], coloring: .thresholds([.init(value: 0.01, color: "green"), .init(value: 1, color: "#ff0000")]))
        XCTAssertEqual(buckets.color(for: 0.001, range: (0, 1)), "green")
        XCTAssertEqual(buckets.color(for: 0.5, range: (0, 1)), "#ff0000")
        XCTAssertNil(buckets.color(for: 5, range: (0, 1)))
        XCTAssertEqual(buckets.rollup, .max, "error-like figures roll up by max")

        var o = RenderOptions(); o.expandAll = true
        o.overlay = Overlay(name: "latency", values: values, coloring: .gradient([.init(stop: 0, color: "#00ff00"), .init(stop: 1, color: "#ff0000")]))
        let svg = try GraphRenderer.render(graph, options: o).svg
        XCTAssertTrue(svg.contains("data-value=\"40\""))
        XCTAssertTrue(svg.contains("fill=\"#ff0000\""), "the maximum gets the last stop")
        XCTAssertTrue(svg.contains("linearGradient"), "gradient legend")
    }

    func testModelExplorerNodeDataParses() throws {
        let single = """
        {"name": "max abs error", "results": {"enc/MatMul_0": {"value": 0.0004}, "head/Gemm_0": {"value": 0.3, "bgColor": "#123456"}},
         "thresholds": [{"value": 0.001, "bgColor": "#c8e6c9"}, {"value": 1.0, "bgColor": "#ffcdd2"}]}
        """
        let overlay = try Overlay(modelExplorerJSON: Data(single.utf8))
        XCTAssertEqual(overlay.name, "max abs error")
        XCTAssertEqual(overlay.values["head/Gemm_0"], 0.3)
        XCTAssertEqual(overlay.colors["head/Gemm_0"], "#123456")
        XCTAssertEqual(overlay.coloring, .thresholds([.init(value: 0.001, color: "#c8e6c9"), .init(value: 1.0, color: "#ffcdd2")]))
        let model = """
        {"main": {"name": "lat", "rollup": "mean", "results": {"x": {"value": 1}}, "gradient": [{"stop": 1, "bgColor": "red"}, {"stop": 0, "bgColor": "white"}]}}
        """
        let m = try Overlay(modelExplorerJSON: Data(model.utf8))
        XCTAssertEqual(m.rollup, .mean)
        XCTAssertEqual(m.coloring, .gradient([.init(stop: 0, color: "white"), .init(stop: 1, color: "red")]))
        XCTAssertThrowsError(try Overlay(modelExplorerJSON: Data("[1]".utf8)))
        XCTAssertThrowsError(try Overlay(modelExplorerJSON: Data("{\"a\": 1}".utf8)))
        XCTAssertThrowsError(try Overlay(modelExplorerJSON: Data("{\"results\": {}, \"rollup\": \"median\"}".utf8)))

        // The shared reference examples, when present.
        let shared = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/formats").standardized
        let alt = URL(fileURLWithPath: "/work/shared/formats")
        for dir in [shared, alt] {
            let file = dir.appendingPathComponent("model-explorer-example.nodedata.json")
            guard let data = try? Data(contentsOf: file) else { continue }
            let o = try Overlay(modelExplorerJSON: data)
            XCTAssertEqual(o.values["encoder/MatMul_0"], 41.5)
            if case .gradient(let stops) = o.coloring { XCTAssertEqual(stops.count, 3) } else { XCTFail("gradient expected") }
            return
        }
    }

    func testHighlightAndDirection() throws {
        var o = RenderOptions(); o.expandAll = true; o.highlighted = ["enc/Relu_0"]; o.direction = .leftToRight
        let r = try GraphRenderer.render(smallGraph(), options: o)
        XCTAssertTrue(r.svg.contains("stroke=\"#ff1744\" stroke-width=\"3\""))
        XCTAssertGreaterThan(r.layout.width, r.layout.height, "a chain drawn left to right is wide")
        XCTAssertEqual(auditLayout(r.visible.layoutGraph, r.layout), [])
    }

    func testDOTExportHasClustersAndAllEdges() throws {
        var o = RenderOptions(); o.expandAll = true
        let dot = try GraphRenderer(smallGraph()).dot(o)
        XCTAssertTrue(dot.hasPrefix("digraph G {"))
        XCTAssertEqual(dot.components(separatedBy: "subgraph cluster_").count - 1, 2)
        XCTAssertEqual(dot.components(separatedBy: " -> ").count - 1, 5)
        XCTAssertTrue(dot.contains("fixedsize=true"))
    }

    func testFlatChainWrapsAndSideBySide() throws {
        var all = RenderOptions(); all.expandAll = true
        let chain = try GraphRenderer.render(SyntheticGraphs.chain(600), options: all)
        XCTAssertGreaterThan(chain.stats.columns, 2)
        XCTAssertEqual(chain.stats.expandedGroups, 0, "expand all draws no artificial sections")
        XCTAssertEqual(auditLayout(chain.visible.layoutGraph, chain.layout), [])
        let small = try GraphRenderer.render(smallGraph())
        let both = sideBySideSVG(small, chain, titles: ("before", "after"))
        XCTAssertTrue(isWellFormedXML(both))
        XCTAssertTrue(both.contains("before") && both.contains("after"))
    }

    func testFlatGraphsGetSectionsInTheCollapsedView() throws {
        let renderer = try GraphRenderer(SyntheticGraphs.chain(1000))
        let overview = try renderer.render()
        XCTAssertEqual(overview.stats.collapsedGroups, 7, "1000 nodes in sections of at most 150")
        XCTAssertEqual(try GraphRenderer(SyntheticGraphs.chain(600)).render().stats.visibleNodes, 600, "smaller flat graphs are drawn whole")
        XCTAssertEqual(overview.stats.visibleNodes, 0)
        // Named by position and first..last node; the repeated Conv→BN→Relu→Add unit is a stage
        // cut into whole copies (250 copies of 4 ops, 36 copies a section).
        XCTAssertTrue(overview.svg.contains("data-id=\"s3_node_288..node_431\""), "sections are named by position and content")
        XCTAssertTrue(overview.svg.contains("node_288 … node_431"))
        XCTAssertTrue(overview.svg.contains("stage ×36 of 250: Conv→BatchNorm→Relu→Add"))
        XCTAssertFalse(overview.svg.contains("section_"))
        XCTAssertTrue(renderer.knowsGroup("s3_node_288..node_431"))
        XCTAssertTrue(renderer.knowsGroup("/s3_node_288..node_431/"))
        XCTAssertFalse(renderer.knowsGroup("section_3_of_7"))
        XCTAssertEqual(renderer.sectionPaths().count, 7)
        var focus = RenderOptions(); focus.focusPath = "s3_node_288..node_431"
        let opened = try renderer.render(focus)
        XCTAssertEqual(opened.stats.visibleNodes, 144)
        XCTAssertEqual(opened.stats.collapsedGroups, 6)
        XCTAssertEqual(auditLayout(opened.visible.layoutGraph, opened.layout), [])
        // A node id as focus opens its section.
        focus.focusPath = "node_999"
        XCTAssertTrue(try renderer.render(focus).svg.contains("class=\"gs-node\" data-id=\"node_999\""))
    }

    func testInvalidGraphIsRejected() {
        var g = smallGraph()
        g.edges.append(.init(source: 0, target: 99, tensor: "bad"))
        XCTAssertThrowsError(try GraphRenderer(g)) { XCTAssertTrue("\($0)".contains("edge 5 ('bad')")) }
        g = smallGraph(); g.nodes[1].id = "x"
        XCTAssertThrowsError(try GraphRenderer(g)) { XCTAssertTrue("\($0)".contains("'x' is used twice")) }
    }

    func testGraphIRAdapter() throws {
        func f32(_ d: Int64...) -> ValueType { .tensor(.float, TensorShape(static: d)) }
        let g = Graph(name: "tiny",
                      nodes: [Node(opType: "MatMul", name: "/enc/MatMul", inputs: ["x", "w"], outputs: ["h"]),
                              Node(opType: "Relu", name: "/enc/Relu", inputs: ["h"], outputs: ["r"]),
                              Node(opType: "Softmax", name: "/head/Softmax", inputs: ["r"], outputs: ["y"],
                                   attributes: [Attribute("axis", .int(-1))])],
                      inputs: [ValueInfo(name: "x", type: f32(1, 8))],
                      outputs: [ValueInfo(name: "y", type: f32(1, 4))],
                      valueInfo: [ValueInfo(name: "h", type: f32(1, 4))])
        let rg = RenderGraph(g)
        XCTAssertEqual(rg.nodes.map(\.op), ["Input", "MatMul", "Relu", "Softmax", "Output"])
        XCTAssertEqual(rg.nodes[1].path, ["enc"])
        XCTAssertEqual(rg.edges.count, 4, "x->MatMul, MatMul->Relu, Relu->Softmax, Softmax->y; the weight w is not a node")
        XCTAssertEqual(rg.edges.first(where: { $0.tensor == "h" })?.shape, "1×4")
        var o = RenderOptions(); o.expandAll = true
        let r = try GraphRenderer.render(g, options: o)
        XCTAssertTrue(r.svg.contains("axis = -1"))
        XCTAssertTrue(r.svg.contains("data-id=\"input:x\""))
        XCTAssertTrue(isWellFormedXML(r.svg))
    }

    /// A body drawn on its own shows the enclosing graph's values it reads as inputs (else its
    /// first nodes float unconnected), and unnamed nodes carry GraphIR's display name.
    func testBodyDrawsOuterValuesAsInputs() throws {
        let body = Graph(name: "then", nodes: [Node(opType: "Neg", inputs: ["x"], outputs: ["a"]),
                                               Node(opType: "Add", name: "add", inputs: ["a", "x"], outputs: ["t"])],
                         outputs: [ValueInfo(name: "t"), ValueInfo(name: "x")], isSubgraph: true, firstNodeID: 40)
        let rg = RenderGraph(body)
        XCTAssertEqual(rg.nodes.map(\.id), ["outer:x", "n40", "n41", "output:t", "output:x"])
        XCTAssertEqual(rg.nodes[1].name, "Neg_40")
        let outer = rg.nodes.firstIndex { $0.id == "outer:x" }
        XCTAssertEqual(rg.edges.filter { $0.source == outer }.count, 3, "x feeds Neg, Add and the body output x")
    }

    /// A node whose twelve outputs each feed their own consumer, plus twelve producers feeding
    /// one Concat: every edge leaves (or enters) one box, where midpoint labels used to pile up.
    private func fanGraph() -> RenderGraph {
        var g = RenderGraph(name: "fan")
        g.nodes = [.init(id: "split", op: "Split"), .init(id: "concat", op: "Concat")]
        for k in 0..<12 {
            g.nodes.append(.init(id: "branch\(k)", op: "Relu"))
            g.nodes.append(.init(id: "pre\(k)", op: "Conv"))
        }
        for k in 0..<12 {
            g.edges.append(.init(source: 0, target: 2 + 2 * k, tensor: "s\(k)", shape: "1×64×56×56"))
            g.edges.append(.init(source: 3 + 2 * k, target: 1, tensor: "p\(k)", shape: "1×128×28×28"))
        }
        return g
    }

    func testEdgeLabelsNeverOverlapBoxesOrEachOther() throws {
        let renderer = try GraphRenderer(fanGraph())
        for direction in LayoutDirection.allCases {
            var options = RenderOptions()
            options.direction = direction
            let result = try renderer.render(options)
            let labels = result.edgeLabels.labels
            XCTAssertEqual(auditEdgeLabels(labels, layout: result.layout, direction: direction), [], "\(direction)")
            XCTAssertEqual(labels.count + result.edgeLabels.dropped, 24, "one request per produced tensor")
            XCTAssertGreaterThanOrEqual(labels.count, 6, "\(direction): labels find spots clear of the fan's lines")
            for l in labels {
                XCTAssertTrue(result.svg.contains(">\(l.text)</text>"))
                // Beside its own edge as drawn: within a few pixels of it.
                let drawn = sampleEdgeCurve(result.layout.edges[l.edge], leftToRight: direction == .leftToRight, spacing: 0.5)
                let near = drawn.contains { l.box.boundaryDistance($0) <= EdgeLabelStyle().gap + 0.5 }
                XCTAssertTrue(near, "label '\(l.text)' of edge \(l.edge) is away from its edge")
            }
        }
        var off = RenderOptions()
        off.edgeLabels = false
        let plain = try renderer.render(off)
        XCTAssertTrue(plain.edgeLabels.labels.isEmpty)
        XCTAssertFalse(plain.svg.contains("1×64×56×56</text>"))
    }

    func testLabelPlacementKeepsClearOfObstaclesAndDropsWhatDoesNotFit() {
        // One vertical edge between two boxes; an obstacle right of it.
        let layout = GraphLayout(boxes: [Rect(x: 100, y: 0, width: 40, height: 20), Rect(x: 100, y: 200, width: 40, height: 20)],
                                 groups: [], edges: [[Point(x: 120, y: 20), Point(x: 120, y: 200)]], width: 300, height: 240,
                                 crossings: 0, levelsComputed: 1, levelsReused: 0, columns: 1)
        let obstacle = Rect(x: 122, y: 20, width: 100, height: 180)
        let placed = placeEdgeLabels([EdgeLabelRequest(edge: 0, text: "1×3"), EdgeLabelRequest(edge: 0, text: "2×3")],
                                     layout: layout, obstacles: [obstacle])
        XCTAssertEqual(placed.labels.count, 2)
        for l in placed.labels {
            XCTAssertFalse(l.box.overlaps(obstacle))
            XCTAssertLessThan(l.box.maxX, 120, "left of the edge, since the right is taken")
        }
        XCTAssertFalse(placed.labels[0].box.overlaps(placed.labels[1].box))
        // A label too wide for any free spot is dropped, not drawn over something.
        let wall = [Rect(x: 0, y: 0, width: 118, height: 240), obstacle]
        let none = placeEdgeLabels([EdgeLabelRequest(edge: 0, text: String(repeating: "9", count: 40))], layout: layout, obstacles: wall)
        XCTAssertEqual(none.labels, [])
        XCTAssertEqual(none.dropped, 1)
        // Requests for edges that do not exist are dropped too.
        XCTAssertEqual(placeEdgeLabels([EdgeLabelRequest(edge: 7, text: "x")], layout: layout).dropped, 1)
    }
}
