// Tests of the layout engine on its own small input (no GraphIR involved): geometry invariants
// (no overlaps, edges attached, frames containing members), ranks, crossings, wrapping, caching
// and the left-to-right transpose.
import XCTest
@testable import GraphRendering

final class LayoutEngineTests: XCTestCase {
    /// A diamond with a long skip edge, inside two nested groups, plus an outside consumer.
    func nestedGraph() -> LayoutGraph {
        var g = LayoutGraph()
        g.groups = [LayoutGraph.Group(id: "enc", headerWidth: 40),
                    LayoutGraph.Group(id: "enc/attn", parent: 0, headerWidth: 60)]
        let names = ["in", "q", "k", "v", "sm", "out", "mlp", "head"]
        let parents: [Int?] = [nil, 1, 1, 1, 1, 1, 0, nil]
        for (n, p) in zip(names, parents) { g.boxes.append(.init(id: n, width: 60 + Double(n.count) * 5, height: 28, parent: p)) }
        let pairs = [(0, 1), (0, 2), (0, 3), (1, 4), (2, 4), (4, 5), (3, 5), (5, 6), (0, 6), (6, 7), (1, 7)]
        g.edges = pairs.map { LayoutGraph.Edge(source: $0.0, target: $0.1) }
        return g
    }

    func testNestedLayoutInvariants() throws {
        let g = nestedGraph()
        for direction in LayoutDirection.allCases {
            var o = LayoutOptions(); o.direction = direction
            let layout = try layoutGraph(g, options: o)
            XCTAssertEqual(auditLayout(g, layout), [], "direction \(direction)")
            XCTAssertEqual(layout.edges.count, g.edges.count)
            XCTAssertGreaterThan(layout.width, 0)
            // Everything lies inside the drawing.
            for r in layout.boxes + layout.groups {
                XCTAssertGreaterThanOrEqual(r.minX, 0); XCTAssertLessThanOrEqual(r.maxX, layout.width + 0.01)
                XCTAssertGreaterThanOrEqual(r.minY, 0); XCTAssertLessThanOrEqual(r.maxY, layout.height + 0.01)
            }
        }
    }

    func testEdgesFlowDownInTopToBottomAndRightInLeftToRight() throws {
        var g = LayoutGraph()
        for i in 0..<4 { g.boxes.append(.init(id: "n\(i)", width: 50, height: 20)) }
        g.edges = [.init(source: 0, target: 1), .init(source: 1, target: 2), .init(source: 2, target: 3)]
        let tb = try layoutGraph(g)
        for i in 0..<3 { XCTAssertLessThan(tb.boxes[i].maxY, tb.boxes[i + 1].minY) }
        var o = LayoutOptions(); o.direction = .leftToRight
        let lr = try layoutGraph(g, options: o)
        for i in 0..<3 { XCTAssertLessThan(lr.boxes[i].maxX, lr.boxes[i + 1].minX) }
        XCTAssertEqual(auditLayout(g, lr), [])
    }

    func testCyclesAreBrokenAndStillAttached() throws {
        var g = LayoutGraph()
        for i in 0..<3 { g.boxes.append(.init(id: "n\(i)", width: 40, height: 20)) }
        g.edges = [.init(source: 0, target: 1), .init(source: 1, target: 2), .init(source: 2, target: 0), .init(source: 1, target: 1)]
        let layout = try layoutGraph(g)
        XCTAssertEqual(auditLayout(g, layout), [])
        XCTAssertTrue(layout.edges[3].isEmpty, "self loops are not routed")
    }

    func testConstantsAreRankedNextToTheirConsumer() {
        // 0 -> 1 -> 2 -> 3 and a constant 4 feeding 3: longest path alone would put 4 on rank 0.
        let ranks = assignRanks(nodeCount: 5, edges: [(0, 1, 1), (1, 2, 1), (2, 3, 1), (4, 3, 1)])
        XCTAssertEqual(ranks[4], ranks[3] - 1)
        XCTAssertEqual(ranks[0], 0)
    }

