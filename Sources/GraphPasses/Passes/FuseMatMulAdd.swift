/// MatMul + Add → Gemm where Gemm computes the same: A and B of rank 2, float, and a bias that
/// broadcasts to the product's (M, N) by Gemm's one-way rule ([N], [1, N], [M, 1], [M, N] or a
/// scalar). The MatMul output must have no other reader. Higher-rank MatMuls stay (onnxruntime
/// wraps them in Reshapes, which saves no node).
import GraphEditing
import GraphIR
import GraphOps

public struct FuseMatMulAdd: Pass {
    public init() {}
    public let name = "fuse-matmul-add"
    public let doc = "Fuse a rank-2 MatMul and the Add of a bias after it into Gemm"
    public func run(_ ctx: inout PassContext) throws -> Bool {
        try PatternPass(name: name, doc: doc, patterns: [MatMulAddPattern()]).run(&ctx)
    }
}

struct MatMulAddPattern: RewritePattern {
    let name = "matmul+add"
    let rootOps: Set<String> = ["MatMul"]

    func matchAndRewrite(_ mm: Node, _ r: inout PatternRewriter) throws -> Bool {
        guard mm.inputs.count == 2, let y = mm.outputs.first else { return false }
        guard r.require(r.context.onnxOpset >= 7, "Gemm broadcasting needs opset 7", at: mm.id),
              r.require(r.context.elementType(y) == .float, "the product is not float", at: mm.id),
              let a = r.context.dims(mm.inputs[0]), let b = r.context.dims(mm.inputs[1]),
              r.require(a.count == 2 && b.count == 2, "A or B is not of rank 2", at: mm.id),
              let add = r.consumer(of: y, ["Add"], from: mm.id) else { return false }
        r.take(add)
        guard let bias = r.other(add, than: y), bias != y else { return r.fail("Add reads the product twice", at: add.id) }
        guard let bd = r.context.dims(bias) else { return r.fail("the bias has an unknown shape", at: add.id) }
        let m = a[0], n = b[1]
        func fits(_ d: SymDim?, _ full: SymDim?) -> Bool { d?.intValue == 1 || (d != nil && d == full) }
        let ok: Bool
        switch bd.count {
        case 0: ok = true
        case 1: ok = fits(bd[0], n)
        case 2: ok = fits(bd[0], m) && fits(bd[1], n)
        default: ok = false
        }
        guard r.require(ok, "the bias does not broadcast to the product by Gemm's rule", at: add.id),
              let out = add.outputs.first else { return false }
        let gemm = NewNode(opType: "Gemm", inputs: [mm.inputs[0], mm.inputs[1], bias], outputs: [out])
        return try r.replace([mm.id, add.id], with: [gemm])
    }
}
