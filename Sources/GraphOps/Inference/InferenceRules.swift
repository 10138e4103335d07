/// The rule table: op key (`Op` for ai.onnx, `domain::Op` otherwise) to its rule, assembled
/// from the per-family files. A constant table, built once.
enum InferenceRules {
    static let table: [String: InferenceRule] = {
        var t: [String: InferenceRule] = [:]
        ElementwiseRules.register(&t)
        ShapeOpRules.register(&t)
        NNRules.register(&t)
        ReductionRules.register(&t)
        ControlFlowRules.register(&t)
        MoreOpRules.register(&t)
        SignalRules.register(&t)
        MLRules.register(&t)
        StringRules.register(&t)
        PreviewRules.register(&t)
        ContribRules.register(&t)
        return t
    }()
}