    func testCrossingReductionUntanglesABipartiteSwap() throws {
        // a0 a1 a2 on top, b0 b1 b2 below, wired in reverse: a good order has no crossings.
        var g = LayoutGraph()
        for i in 0..<6 { g.boxes.append(.init(id: "n\(i)", width: 30, height: 20)) }
        g.edges = [.init(source: 0, target: 5), .init(source: 1, target: 4), .init(source: 2, target: 3)]
        let layout = try layoutGraph(g)
        XCTAssertEqual(layout.crossings, 0)
        XCTAssertEqual(countGeometricCrossings(layout.edges), 0)
    }

    func testCrossingCounterCountsAKnownCrossing() {
        var g = LayeredGraph(rank: [0, 0, 1, 1], preds: [[], [], [1], [0]], succs: [[3], [2], [], []],
                             layers: [[0, 1], [2, 3]], pos: [0, 1, 0, 1])
        XCTAssertEqual(totalCrossings(g), 1)
        g.layers[1] = [3, 2]; g.refreshPositions(1)
        XCTAssertEqual(totalCrossings(g), 0)
        XCTAssertEqual(countGeometricCrossings([[Point(x: 0, y: 0), Point(x: 10, y: 10)], [Point(x: 10, y: 0), Point(x: 0, y: 10)]]), 1)
    }

    /// A proper layered graph from per-layer orders and edges between adjacent layers.
    private func layered(_ layers: [[Int]], _ edges: [(Int, Int)]) -> LayeredGraph {
        let n = layers.reduce(0) { $0 + $1.count }
        var rank = [Int](repeating: 0, count: n)
        for (r, layer) in layers.enumerated() { for v in layer { rank[v] = r } }
        var preds = [[Int]](repeating: [], count: n), succs = preds
        for (a, b) in edges { succs[a].append(b); preds[b].append(a) }
        var g = LayeredGraph(rank: rank, preds: preds, succs: succs, layers: layers, pos: [Int](repeating: 0, count: n))
        for r in 0..<layers.count { g.refreshPositions(r) }
        return g
    }

    func testChainSiftingMovesALongEdgePastALadderRung() {
        // An FPN rung: a skip edge s -> d1 -> d2 -> t runs right of the Resize r and its two
        // constants c1, c2, but the upsampled feature (u -> w) sits further right, so w -> r crosses the
        // chain. Every single adjacent swap of a dummy adds a crossing first (d1 past c2 crosses
        // c2 -> r), so transposition keeps it; moving the whole chain left removes it.
        // Layers: [s, u] / [c1, c2, d1, w] / [r, d2] / [t]; u -> w keeps u busy on the right.
        let s = 0, u = 1, c1 = 2, c2 = 3, d1 = 4, w = 5, r = 6, d2 = 7, t = 8
        var g = layered([[s, u], [c1, c2, d1, w], [r, d2], [t]],
                        [(s, d1), (d1, d2), (d2, t), (c1, r), (c2, r), (u, w), (w, r), (r, t)])
        let before = totalCrossings(g)
        XCTAssertEqual(before, 1)
        let gain = siftChains(&g, chains: [[d1, d2]], maxWork: 1_000)
        XCTAssertEqual(gain, 1)
        XCTAssertEqual(totalCrossings(g), 0)
        XCTAssertEqual(g.layers[2], [d2, r], "the chain now runs left of the rung")
        for v in 0..<9 { XCTAssertEqual(g.layers[g.rank[v]][g.pos[v]], v, "positions stay in sync") }
        // No budget: nothing moves.
        var h = layered([[s, u], [c1, c2, d1, w], [r, d2], [t]],
                        [(s, d1), (d1, d2), (d2, t), (c1, r), (c2, r), (u, w), (w, r), (r, t)])
        XCTAssertEqual(siftChains(&h, chains: [[d1, d2]], maxWork: 1), 0)
        XCTAssertEqual(totalCrossings(h), 1)
    }

