import GraphIR
import GraphEstimation

/// Synthetic transformer graphs for the benchmarks: decoder blocks written out as an
/// exporter would (RMSNorm as Pow/ReduceMean/Add/Sqrt/Div/Mul, attention as
/// MatMul/Reshape/Transpose/Softmax, SwiGLU MLP), with symbolic `batch` and `seq`,
/// torch-style `/layers.N/...` node names (so the hierarchy has one scope per layer) and
/// weight initializers whose data is absent (the estimator needs only their shapes).
enum Synthetic {
    /// Nodes one decoder block adds.
    static let nodesPerLayer = 36

    /// - Parameter materialize: give weights zero-filled data (needed to write the model to a file).
    static func transformer(layers: Int, hidden h: Int, heads: Int, ffn: Int, vocab: Int, materialize: Bool = false) -> Graph {
        var nodes: [Node] = []
        var inits: [Tensor] = []
        let d = h / heads
        func weight(_ name: String, _ dims: [Int]) -> String {
            if materialize { inits.append(Tensor(name: name, floats: Array(repeating: 0, count: dims.reduce(1, *)), dims: dims.map(Int64.init))) }
            else { inits.append(Tensor(name: name, elementType: .float, dims: dims.map(Int64.init), data: .none)) }
            return name
        }
        func const(_ name: String, _ values: [Int64]) -> String {
            inits.append(Tensor(name: name, int64s: values, dims: [Int64(values.count)])); return name
        }
        func scalar(_ name: String, _ v: Float) -> String { inits.append(Tensor(name: name, floats: [v], dims: [])); return name }
        var counter = 0
        func node(_ scope: String, _ op: String, _ ins: [String], _ attrs: [Attribute] = [], outputs: Int = 1) -> [String] {
            counter += 1
            let outs = (0..<outputs).map { "\(scope)/\(op)_\(counter)_out\($0)" }
            nodes.append(Node(opType: op, name: "\(scope)/\(op)_\(counter)", inputs: ins, outputs: outs, attributes: attrs))
            return outs
        }
        let two = scalar("two", 2), eps = scalar("eps", 1e-6), scale = scalar("scale", Float(d).squareRoot())
        let axisLast = const("axis_last", [-1])
        let headsShape = const("heads_shape", [0, 0, Int64(heads), Int64(d)])
        let mergeShape = const("merge_shape", [0, 0, Int64(h)])
        func rmsNorm(_ scope: String, _ x: String, _ w: String) -> String {
            let p = node(scope, "Pow", [x, two])[0]
            let m = node(scope, "ReduceMean", [p, axisLast])[0]
            let a = node(scope, "Add", [m, eps])[0]
            let s = node(scope, "Sqrt", [a])[0]
            let dv = node(scope, "Div", [x, s])[0]
            return node(scope, "Mul", [dv, w])[0]
        }
        let ids = "input_ids"
        var x = node("/embed", "Gather", [weight("embed.weight", [vocab, h]), ids])[0]
        for l in 0..<layers {
            let s = "/layers.\(l)"
            let n1 = rmsNorm(s + "/input_layernorm", x, weight("l\(l).ln1", [h]))
            let a = s + "/self_attn"
            func heads4(_ t: String, _ perm: [Int64]) -> String {
                let r = node(a, "Reshape", [t, headsShape])[0]
                return node(a, "Transpose", [r], [Attribute("perm", .ints(perm))])[0]
            }
            let q = heads4(node(a, "MatMul", [n1, weight("l\(l).q", [h, h])])[0], [0, 2, 1, 3])
            let k = heads4(node(a, "MatMul", [n1, weight("l\(l).k", [h, h])])[0], [0, 2, 3, 1])
            let v = heads4(node(a, "MatMul", [n1, weight("l\(l).v", [h, h])])[0], [0, 2, 1, 3])
            let qk = node(a, "MatMul", [q, k])[0]
            let sc = node(a, "Div", [qk, scale])[0]
            let sm = node(a, "Softmax", [sc], [Attribute("axis", .int(-1))])[0]
            let av = node(a, "MatMul", [sm, v])[0]
            let t = node(a, "Transpose", [av], [Attribute("perm", .ints([0, 2, 1, 3]))])[0]
            let mr = node(a, "Reshape", [t, mergeShape])[0]
            let o = node(a, "MatMul", [mr, weight("l\(l).o", [h, h])])[0]
            let r1 = node(s, "Add", [x, o])[0]
            let n2 = rmsNorm(s + "/post_attention_layernorm", r1, weight("l\(l).ln2", [h]))
            let m = s + "/mlp"
            let g = node(m, "MatMul", [n2, weight("l\(l).gate", [h, ffn])])[0]
            let u = node(m, "MatMul", [n2, weight("l\(l).up", [h, ffn])])[0]
            let sg = node(m, "Sigmoid", [g])[0]
            let silu = node(m, "Mul", [g, sg])[0]
            let gu = node(m, "Mul", [silu, u])[0]
            let dn = node(m, "MatMul", [gu, weight("l\(l).down", [ffn, h])])[0]
            x = node(s, "Add", [r1, dn])[0]
        }
        let nf = rmsNorm("/norm", x, weight("norm.weight", [h]))
        let logits = node("/lm_head", "MatMul", [nf, weight("lm_head.weight", [h, vocab])])[0]
        let inputs = [ValueInfo(name: ids, type: .tensor(.int64, TensorShape([.symbolic("batch"), .symbolic("seq")])))]
        let outputs = [ValueInfo(name: logits, type: .tensor(.float, TensorShape([.symbolic("batch"), .symbolic("seq"), .known(Int64(vocab))])))]
        return Graph(name: "synthetic-transformer", nodes: nodes, inputs: inputs, outputs: outputs, initializers: inits)
    }
}
