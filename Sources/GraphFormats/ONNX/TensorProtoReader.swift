/// Reads a lone serialized `TensorProto` (the `input_*.pb` / `output_*.pb` files of the ONNX
/// backend node tests, `onnx.numpy_helper.from_array(...).SerializeToString()`), with the
/// same decoder the model reader uses for initializers.
import Foundation
import GraphIR

extension ONNXReader {
    /// Decodes one `TensorProto` from `bytes`. The tensor's data views a private copy of
    /// `bytes`, so the caller's array can go away.
    public static func loadTensor(bytes: [UInt8], name: String = "<tensor>") throws -> Tensor {
        let storage = ByteStorage(copying: bytes, origin: name)
        let d = ONNXDecoder(storage: storage, file: name, baseDirectory: nil)
        defer { withExtendedLifetime(d) {} }
        return try d.readTensor(d.ctx.root)
    }

    /// Decodes the `TensorProto` file at `path`.
    public static func loadTensor(path: String) throws -> Tensor {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ONNXError(file: path, message: "cannot open")
        }
        return try loadTensor(bytes: [UInt8](data), name: path)
    }
}
