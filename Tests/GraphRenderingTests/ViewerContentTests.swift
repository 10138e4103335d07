// What the viewer shows, checked on the drawing's content: weights and constants folded into
// their consumers (and `constants=boxes`), readable shape labels, sections named by position
// with repeated stages, a legend whose entries never overlap, the side panel's JSON block and
// the focus mark of `show PATH`.
import XCTest
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import GraphIR
import GraphOps
@testable import GraphRendering

final class ViewerContentTests: XCTestCase {
    private func f32(_ d: Int64...) -> ValueType { .tensor(.float, TensorShape(static: d)) }

    /// x -> Conv(W initializer, B from a Constant) -> Relu -> y, plus a Constant `k` that is also
    /// a graph output (so it must stay a box) and feeds an Add.
    private func convGraph() -> Graph {
        let bias = Tensor(name: "b_value", floats: [Float](repeating: 0, count: 64), dims: [64])
        let k = Tensor(name: "k_value", floats: [1], dims: [1])
        let w = Tensor(name: "conv.weight", floats: [Float](repeating: 0, count: 64 * 27), dims: [64, 3, 3, 3])
        return Graph(name: "conv",
                     nodes: [Node(opType: "Constant", name: "bias_const", inputs: [], outputs: ["conv.bias"],
                                  attributes: [Attribute("value", .tensor(bias))]),
                             Node(opType: "Constant", name: "k_const", inputs: [], outputs: ["k"],
                                  attributes: [Attribute("value", .tensor(k))]),
                             Node(opType: "Conv", name: "conv", inputs: ["x", "conv.weight", "conv.bias"], outputs: ["c"]),
                             Node(opType: "Relu", name: "relu", inputs: ["c"], outputs: ["r"]),
                             Node(opType: "Add", name: "add", inputs: ["r", "k"], outputs: ["y"])],
                     inputs: [ValueInfo(name: "x", type: .tensor(.float, TensorShape([.symbolic("batch"), .known(3), .symbolic("unk__7"), .unknown])))],
                     outputs: [ValueInfo(name: "y", type: f32(1, 64, 8, 8)), ValueInfo(name: "k", type: f32(1))],
                     initializers: [w])
    }

    func testConstantsFoldIntoTheirConsumersByDefault() throws {
        let g = convGraph()
        let rg = RenderGraph(g)
        XCTAssertEqual(rg.nodes.filter { $0.kind == .constant }.map(\.name), ["bias_const", "k_const"], "decided by structure")
        let conv = try XCTUnwrap(rg.nodes.first { $0.name == "conv" })
        XCTAssertEqual(conv.folded.map(\.line), ["W float[64,3,3,3]", "B float[64]"])
        var all = RenderOptions(); all.expandAll = true
        let renderer = try GraphRenderer(rg)
        let folded = try renderer.render(all)
        // bias_const folds into Conv; k_const feeds a graph output, so it stays a box.
        XCTAssertEqual(folded.stats.foldedConstants, 1)
        XCTAssertFalse(folded.svg.contains("data-name=\"bias_const\""))
        XCTAssertTrue(folded.svg.contains("data-name=\"k_const\""))
        XCTAssertTrue(folded.svg.contains(">W float[64,3,3,3]</tspan>"), "weights listed in the consumer's box")
        XCTAssertTrue(folded.svg.contains(">B float[64]</tspan>"))
        XCTAssertTrue(folded.stats.summary.contains("1 constants folded"))
        var boxes = all; boxes.constants = .boxes
        let drawn = try renderer.render(boxes)
        XCTAssertEqual(drawn.stats.foldedConstants, 0)
        XCTAssertTrue(drawn.svg.contains("data-name=\"bias_const\""), "constants=boxes keeps the Constant boxes")
        XCTAssertFalse(drawn.svg.contains("W float[64,3,3,3]</tspan>"))
        XCTAssertEqual(drawn.stats.visibleNodes, folded.stats.visibleNodes + 1)
        XCTAssertEqual(auditLayout(folded.visible.layoutGraph, folded.layout), [])
        // Asking for a folded constant by name draws it (as a box) instead of failing.
        var focus = RenderOptions(); focus.focusPath = "bias_const"
        let shown = try renderer.render(focus)
        XCTAssertTrue(shown.svg.contains("data-name=\"bias_const\""))
        XCTAssertTrue(shown.html.contains("data-focus="))
    }

