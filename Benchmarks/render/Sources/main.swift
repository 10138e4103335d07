// render-bench: times Graphsmith's layout+SVG against Graphviz `dot -Tsvg` on the same graphs,
// in one run. Graphs: corpus ONNX models (collapsed default view and fully expanded), a
// synthetic 10k-node transformer (24 layers, nested scopes) expanded / collapsed / one group
// expanded with a warm cache, the same at 50k nodes, and a flat 10k chain. dot gets exactly
// the graph we draw, exported by GraphRenderer.dot (boxes at our sizes, groups as clusters).
// Crossings are counted the same way on both drawings (proper segment intersections).
//
// Usage: render-bench [--corpus DIR] [--no-dot] [--dot-timeout SECONDS] [--repeat N] [--out DIR] [--quick] [--filter TEXT] [--list-crossings]
//        render-bench --render MODEL.onnx [--render ...] --out DIR [--lr] [--no-wrap]   (just draw models)
//        render-bench --demo --out DIR   (synthetic transformer with an overlay, for the docs)

import Foundation
import GraphIR
import GraphFormats
import GraphRendering

struct Args {
    var corpus = "../shared/corpus/models"
    var runDot = true
    var dotTimeout = 120.0
    var repeats = 5
    var out = NSTemporaryDirectory() + "render-bench"
    var quick = false
    var filter: String? = nil
    var listCrossings = false
    var render: [String] = []
    var leftToRight = false
    var demo = false
    var noWrap = false
}

func parseArgs() -> Args {
    var a = Args()
    var it = CommandLine.arguments.dropFirst().makeIterator()
    while let arg = it.next() {
        switch arg {
        case "--corpus": if let v = it.next() { a.corpus = v }
        case "--no-dot": a.runDot = false
        case "--dot-timeout": if let v = it.next(), let d = Double(v) { a.dotTimeout = d }
        case "--repeat": if let v = it.next(), let n = Int(v) { a.repeats = max(1, n) }
        case "--out": if let v = it.next() { a.out = v }
        case "--quick": a.quick = true
        case "--filter": if let v = it.next() { a.filter = v }
        case "--list-crossings": a.listCrossings = true
        case "--render": if let v = it.next() { a.render.append(v) }
        case "--lr": a.leftToRight = true
        case "--demo": a.demo = true
        case "--no-wrap": a.noWrap = true
        default:
            FileHandle.standardError.write(Data("unknown argument \(arg)\n".utf8))
            exit(2)
        }
    }
    return a
}

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? 0 : s[s.count / 2]
}

/// Runs dot on a DOT file, writing SVG and plain output in one layout; returns seconds and the
/// edge polylines from the plain output, or nil on timeout / failure.
func runDot(_ dotPath: String, timeout: Double) -> (seconds: Double, edges: [[Point]])? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    let svg = dotPath + ".svg", plain = dotPath + ".plain"
    p.arguments = ["dot", "-Tsvg", "-o", svg, "-Tplain", "-o", plain, dotPath]
    p.standardError = FileHandle.nullDevice
    let t0 = now()
    do { try p.run() } catch { return nil }
    let deadline = Date().addingTimeInterval(timeout)
    while p.isRunning && Date() < deadline { usleep(5_000) }
    if p.isRunning { p.terminate(); p.waitUntilExit(); return nil }
    let seconds = Double(now() - t0) / 1e9
    guard p.terminationStatus == 0, let text = try? String(contentsOfFile: plain, encoding: .utf8) else { return nil }
    var edges: [[Point]] = []
    for line in text.split(separator: "\n") where line.hasPrefix("edge ") {
        let parts = line.split(separator: " ")
        guard parts.count > 4, let n = Int(parts[3]) else { continue }
        var pts: [Point] = []
        for k in 0..<n {
            guard 5 + 2 * k < parts.count, let x = Double(parts[4 + 2 * k]), let y = Double(parts[5 + 2 * k]) else { break }
            pts.append(Point(x: x * 72, y: -y * 72))
        }
        edges.append(pts)
    }
    return (seconds, edges)
}

struct Row {
    var name: String
    var nodes: Int
    var boxes: Int
    var edges: Int
    var ours: Double
    var layout: Double
    var ourCrossings: Int
    var unwrappedCrossings: Int
    var columns: Int
    var dotSeconds: Double?
    var dotCrossings: Int?
    var dotNote: String
}

