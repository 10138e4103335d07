// Colours of the op categories for drawings and the legend. The categories themselves (which
// op is which family) come from GraphOps' registry, the one table every part reads; only the
// palette lives here.

import GraphOps

extension OpCategory {
    /// Category of a drawn node's op type, from the registry (domain-agnostic: drawings from
    /// formats without domains carry only the name; see `OpRegistry.category(opType:domain:)`).
    static func of(_ op: String) -> OpCategory { OpRegistry.builtIn.category(opType: op) }

    /// Fill colour (light, so black text stays readable).
    public var fill: String {
        switch self {
        case .convolution: return "#bbdefb"
        case .pooling: return "#b3e5fc"
        case .matmul: return "#d1c4e9"
        case .attention: return "#e1bee7"
        case .normalization: return "#c8e6c9"
        case .activation: return "#ffe0b2"
        case .elementwise: return "#fff9c4"
        case .reduction: return "#f8bbd0"
        case .shape: return "#e0e0e0"
        case .quantization: return "#dcedc8"
        case .recurrent: return "#b2dfdb"
        case .control: return "#ffccbc"
        case .constant: return "#f5f5f5"
        case .other: return "#d7ccc8"
        }
    }

    /// Border colour, a darker shade of the fill.
    public var stroke: String {
        switch self {
        case .convolution: return "#1e88e5"
        case .pooling: return "#039be5"
        case .matmul: return "#5e35b1"
        case .attention: return "#8e24aa"
        case .normalization: return "#43a047"
        case .activation: return "#fb8c00"
        case .elementwise: return "#c0a000"
        case .reduction: return "#d81b60"
        case .shape: return "#757575"
        case .quantization: return "#7cb342"
        case .recurrent: return "#00897b"
        case .control: return "#e64a19"
        case .constant: return "#9e9e9e"
        case .other: return "#6d4c41"
        }
    }
}