    func testChainSiftingFindsTheBestPlacementOfTheChain() {
        // Random small layered graphs with one 3-dummy chain: the result must equal the best
        // of all placements of the chain's dummies (brute force), the rest of the order fixed.
        var state: UInt64 = 0x2545F4914F6CDD1D
        func next(_ n: Int) -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(state % UInt64(n))
        }
        var improved = 0
        for _ in 0..<200 {
            var layers: [[Int]] = []
            var id = 0
            for _ in 0..<5 { let k = 2 + next(3); layers.append(Array(id..<(id + k))); id += k }
            var edges: [(Int, Int)] = []
            for r in 0..<4 {
                for a in layers[r] { for b in layers[r + 1] where next(3) == 0 { edges.append((a, b)) } }
            }
            // The chain: from a node of layer 0 through dummies in layers 1...3 to a node of layer 4.
            let dummies = [id, id + 1, id + 2]
            for (j, d) in dummies.enumerated() { layers[j + 1].insert(d, at: next(layers[j + 1].count + 1)) }
            let source = layers[0][next(layers[0].count)]
            let target = layers[4][next(layers[4].count)]
            edges += [(source, dummies[0]), (dummies[0], dummies[1]), (dummies[1], dummies[2]), (dummies[2], target)]
            var g = layered(layers, edges)
            let before = totalCrossings(g)
            // Brute force over every gap of every dummy.
            var best = Int.max
            var probe = g
            func place(_ j: Int) {
                if j == dummies.count { best = min(best, totalCrossings(probe)); return }
                let d = dummies[j], r = probe.rank[d]
                var others = probe.layers[r]; others.removeAll { $0 == d }
                for gap in 0...others.count {
                    var layer = others; layer.insert(d, at: gap)
                    probe.layers[r] = layer; probe.refreshPositions(r)
                    place(j + 1)
                }
            }
            place(0)
            let gain = siftChains(&g, chains: [dummies], maxWork: 1_000_000)
            XCTAssertEqual(totalCrossings(g), best)
            XCTAssertEqual(before - gain, best)
            if gain > 0 { improved += 1 }
        }
        XCTAssertGreaterThan(improved, 20, "the random cases do exercise moves")
    }

    func testLongChainWrapsIntoColumns() throws {
        var g = LayoutGraph()
        let n = 2000
        for i in 0..<n { g.boxes.append(.init(id: "n\(i)", width: 80, height: 24)) }
        for i in 1..<n { g.edges.append(.init(source: i - 1, target: i)) }
        let layout = try layoutGraph(g)
        XCTAssertGreaterThan(layout.columns, 4)
        XCTAssertLessThan(layout.height / layout.width, 3)
        XCTAssertEqual(auditLayout(g, layout), [])
    }

    func testLongChainInsideAGroupWrapsAndStaysInsideItsFrame() throws {
        // outside -> group{ 400-node chain, side exits } -> outside, plus a skip edge around it.
        var g = LayoutGraph()
        g.groups = [.init(id: "outer", headerWidth: 50), .init(id: "outer/inner", parent: 0, headerWidth: 80)]
        g.boxes.append(.init(id: "src", width: 60, height: 24))
        for i in 0..<400 { g.boxes.append(.init(id: "c\(i)", width: 70 + Double(i % 3) * 10, height: 24, parent: 1)) }
        g.boxes.append(.init(id: "sink", width: 60, height: 24))
        g.boxes.append(.init(id: "side", width: 60, height: 24, parent: 0))
        g.edges.append(.init(source: 0, target: 1))
        for i in 1..<400 { g.edges.append(.init(source: i, target: i + 1)) }
        g.edges.append(.init(source: 400, target: 401))
        g.edges.append(.init(source: 0, target: 401))
        g.edges.append(.init(source: 150, target: 402))   // leaves the inner group from mid-chain
        g.edges.append(.init(source: 402, target: 401))
        for direction in LayoutDirection.allCases {
            var o = LayoutOptions(); o.direction = direction
            let layout = try layoutGraph(g, options: o)
            XCTAssertEqual(auditLayout(g, layout), [], "\(direction)")
            let inner = layout.groups[1]
            let long = max(inner.width, inner.height), short = min(inner.width, inner.height)
            XCTAssertLessThan(long / short, 4, "the inner chain wrapped into columns (\(direction))")
        }
    }

    func testCacheReusesUntouchedGroups() throws {
        var g = LayoutGraph()
        for k in 0..<5 { g.groups.append(.init(id: "layer\(k)")) }
        for k in 0..<5 {
            for j in 0..<6 { g.boxes.append(.init(id: "l\(k)/n\(j)", width: 50, height: 20, parent: k)) }
        }
        for i in 1..<g.boxes.count { g.edges.append(.init(source: i - 1, target: i)) }
        let cache = LayoutCache()
        let first = try layoutGraph(g, cache: cache)
        XCTAssertEqual(first.levelsReused, 0)
        XCTAssertEqual(first.levelsComputed, 6)
        // Grow one group: only it and the top level are laid out again.
        g.boxes[7].width = 120
        let second = try layoutGraph(g, cache: cache)
        XCTAssertEqual(second.levelsComputed, 2)
        XCTAssertEqual(second.levelsReused, 4)
        XCTAssertEqual(auditLayout(g, second), [])
    }

    func testInvalidInputIsReported() {
        var g = LayoutGraph()
        g.boxes = [.init(id: "a", width: 10, height: 10, parent: 3)]
        XCTAssertThrowsError(try layoutGraph(g)) { error in
            XCTAssertTrue("\(error)".contains("box 0"))
        }
        g.boxes = [.init(id: "a", width: 10, height: 10)]
        g.edges = [.init(source: 0, target: 9)]
        XCTAssertThrowsError(try layoutGraph(g))
    }
}

