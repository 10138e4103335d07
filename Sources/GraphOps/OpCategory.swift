/// The one table of operator families. Each schema in the registry carries its category (the
/// generator and the hand-written tables assign it), so the renderer's legend, the estimator and
/// coverage reports all read the same answer. Raw values are stable identifiers used in SVG
/// `data-category` attributes and the JSON resources.

/// The family an operator belongs to.
public enum OpCategory: String, Codable, CaseIterable, Sendable {
    case convolution, pooling, matmul, attention, normalization, activation, elementwise, reduction,
         shape, quantization, recurrent, control, constant, other

    /// Short human title, as the drawings' legend shows it.
    public var title: String {
        switch self {
        case .convolution: return "convolution"
        case .pooling: return "pooling"
        case .matmul: return "matmul / gemm"
        case .attention: return "attention"
        case .normalization: return "normalization"
        case .activation: return "activation"
        case .elementwise: return "elementwise"
        case .reduction: return "reduction"
        case .shape: return "shape / layout"
        case .quantization: return "quantization"
        case .recurrent: return "recurrent"
        case .control: return "control flow"
        case .constant: return "constant / param"
        case .other: return "other"
        }
    }

    /// Category of a graph's pseudo-nodes (inputs, outputs, initializers) that a drawing shows
    /// but that are not operators; nil for anything else.
    public static func pseudoNode(_ op: String) -> OpCategory? {
        switch op {
        case "Initializer", "Parameter", "Input", "Output", "GraphInput", "GraphOutput": return .constant
        default: return nil
        }
    }
}
