/// `SchemaProblem`: one way a node disagrees with its operator's schema (unknown op or domain,
/// arity, attribute names/types/values, element types), naming the node (id and display name),
/// the input, output or attribute concerned, what the schema expects and what the node has.

import GraphIR

/// One schema problem of one node.
public struct SchemaProblem: Sendable, Equatable, CustomStringConvertible {
    /// How bad it is: errors make the model invalid for ONNX; warnings are worth knowing (an
    /// op no table knows is not checked; a deprecated op still runs in most runtimes).
    public enum Severity: String, Sendable, Comparable {
        case error, warning
        public static func < (a: Severity, b: Severity) -> Bool { a == .error && b == .warning }
    }

    /// What kind of disagreement it is (stable identifiers for the JSON data).
    public enum Kind: String, Sendable {
        case unknownDomain, missingOpsetImport, unknownOp, opNotInOpset, deprecatedOp,
             tooFewInputs, tooManyInputs, missingRequiredInput, tooFewOutputs, tooManyOutputs,
             unknownAttribute, attributeType, missingAttribute, illegalValue,
             inputType, outputType, typeConstraintMismatch
    }

    /// Severity.
    public var severity: Severity
    /// Kind.
    public var kind: Kind
    /// The node.
    public var node: NodeID
    /// The node's display name (`Node.displayName`).
    public var nodeName: String
    /// The node's op as `domain::Op` for non-default domains.
    public var op: String
    /// Where the node lives: empty for the main graph, else e.g. `n12.then_branch` or `function F`.
    public var scope: String
    /// The part of the node concerned: `op`, `input 2 (B)`, `output 0 (Y)`, `attribute auto_pad`.
    public var location: String
    /// What the schema expects, in words.
    public var expected: String
    /// What the node has.
    public var found: String
    /// Closest valid names, for a misspelled op or attribute.
    public var suggestions: [String]
    /// The value an input or output type problem concerns (a drawing marks its edge), else nil.
    public var value: String?

    /// Creates a problem.
    public init(severity: Severity, kind: Kind, node: Node, scope: String, location: String,
                expected: String, found: String, suggestions: [String] = []) {
        self.severity = severity
        self.kind = kind
        self.node = node.id
        self.nodeName = node.displayName
        self.op = node.qualifiedOpType
        self.scope = scope
        self.location = location
        self.expected = expected
        self.found = found
        self.suggestions = suggestions
    }

    /// The expectation, finding and suggestions, for a table whose other columns name the part.
    public var detail: String {
        var s = "expected \(expected), found \(found)"
        if !suggestions.isEmpty { s += "; did you mean " + suggestions.map { "'\($0)'" }.joined(separator: ", ") + "?" }
        return s
    }

    /// The part concerned with `detail` (`attribute auto_pad: expected one of ..., found 'SAME'`).
    public var message: String { "\(location): \(detail)" }

    public var description: String {
        "\(severity.rawValue): node \(node) '\(nodeName)' (\(op))\(scope.isEmpty ? "" : " in \(scope)") \(message)"
    }
}