/// Random graphs with random nesting, cycles, multi-edges and odd sizes: every layout must pass
/// the geometric audit in both directions. A fixed-seed generator keeps failures reproducible.
final class LayoutPropertyTests: XCTestCase {
    struct SplitMix { var state: UInt64; mutating func next(_ n: Int) -> Int {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return Int((z ^ (z >> 31)) % UInt64(max(n, 1)))
    } }

    func testRandomNestedGraphsPassTheAudit() throws {
        var rng = SplitMix(state: 42)
        for round in 0..<60 {
            var g = LayoutGraph()
            let groupCount = rng.next(8)
            for k in 0..<groupCount {
                let parent: Int? = k == 0 || rng.next(3) == 0 ? nil : rng.next(k)
                g.groups.append(.init(id: "g\(k)", parent: parent, headerWidth: Double(rng.next(120))))
            }
            let n = 2 + rng.next(60)
            for i in 0..<n {
                let parent: Int? = groupCount == 0 || rng.next(4) == 0 ? nil : rng.next(groupCount)
                g.boxes.append(.init(id: "b\(i)", width: Double(20 + rng.next(160)), height: Double(16 + rng.next(50)), parent: parent))
            }
            for _ in 0..<(n + rng.next(2 * n)) {
                let a = rng.next(n), b = rng.next(n)
                // Mostly forward edges, some backward (cycles), some duplicates.
                g.edges.append(.init(source: min(a, b), target: max(a, b)))
                if rng.next(10) == 0 { g.edges.append(.init(source: max(a, b), target: min(a, b))) }
            }
            for direction in LayoutDirection.allCases {
                var o = LayoutOptions(); o.direction = direction
                let layout = try layoutGraph(g, options: o)
                let problems = auditLayout(g, layout)
                XCTAssertEqual(problems, [], "round \(round) \(direction)")
                if !problems.isEmpty { return }
            }
        }
    }
}
