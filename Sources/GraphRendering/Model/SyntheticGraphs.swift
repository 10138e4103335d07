// Deterministic synthetic graphs with the shapes that stress a renderer: a transformer-like
// stack (nested scopes, residual skips, many small shape ops, per-head branches) of any size,
// and a flat chain. Used by tests and the rendering benchmark; no randomness, so figures repeat.

/// Builders for synthetic benchmark graphs.
public enum SyntheticGraphs {
    /// A transformer-like graph with `layers` blocks and roughly `targetNodes` nodes. Each block
    /// has `ln1`, `attn` (q/k/v projections, one scope per head, output projection), `ln2` and
    /// `mlp` scopes, with residual adds skipping over them; weights are Constant nodes.
    public static func transformer(layers: Int = 24, targetNodes: Int = 10_000) -> RenderGraph {
        var b = Builder()
        let perLayer = max(60, targetNodes / max(layers, 1))
        // Fixed part per layer is about 64 nodes; each head adds 12.
        let heads = max(1, (perLayer - 64) / 12)
        let hidden = "1x128x\(heads * 64)"
        var x = b.add("embed/Gather", op: "Gather", path: ["model", "embed"], inputs: [], shape: hidden)
        for l in 0..<layers {
            let base = ["model", "layers.\(l)"]
            let residual = x
            x = b.layerNorm(x, path: base + ["ln1"], shape: hidden)
            var projected: [Int] = []
            for p in ["q_proj", "k_proj", "v_proj"] {
                let path = base + ["attn", p]
                let w = b.add("\(path.joined(separator: "/"))/weight", op: "Constant", path: path, inputs: [], shape: "\(heads * 64)x\(heads * 64)")
                let mm = b.add("\(path.joined(separator: "/"))/MatMul", op: "MatMul", path: path, inputs: [x, w], shape: hidden)
                let bias = b.add("\(path.joined(separator: "/"))/bias", op: "Constant", path: path, inputs: [], shape: "\(heads * 64)")
                let add = b.add("\(path.joined(separator: "/"))/Add", op: "Add", path: path, inputs: [mm, bias], shape: hidden)
                let shp = b.add("\(path.joined(separator: "/"))/Shape", op: "Shape", path: path, inputs: [x], shape: "3")
                let g = b.add("\(path.joined(separator: "/"))/Gather", op: "Gather", path: path, inputs: [shp], shape: "1")
                let u = b.add("\(path.joined(separator: "/"))/Unsqueeze", op: "Unsqueeze", path: path, inputs: [g], shape: "1")
                let cat = b.add("\(path.joined(separator: "/"))/Concat", op: "Concat", path: path, inputs: [u], shape: "4")
                let rs = b.add("\(path.joined(separator: "/"))/Reshape", op: "Reshape", path: path, inputs: [add, cat], shape: "1x128x\(heads)x64")
                let tr = b.add("\(path.joined(separator: "/"))/Transpose", op: "Transpose", path: path, inputs: [rs], shape: "1x\(heads)x128x64")
                projected.append(tr)
            }
            var headOuts: [Int] = []
            for h in 0..<heads {
                let path = base + ["attn", "head\(h)"]
                let pfx = path.joined(separator: "/")
                let q = b.add("\(pfx)/SliceQ", op: "Slice", path: path, inputs: [projected[0]], shape: "1x128x64")
                let k = b.add("\(pfx)/SliceK", op: "Slice", path: path, inputs: [projected[1]], shape: "1x128x64")
                let v = b.add("\(pfx)/SliceV", op: "Slice", path: path, inputs: [projected[2]], shape: "1x128x64")
                let kt = b.add("\(pfx)/TransposeK", op: "Transpose", path: path, inputs: [k], shape: "1x64x128")
                let s = b.add("\(pfx)/MatMulQK", op: "MatMul", path: path, inputs: [q, kt], shape: "1x128x128")
                let sc = b.add("\(pfx)/scale", op: "Constant", path: path, inputs: [], shape: "1")
                let d = b.add("\(pfx)/Div", op: "Div", path: path, inputs: [s, sc], shape: "1x128x128")
                let mask = b.add("\(pfx)/mask", op: "Constant", path: path, inputs: [], shape: "128x128")
                let am = b.add("\(pfx)/AddMask", op: "Add", path: path, inputs: [d, mask], shape: "1x128x128")
                let sm = b.add("\(pfx)/Softmax", op: "Softmax", path: path, inputs: [am], shape: "1x128x128")
                let o = b.add("\(pfx)/MatMulV", op: "MatMul", path: path, inputs: [sm, v], shape: "1x128x64")
                let c = b.add("\(pfx)/Cast", op: "Cast", path: path, inputs: [o], shape: "1x128x64")
                headOuts.append(c)
            }
            let opath = base + ["attn", "o_proj"]
            let op = opath.joined(separator: "/")
            let cat = b.add("\(op)/Concat", op: "Concat", path: opath, inputs: headOuts, shape: hidden)
            let ow = b.add("\(op)/weight", op: "Constant", path: opath, inputs: [], shape: "\(heads * 64)x\(heads * 64)")
            let omm = b.add("\(op)/MatMul", op: "MatMul", path: opath, inputs: [cat, ow], shape: hidden)
            x = b.add("\(base.joined(separator: "/"))/residual1", op: "Add", path: base, inputs: [omm, residual], shape: hidden)
            let residual2 = x
            x = b.layerNorm(x, path: base + ["ln2"], shape: hidden)
            let mpath = base + ["mlp"]
            let mp = mpath.joined(separator: "/")
            let wg = b.add("\(mp)/gate_proj/weight", op: "Constant", path: mpath + ["gate_proj"], inputs: [], shape: "\(heads * 64)x\(heads * 256)")
            let gate = b.add("\(mp)/gate_proj/MatMul", op: "MatMul", path: mpath + ["gate_proj"], inputs: [x, wg], shape: "1x128x\(heads * 256)")
            let wu = b.add("\(mp)/up_proj/weight", op: "Constant", path: mpath + ["up_proj"], inputs: [], shape: "\(heads * 64)x\(heads * 256)")
            let up = b.add("\(mp)/up_proj/MatMul", op: "MatMul", path: mpath + ["up_proj"], inputs: [x, wu], shape: "1x128x\(heads * 256)")
            let sg = b.add("\(mp)/act/Sigmoid", op: "Sigmoid", path: mpath + ["act"], inputs: [gate], shape: "1x128x\(heads * 256)")
            let sw = b.add("\(mp)/act/Mul", op: "Mul", path: mpath + ["act"], inputs: [gate, sg], shape: "1x128x\(heads * 256)")
            let gu = b.add("\(mp)/Mul", op: "Mul", path: mpath, inputs: [sw, up], shape: "1x128x\(heads * 256)")
            let wd = b.add("\(mp)/down_proj/weight", op: "Constant", path: mpath + ["down_proj"], inputs: [], shape: "\(heads * 256)x\(heads * 64)")
            let down = b.add("\(mp)/down_proj/MatMul", op: "MatMul", path: mpath + ["down_proj"], inputs: [gu, wd], shape: hidden)
            x = b.add("\(base.joined(separator: "/"))/residual2", op: "Add", path: base, inputs: [down, residual2], shape: hidden)
        }
        x = b.layerNorm(x, path: ["model", "norm"], shape: hidden)
        let lw = b.add("lm_head/weight", op: "Constant", path: ["lm_head"], inputs: [], shape: "\(heads * 64)x32000")
        _ = b.add("lm_head/MatMul", op: "MatMul", path: ["lm_head"], inputs: [x, lw], shape: "1x128x32000")
        return RenderGraph(name: "synthetic transformer (\(layers) layers, \(b.nodes.count) nodes)", nodes: b.nodes, edges: b.edges)
    }

