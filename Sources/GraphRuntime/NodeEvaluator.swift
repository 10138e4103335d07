/// One node evaluated on given inputs with the interpreter's kernels, outside any plan: what a
/// constant-folding pass needs to replace a node whose inputs are all constant by its value,
/// computed exactly as a run of the graph would compute it.
import GraphIR

public enum NodeEvaluator {
    /// Runs `node` (default or com.microsoft domain, no subgraphs) under `opset` of the default
    /// domain on `inputs` (nil: an omitted optional input). Returns one tensor per output (nil
    /// for an output the kernel did not produce). Throws `RuntimeError` naming the node when
    /// the interpreter has no kernel for it or the kernel fails.
    public static func evaluate(_ node: Node, inputs: [RuntimeTensor?], opset: Int) throws -> [RuntimeTensor?] {
        guard !node.hasSubgraphs else {
            throw RuntimeError("nodes with subgraphs are not evaluated alone", node: node.displayName, opType: node.opType)
        }
        do {
            let kernel = try KernelCompiler.compile(node, opset: opset)
            var io = KernelIO(inputs: inputs, outputs: [], step: nil, arena: Arena(slotBytes: [], outputSlots: []))
            try kernel(&io)
            return (0..<node.outputs.count).map { $0 < io.outputs.count ? io.outputs[$0] : nil }
        } catch let e as KernelError {
            throw RuntimeError(e.message, node: node.displayName, opType: node.opType)
        }
    }
}