func measure(_ name: String, renderer: GraphRenderer, options: RenderOptions, args: Args, cache: LayoutCache? = nil,
             warm: RenderOptions? = nil) throws -> Row? {
    if let f = args.filter, !name.contains(f) { return nil }
    var times: [Double] = []
    var layoutTimes: [Double] = []
    var last: RenderResult? = nil
    for _ in 0..<args.repeats {
        let c: LayoutCache? = cache == nil ? nil : LayoutCache()
        if let w = warm, let c = c { _ = try renderer.render(w, cache: c) }
        let t0 = now()
        let r = try renderer.render(options, cache: c)
        times.append(Double(now() - t0) / 1e9)
        layoutTimes.append(r.stats.layoutSeconds)
        last = r
    }
    guard let result = last else { return nil }
    let problems = auditLayout(result.visible.layoutGraph, result.layout)
        + auditEdgeLabels(result.edgeLabels.labels, layout: result.layout, direction: options.direction)
    if !problems.isEmpty {
        print("  ! \(name): \(problems.count) layout problems, first: \(problems[0])")
    }
    let ourCross = countGeometricCrossings(result.layout.edges)
    // The same drawing without column wrapping, to compare crossing reduction alone with dot
    // (dot never wraps, and column jumps add crossings of their own).
    var unwrappedOptions = options
    unwrappedOptions.layout.wrapLongLayouts = false
    let unwrapped = try renderer.render(unwrappedOptions)
    let unwrappedCross = countGeometricCrossings(unwrapped.layout.edges)
    if args.listCrossings {
        let lg = unwrapped.visible.layoutGraph
        let E = unwrapped.layout.edges
        for a in 0..<E.count { for b in (a+1)..<E.count where E[a].count > 1 && E[b].count > 1 {
            if countGeometricCrossings([E[a], E[b]]) > 0 {
                func d(_ e: Int) -> String { "\(renderer.graph.nodes.first { $0.id == lg.boxes[lg.edges[e].source].id }?.op ?? "?")/\(lg.boxes[lg.edges[e].source].id)->\(lg.boxes[lg.edges[e].target].id)" }
                print("X", d(a), "x", d(b))
            }
        } }
    }
    var row = Row(name: name, nodes: renderer.graph.nodes.count, boxes: result.stats.visibleBoxes, edges: result.stats.edges,
                  ours: median(times), layout: median(layoutTimes), ourCrossings: ourCross,
                  unwrappedCrossings: unwrappedCross, columns: result.stats.columns, dotSeconds: nil, dotCrossings: nil, dotNote: "not run")
    let safe = name.map { $0.isLetter || $0.isNumber ? $0 : "_" }
    let base = args.out + "/" + String(safe)
    try result.svg.write(toFile: base + ".svg", atomically: true, encoding: .utf8)
    if args.runDot {
        let dotPath = base + ".dot"
        try renderer.dot(options).write(toFile: dotPath, atomically: true, encoding: .utf8)
        if let d = runDot(dotPath, timeout: args.dotTimeout) {
            row.dotSeconds = d.seconds
            row.dotCrossings = countGeometricCrossings(d.edges)
            row.dotNote = ""
        } else {
            row.dotNote = "> \(Int(args.dotTimeout)) s (stopped)"
        }
    }
    return row
}

func ms(_ s: Double) -> String {
    let v = s * 1000
    return v >= 100 ? String(Int(v.rounded())) : String(Double(Int(v * 10)) / 10)
}

let args = parseArgs()
try FileManager.default.createDirectory(atPath: args.out, withIntermediateDirectories: true)

// --demo: a synthetic transformer (4 layers) with layer 1's attention open and a latency-like
// overlay rolled up (sum) onto collapsed groups; writes demo_transformer.svg/.html into --out.
if args.demo {
    let graph = SyntheticGraphs.transformer(layers: 4, targetNodes: 420)
    var values: [String: Double] = [:]
    for (i, n) in graph.nodes.enumerated() {
        let base: Double = n.op == "MatMul" ? 40 : n.op == "Softmax" ? 12 : n.op == "Constant" ? 0 : 2
        values[n.id] = base * (1 + Double(i % 7) / 7)
    }
    var options = RenderOptions()
    options.overlay = Overlay(name: "estimated latency (us)", values: values, rollup: .sum)
    options.focusPath = "model/layers.1/attn"
    options.highlighted = ["model/layers.1/attn/o_proj/MatMul"]
    let view = try GraphRenderer(graph).render(options)
    try view.svg.write(toFile: "\(args.out)/demo_transformer.svg", atomically: true, encoding: .utf8)
    try view.html.write(toFile: "\(args.out)/demo_transformer.html", atomically: true, encoding: .utf8)
    print("demo: \(view.stats.summary)")
    exit(0)
}

// --render MODEL...: just draw models (default view, SVG + HTML, and fully expanded SVG) into --out.
if !args.render.isEmpty {
    for path in args.render {
        let model = try ONNXReader.load(path: path)
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let renderer = try GraphRenderer(model.graph)
        var options = RenderOptions()
        options.direction = args.leftToRight ? .leftToRight : .topToBottom
        options.layout.wrapLongLayouts = !args.noWrap
        let view = try renderer.render(options)
        try view.svg.write(toFile: "\(args.out)/\(name).svg", atomically: true, encoding: .utf8)
        try view.html.write(toFile: "\(args.out)/\(name).html", atomically: true, encoding: .utf8)
        options.expandAll = true
        let full = try renderer.render(options)
        try full.svg.write(toFile: "\(args.out)/\(name).expanded.svg", atomically: true, encoding: .utf8)
        print("\(name): default \(view.stats.summary) | expanded \(full.stats.summary)")
    }
    exit(0)
}
var rows: [Row] = []
func appendRow(_ r: Row?) { if let r = r { rows.append(r) } }