    /// A flat chain of `count` nodes cycling through conv-like ops, no namespaces.
    public static func chain(_ count: Int) -> RenderGraph {
        var b = Builder()
        let ops = ["Conv", "BatchNormalization", "Relu", "Add"]
        var prev: Int? = nil
        for i in 0..<count {
            let id = "node_\(i)"
            prev = b.add(id, op: ops[i % ops.count], path: [], inputs: prev.map { [$0] } ?? [], shape: "1x64x56x56")
        }
        return RenderGraph(name: "chain (\(count) nodes)", nodes: b.nodes, edges: b.edges)
    }

    private struct Builder {
        var nodes: [RenderGraph.Node] = []
        var edges: [RenderGraph.Edge] = []
        var outShape: [String] = []

        mutating func add(_ id: String, op: String, path: [String], inputs: [Int], shape: String) -> Int {
            let index = nodes.count
            let tensor = id + ":0"
            nodes.append(RenderGraph.Node(id: id, name: id, op: op, path: path,
                                          inputs: inputs.map { nodes[$0].id + ":0: " + outShape[$0] },
                                          outputs: ["\(tensor): float32[\(shape)]"]))
            outShape.append(shape)
            for i in inputs { edges.append(RenderGraph.Edge(source: i, target: index, tensor: nodes[i].id + ":0", shape: outShape[i])) }
            return index
        }

        mutating func layerNorm(_ x: Int, path: [String], shape: String) -> Int {
            let p = path.joined(separator: "/")
            let m = add("\(p)/ReduceMean", op: "ReduceMean", path: path, inputs: [x], shape: "1x128x1")
            let s = add("\(p)/Sub", op: "Sub", path: path, inputs: [x, m], shape: shape)
            let two = add("\(p)/two", op: "Constant", path: path, inputs: [], shape: "1")
            let pw = add("\(p)/Pow", op: "Pow", path: path, inputs: [s, two], shape: shape)
            let v = add("\(p)/ReduceMean2", op: "ReduceMean", path: path, inputs: [pw], shape: "1x128x1")
            let eps = add("\(p)/eps", op: "Constant", path: path, inputs: [], shape: "1")
            let a = add("\(p)/AddEps", op: "Add", path: path, inputs: [v, eps], shape: "1x128x1")
            let sq = add("\(p)/Sqrt", op: "Sqrt", path: path, inputs: [a], shape: "1x128x1")
            let d = add("\(p)/Div", op: "Div", path: path, inputs: [s, sq], shape: shape)
            let g = add("\(p)/gamma", op: "Constant", path: path, inputs: [], shape: "1")
            let mu = add("\(p)/Mul", op: "Mul", path: path, inputs: [d, g], shape: shape)
            let beta = add("\(p)/beta", op: "Constant", path: path, inputs: [], shape: "1")
            return add("\(p)/Add", op: "Add", path: path, inputs: [mu, beta], shape: shape)
        }
    }
}
