/// What the estimator needs to know about an op type, looked up once when a node is made
/// (instead of several string-set lookups per node on every estimate). The op's family comes
/// from the GraphOps registry's category (`OpCategory`: the one table the renderer, the
/// estimator and coverage reports share); what is cost knowledge rather than op schema stays in
/// `CostModel` (which ops have their own formula, which are views moving no data, which
/// functions are transcendental, onnx-tool's and DeepSpeed's weights).
import GraphOps

public struct OpTraits: Sendable, Hashable {
    /// Shape-only ops (Reshape, Squeeze, Shape, Constant...): no kernel, no traffic.
    public var isMetadata = false
    /// Copies and re-layouts (Transpose, Concat, Gather, Resize...).
    public var isDataMovement = false
    /// If/Loop/Scan.
    public var isControlFlow = false
    /// Ops never constant-folded (random generators, control flow).
    public var neverFolded = false
    /// Whether the cost model has a formula for the op.
    public var hasCostFormula = false
    /// Cost-formula family for the ops costed per element.
    var costGroup: CostGroup = .other
    /// onnx-tool's instruction weight per output element (per input element for reductions).
    var onnxToolWeight = 0
    /// Whether that weight is multiplied by (inputs - 1), as onnx-tool does for Add/Sub/Mul/Div/Min/Max/Sum.
    var onnxToolPerExtraInput = false
    /// Whether DeepSpeed's profiler counts 1 FLOP per element for the op.
    var deepspeedPerElement = false

    enum CostGroup: Sendable, Hashable { case binary, transcendental, simpleUnary, reduction, other }

    /// Traits of every op type of the default and com.microsoft domains (and of the ops with a
    /// formula of their own), derived once from the built-in registry.
    static let table: [String: OpTraits] = {
        let registry = OpRegistry.builtIn
        let ops = Set(registry.opTypes(in: "")).union(registry.opTypes(in: "com.microsoft")).union(CostModel.ownFormula)
        var t: [String: OpTraits] = [:]
        for op in ops { t[op] = derive(op, registry: registry) }
        return t
    }()

    /// Traits of an op type (all false for unknown ops).
    public static func of(_ opType: String) -> OpTraits { table[opType] ?? OpTraits() }

    /// The traits of `op` from its registry category and schema, and the cost model's knowledge.
    static func derive(_ op: String, registry: OpRegistry) -> OpTraits {
        let category = registry.category(opType: op)
        let schema = registry.latest(domain: "", opType: op) ?? registry.latest(domain: "com.microsoft", opType: op)
        var x = OpTraits()
        // control flow: the bodies the estimator flattens and costs (`ControlRegion`)
        x.isControlFlow = category == .control
            && (schema?.attributes.contains { $0.kind == .graph && ControlRegion.kind(op: op, attribute: $0.name) != nil } ?? false)
        x.neverFolded = x.isControlFlow || CostModel.randomGenerators.contains(op)
        x.isMetadata = CostModel.views.contains(op)
        x.isDataMovement = !x.isMetadata && (category == .shape || CostModel.elementwiseCopies.contains(op))
        let perElement = !CostModel.ownFormula.contains(op) && !x.isMetadata && !x.isDataMovement && !x.isControlFlow
            && !CostModel.notPerElement.contains(op)
        if perElement {
            switch category {
            case .reduction: x.costGroup = CostModel.runningTotals.contains(op) ? .simpleUnary : .reduction
            case .elementwise, .activation, .quantization:
                if CostModel.transcendental.contains(op) { x.costGroup = .transcendental }
                else if category == .elementwise && (schema?.maxInputs ?? 2) != 1 { x.costGroup = .binary }   // 2+ or variadic
                else { x.costGroup = .simpleUnary }
            default: break
            }
        }
        x.hasCostFormula = CostModel.ownFormula.contains(op) || x.costGroup != .other || x.isDataMovement || x.isMetadata
        x.onnxToolWeight = x.costGroup == .reduction ? CostModel.onnxToolReductionWeight(op) : (CostModel.onnxToolWeight(op, inputs: 2) ?? 0)
        x.onnxToolPerExtraInput = ["Add", "Sub", "Mul", "Div", "Min", "Max", "Mod", "Sum"].contains(op)
        x.deepspeedPerElement = CostModel.deepspeedArithmetic.contains(op) || CostModel.deepspeedActivations.contains(op)
        return x
    }
}