    func testFoldingIsStructuralNotByName() throws {
        // A node named like a constant but with a real input is an op; a Constant-op node with
        // no uses stays a box (nothing to fold into).
        var g = RenderGraph(name: "names")
        g.nodes = [.init(id: "in", op: "Input", kind: .graphInput),
                   .init(id: "Constant_1", op: "Relu"),
                   .init(id: "c", op: "Constant", kind: .constant),
                   .init(id: "dead", op: "Constant", kind: .constant),
                   .init(id: "add", op: "Add", folded: [.init(slot: "B", tensor: "cv", type: "float[1]", constantNode: 2)])]
        g.edges = [.init(source: 0, target: 1, tensor: "a"), .init(source: 1, target: 4, tensor: "b"), .init(source: 2, target: 4, tensor: "cv")]
        XCTAssertEqual(g.foldableConstants(), [false, false, true, false, false])
        let folded = try XCTUnwrap(g.foldingConstants())
        XCTAssertEqual(folded.removed, 1)
        XCTAssertEqual(folded.graph.nodes.map(\.id), ["in", "Constant_1", "dead", "add"])
        XCTAssertEqual(folded.graph.nodes[3].folded, [.init(slot: "B", tensor: "cv", type: "float[1]")])
        XCTAssertNoThrow(try folded.graph.validate())
    }

    func testShapesReadWithTimesSignsAndQuestionMarks() throws {
        let rg = RenderGraph(convGraph())
        let edge = try XCTUnwrap(rg.edges.first { $0.tensor == "x" })
        XCTAssertEqual(edge.shape, "batch×3×?×?", "generated unk__N names and unknown dims print as ?")
        XCTAssertEqual(readableShape([]), "scalar")
        XCTAssertEqual(readableDim(.symbolic("unk_7")), "unk_7", "only shape inference's own names are hidden")
        // Expressions are bracketed, so the × between dims never reads as part of one.
        XCTAssertEqual(readableShape([.symbolic("x_d0"), .known(8), .symbolic("(x_d2-1)/2+1"), .symbolic("2*seq")]),
                       "x_d0×8×((x_d2-1)/2+1)×(2*seq)")
        XCTAssertEqual(readableShape([.symbolic("(seq+1)"), .symbolic("-seq"), .symbolic("batch")]), "(seq+1)×-seq×batch")
        let r = try GraphRenderer.render(convGraph())
        XCTAssertTrue(r.svg.contains(">batch×3×?×?</text>"))
        XCTAssertFalse(r.svg.contains("unk__"))
    }

    func testLegendEntriesNeverOverlap() throws {
        // Widest glyph advance of an 11 px sans-serif: any two entries must stay apart at it.
        let titles = OpCategory.allCases.map(\.title)
        for width in [120.0, 360, 520, 800, 2000] {
            let boxes = legendLayout(titles, width: width, top: 24)
            for (i, a) in boxes.enumerated() {
                XCTAssertEqual(a.width, 18 + Double(titles[i].count) * 7.0)
                for b in boxes[(i + 1)...] { XCTAssertFalse(a.overlaps(b), "width \(width): \(a) overlaps \(b)") }
            }
        }
        // In the SVG: consecutive entries on a line start after the previous text ends.
        var g = RenderGraph(name: "all categories")
        // One op of every category (GraphOps' table), so the legend shows all of them in allCases order.
        g.nodes = ["Conv", "MaxPool", "MatMul", "Attention", "BatchNormalization", "Relu", "Add", "ReduceMean", "Reshape",
                   "QuantizeLinear", "LSTM", "If", "Constant", "Foo"]
            .enumerated().map { .init(id: "n\($0.offset)", op: $0.element) }
        for i in 1..<g.nodes.count { g.edges.append(.init(source: i - 1, target: i)) }
        let svg = try GraphRenderer.render(g).svg
        let xs = svg.components(separatedBy: "class=\"gs-legend-item\"").dropFirst().map { part -> (Double, Double) in
            func attr(_ n: String) -> Double {
                let r = part.range(of: " \(n)=\"")!
                return Double(part[r.upperBound...].prefix { $0 != "\"" })!
            }
            return (attr("x"), attr("y"))
        }
        XCTAssertEqual(xs.count, OpCategory.allCases.count)
        for (k, (a, b)) in zip(xs, xs.dropFirst()).enumerated() where a.1 == b.1 {
            XCTAssertGreaterThanOrEqual(b.0, a.0 + 18 + Double(titles[k].count) * 7.0, "entry \(k + 1) starts inside entry \(k)")
        }
    }