// Corpus models.
let fm = FileManager.default
var corpusFiles: [String] = []
for dir in [args.corpus, args.corpus + "/light"] {
    if let list = try? fm.contentsOfDirectory(atPath: dir) {
        corpusFiles += list.filter { $0.hasSuffix(".onnx") }.sorted().map { dir + "/" + $0 }
    }
}
if corpusFiles.isEmpty { print("(no corpus at \(args.corpus); corpus rows skipped)") }
for path in corpusFiles where !args.quick || path.contains("resnet") {
    let model = try ONNXReader.load(path: path)
    let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    let renderer = try GraphRenderer(model.graph)
    appendRow(try measure("\(name) collapsed", renderer: renderer, options: RenderOptions(), args: args))
    var all = RenderOptions(); all.expandAll = true
    appendRow(try measure("\(name) expanded", renderer: renderer, options: all, args: args))
}

// Synthetic graphs.
var all = RenderOptions(); all.expandAll = true
let t10 = try GraphRenderer(SyntheticGraphs.transformer(layers: 24, targetNodes: 10_000))
appendRow(try measure("transformer 10k expanded", renderer: t10, options: all, args: args))
appendRow(try measure("transformer 10k collapsed", renderer: t10, options: RenderOptions(), args: args))
var one = RenderOptions(); one.expandedGroups = ["model/layers.7"]
appendRow(try measure("transformer 10k expand one group (warm cache)", renderer: t10, options: one, args: args,
                        cache: LayoutCache(), warm: RenderOptions()))
if !args.quick {
    let t50 = try GraphRenderer(SyntheticGraphs.transformer(layers: 24, targetNodes: 50_000))
    var slow = args
    slow.repeats = max(1, args.repeats / 2)
    appendRow(try measure("transformer 50k expanded", renderer: t50, options: all, args: slow))
}
let chain = try GraphRenderer(SyntheticGraphs.chain(10_000))
appendRow(try measure("chain 10k expanded", renderer: chain, options: all, args: args))
appendRow(try measure("chain 10k collapsed", renderer: chain, options: RenderOptions(), args: args))

print("")
print("| graph | nodes | boxes drawn | edges | graphsmith layout+SVG ms (layout only) | dot -Tsvg ms | speed-up | crossings: ours drawn (columns) / ours unwrapped / dot | unwrapped vs dot |")
print("|---|---:|---:|---:|---:|---:|---:|---|---:|")
for r in rows {
    let dotText = r.dotSeconds.map(ms) ?? r.dotNote
    let speed = r.dotSeconds.map { String(Int(($0 / max(r.ours, 1e-6)).rounded())) + "x" } ?? (r.dotNote.hasPrefix(">") ? "> " + String(Int((args.dotTimeout / r.ours).rounded())) + "x" : "-")
    var cross = "\(r.ourCrossings) (\(r.columns)) / \(r.unwrappedCrossings)"
    var ratio = "-"
    if let d = r.dotCrossings {
        cross += " / \(d)"
        ratio = d == 0 ? (r.unwrappedCrossings == 0 ? "1.00x" : "+\(r.unwrappedCrossings)") : String(Double(Int(Double(r.unwrappedCrossings) / Double(d) * 100)) / 100) + "x"
    }
    print("| \(r.name) | \(r.nodes) | \(r.boxes) | \(r.edges) | \(ms(r.ours)) (\(ms(r.layout))) | \(dotText) | \(speed) | \(cross) | \(ratio) |")
}
// Quality check: crossings of the fully expanded corpus drawings (unwrapped) against dot's.
let checked = rows.filter { $0.name.hasSuffix(" expanded") && $0.dotCrossings != nil && !$0.name.hasPrefix("transformer") && !$0.name.hasPrefix("chain") }
if !checked.isEmpty {
    let within = checked.filter { Double($0.unwrappedCrossings) <= 1.2 * Double($0.dotCrossings ?? 0) }
    let ours = checked.reduce(0) { $0 + $1.unwrappedCrossings }, theirs = checked.reduce(0) { $0 + ($1.dotCrossings ?? 0) }
    print("")
    print("crossings within 1.2x of dot (corpus, fully expanded, unwrapped): \(within.count) of \(checked.count) models; total \(ours) vs dot \(theirs)")
    for r in checked where !within.contains(where: { $0.name == r.name }) {
        print("  over: \(r.name): \(r.unwrappedCrossings) vs \(r.dotCrossings ?? 0)")
    }
}
print("")
print("SVG/DOT files in \(args.out)")
