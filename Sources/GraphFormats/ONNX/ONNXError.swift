/// The single error type of the ONNX reader and writer: what went wrong, in which file, at
/// which protobuf field path (`ModelProto.graph.node[12].attribute[3].t.raw_data`) and byte
/// offset, so a user can find the damage.

/// A failure reading or writing an ONNX file.
public struct ONNXError: Error, CustomStringConvertible, Sendable {
    /// The file concerned.
    public var file: String
    /// Protobuf field path, e.g. `ModelProto.graph.node[3].input[0]` (empty when not applicable).
    public var fieldPath: String
    /// Byte offset in `file` where the problem was detected (nil when not applicable).
    public var offset: Int?
    /// What is wrong.
    public var message: String

    /// Creates an error.
    public init(file: String, fieldPath: String = "", offset: Int? = nil, message: String) {
        self.file = file
        self.fieldPath = fieldPath
        self.offset = offset
        self.message = message
    }

    public var description: String {
        var s = file
        if !fieldPath.isEmpty { s += ": \(fieldPath)" }
        if let o = offset { s += " at byte \(o)" }
        return s + ": " + message
    }
}