    func testHTMLCarriesPanelDetailsAndFocus() throws {
        var o = RenderOptions(); o.expandAll = true
        let r = try GraphRenderer.render(convGraph(), options: o)
        let json = try XCTUnwrap(r.html.components(separatedBy: "class=\"gs-data\">").dropFirst().first?.components(separatedBy: "</script>").first)
        let parsed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let nodes = try XCTUnwrap(parsed["nodes"] as? [String: [String: Any]])
        XCTAssertEqual(nodes.count, r.stats.visibleNodes + r.stats.boundaryNodes, "one entry per drawn box")
        let conv = try XCTUnwrap(nodes.values.first { $0["n"] as? String == "conv" })
        XCTAssertEqual(conv["o"] as? String, "Conv")
        XCTAssertEqual(conv["w"] as? [String], ["W = conv.weight: float[64,3,3,3]", "B = conv.bias: float[64]"])
        XCTAssertEqual(conv["i"] as? [String], ["x: float[batch,3,?,?]", "conv.weight: float[64,3,3,3]", "conv.bias: float[64]"])
        XCTAssertTrue(r.html.contains("class=\"gs-panel\"") && r.html.contains("class=\"gs-close\""))
        XCTAssertTrue(r.html.contains("e.key==='Escape'"))
        XCTAssertFalse(r.html.contains("data-focus="), "no focus without a path")
        let parser = XMLParser(data: Data(r.html.utf8))
        XCTAssertTrue(parser.parse(), "the fragment stays well-formed XML")

        // Script-breaking text in names is escaped inside the JSON block.
        var evil = RenderGraph(name: "evil")
        evil.nodes = [.init(id: "a", name: "</script><b>&amp;", op: "Relu")]
        let e = try GraphRenderer.render(evil).html
        XCTAssertFalse(e.contains("</script><b>"))
        XCTAssertTrue(e.contains("\\u003c/script\\u003e\\u003cb\\u003e\\u0026amp;"))
    }

    func testShowPathMarksTheFocusedElement() throws {
        let graph = SyntheticGraphs.transformer(layers: 4, targetNodes: 600)
        let renderer = try GraphRenderer(graph)
        let group = try XCTUnwrap(renderer.hierarchy.groups.first { $0.depth == 2 }).id
        var o = RenderOptions(); o.focusPath = "/" + group + "/"
        let r = try renderer.render(o)
        XCTAssertTrue(r.html.contains("data-focus=\"\(group)\""))
        XCTAssertTrue(r.svg.contains("class=\"gs-frame\" data-id=\"\(group)\""), "the focused group is open and framed")
        // A node focus names the node's own box.
        let node = graph.nodes[graph.nodes.count / 2]
        o.focusPath = node.id
        XCTAssertTrue(try renderer.render(o).html.contains("data-focus=\"\(node.id)\""))
    }

