import XCTest
@testable import GraphEstimation
import GraphOps

/// The estimator's op families come from the GraphOps registry's categories. For every op the
/// estimator's own lists named before, the derived family is the one it had (so no figure moves);
/// ops it did not know get the family their category gives.
final class OpTraitsTests: XCTestCase {
    // The estimator's lists before the registry (kept here only as the reference).
    let binary = ["Add", "Sub", "Mul", "Div", "Mod", "Max", "Min", "Sum", "Mean", "Equal", "Less", "Greater", "LessOrEqual",
                  "GreaterOrEqual", "And", "Or", "Xor", "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor"]
    let unary = ["Relu", "Neg", "Abs", "Floor", "Ceil", "Round", "Sign", "Not", "Clip", "LeakyRelu", "HardSigmoid", "HardSwish",
                 "Softsign", "PRelu", "ThresholdedRelu", "Shrink", "IsNaN", "IsInf", "QuantizeLinear", "DequantizeLinear", "CumSum",
                 "Hardmax", "CumProd", "BitwiseNot"]
    let reductions = ["ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum",
                      "ReduceLogSumExp", "ReduceSumSquare", "ArgMax", "ArgMin", "TopK"]
    let movement = ["Transpose", "Concat", "Split", "Slice", "Gather", "GatherElements", "GatherND", "Pad", "Expand", "Tile", "Cast",
                    "CastLike", "DepthToSpace", "SpaceToDepth", "ScatterND", "ScatterElements", "Scatter", "Where", "OneHot", "Range",
                    "Trilu", "Resize", "Upsample", "NonZero", "Compress", "ReverseSequence"]

    func testFamiliesFromTheRegistryMatchTheFormerLists() {
        for op in binary { XCTAssertEqual(OpTraits.of(op).costGroup, .binary, op) }
        for op in unary { XCTAssertEqual(OpTraits.of(op).costGroup, .simpleUnary, op) }
        for op in reductions { XCTAssertEqual(OpTraits.of(op).costGroup, .reduction, op) }
        for op in CostModel.transcendental { XCTAssertEqual(OpTraits.of(op).costGroup, .transcendental, op) }
        for op in movement {
            XCTAssertTrue(OpTraits.of(op).isDataMovement, op)
            XCTAssertFalse(OpTraits.of(op).isMetadata, op)
        }
        for op in CostModel.views { XCTAssertTrue(OpTraits.of(op).isMetadata, op); XCTAssertEqual(OpTraits.of(op).costGroup, .other, op) }
        for op in CostModel.ownFormula { XCTAssertEqual(OpTraits.of(op).costGroup, .other, op); XCTAssertTrue(OpTraits.of(op).hasCostFormula, op) }
        XCTAssertEqual(OpTraits.table.filter { $0.value.isControlFlow }.keys.sorted(), ["If", "Loop", "Scan"])
        XCTAssertEqual(OpTraits.table.filter { $0.value.neverFolded }.keys.sorted(),
                       ["Bernoulli", "If", "Loop", "Multinomial", "RandomNormal", "RandomNormalLike", "RandomUniform",
                        "RandomUniformLike", "Scan"])
        // what the categories add: contrib element-wise ops, layout ops the lists missed
        XCTAssertEqual(OpTraits.of("BiasAdd").costGroup, .binary)
        XCTAssertEqual(OpTraits.of("QLinearSigmoid").costGroup, .simpleUnary)
        XCTAssertTrue(OpTraits.of("CenterCropPad").isDataMovement)
        // not per element although filed with element-wise ops; unknown ops stay unknown
        XCTAssertFalse(OpTraits.of("Det").hasCostFormula)
        XCTAssertFalse(OpTraits.of("FrobnicateTensor").hasCostFormula)
    }
}
