// Rendering benchmark (temporary quick version).
import Foundation
import GraphRendering

let t = SyntheticGraphs.transformer(layers: 2, targetNodes: 200)
let r = try GraphRenderer(t)
var o = RenderOptions(); o.expandAll = true
let res = try r.render(o)
try res.svg.write(toFile: "/tmp/t2.svg", atomically: true, encoding: .utf8)
try res.html.write(toFile: "/tmp/t2.html", atomically: true, encoding: .utf8)
print(res.stats.summary)
o = RenderOptions(); o.direction = .leftToRight
o.overlay = Overlay(name: "latency", values: Dictionary(uniqueKeysWithValues: t.nodes.enumerated().map { ($1.id, Double($0 % 17)) }))
let res2 = try r.render(o)
try res2.svg.write(toFile: "/tmp/t2c.svg", atomically: true, encoding: .utf8)
print(res2.stats.summary)
let c = try GraphRenderer.render(SyntheticGraphs.chain(300))
try c.svg.write(toFile: "/tmp/chain.svg", atomically: true, encoding: .utf8)