    func testRepeatedStagesAreFoundAndPlannedInWholeCopies() {
        // 5 ops of lead-in, 6 copies of a 3-op unit, then 40 distinct ops.
        let unit = ["Conv", "BatchNormalization", "Relu"]
        var ops = ["Input", "Pad", "Transpose", "Cast", "Mul"]
        for _ in 0..<6 { ops += unit }
        ops += (0..<40).map { "Op\($0)" }
        let codes = ops.map { op in ops.firstIndex(of: op)! }
        let repeats = findRepeats(codes, maxPeriod: 50, minCovered: 12)
        XCTAssertEqual(repeats, [Repeat(start: 5, period: 3, copies: 6)])
        let names = ops.indices.map { "n\($0)" }
        let plans = planSections(ops: ops, names: names, size: 20)
        let stage = plans.first { $0.summary.hasPrefix("stage") }
        XCTAssertEqual(stage?.summary, "stage ×6: Conv→BatchNorm→Relu")
        XCTAssertEqual(stage?.members, 5..<23)
        XCTAssertEqual(stage?.title, "n5 … n22")
        XCTAssertEqual(plans.map(\.members.count).reduce(0, +), ops.count, "every node in exactly one section")
        XCTAssertEqual(plans.first?.segment, "s1_n0..n4", "numbered from 1 in flow order")
        XCTAssertEqual(Set(plans.map(\.segment)).count, plans.count, "unique names")
        XCTAssertTrue(plans.allSatisfy { !$0.segment.contains("/") && !$0.segment.contains(" ") })
        XCTAssertEqual(pathSafe("/model/layers.0/attn/MatMul"), "del_layers.0_attn_MatMul")
        XCTAssertFalse(pathSafe("a b/c=d$").contains(where: { " /=$".contains($0) }))
    }

    func testLongFlatLevelsWrapToTheViewersShape() throws {
        // A flat 300-node chain: wrapped towards the 640 x 1100 viewer it is wider than tall, so
        // fitting it in the stage draws it larger than the old square wrap did.
        let renderer = try GraphRenderer(SyntheticGraphs.chain(300))
        let viewer = try renderer.render()
        var squareOptions = RenderOptions(); squareOptions.viewerWidth = nil
        let square = try renderer.render(squareOptions)
        func fitScale(_ r: RenderResult) -> Double { min(1100 / r.stats.width, 640 / r.stats.height) }
        XCTAssertGreaterThan(viewer.stats.width, viewer.stats.height)
        XCTAssertGreaterThan(viewer.stats.columns, square.stats.columns)
        XCTAssertGreaterThan(fitScale(viewer), fitScale(square) * 1.15)
        XCTAssertEqual(auditLayout(viewer.visible.layoutGraph, viewer.layout), [])
    }

    func testPanelDetailsCarryOverlayFiguresForNodesAndGroups() throws {
        var g = RenderGraph(name: "overlay")
        g.nodes = [.init(id: "a", op: "MatMul", path: ["enc"]), .init(id: "b", op: "Relu", path: ["enc"]), .init(id: "c", op: "Softmax")]
        g.edges = [.init(source: 0, target: 1), .init(source: 1, target: 2)]
        var o = RenderOptions()
        o.overlay = Overlay(name: "latency (ms)", values: ["a": 2, "b": 3, "c": 0.5], rollup: .sum)
        o.maxVisibleBoxes = 2
        let r = try GraphRenderer.render(g, options: o)
        let json = try XCTUnwrap(r.html.components(separatedBy: "class=\"gs-data\">").dropFirst().first?.components(separatedBy: "</script>").first)
        let parsed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(parsed["overlay"] as? String, "latency (ms) (groups: sum)")
        XCTAssertEqual((parsed["nodes"] as? [String: [String: Any]])?["c"]?["v"] as? String, "0.5")
        XCTAssertEqual((parsed["groups"] as? [String: [String: Any]])?["enc"]?["v"] as? String, "5", "collapsed group: rolled-up figure")
        XCTAssertEqual((parsed["groups"] as? [String: [String: Any]])?["enc"]?["c"] as? Int, 2)
    }
}
