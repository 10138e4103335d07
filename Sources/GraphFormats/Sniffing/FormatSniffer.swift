// Recognises a model file's format from its first bytes, so that a file Graphsmith cannot read
// yet gets a plain "this is TFLite, not supported yet; do X" instead of a protobuf decode error
// ("ModelProto at byte 2: invalid field number 0").

import Foundation

/// The formats recognised by their leading bytes.
public enum ModelFileFormat: String, Sendable, CaseIterable {
    case onnx
    case tflite
    case pytorchArchive
    case hdf5
    case gguf
    case safetensors
    case json
    case mlirText
    case empty
    case unknown

    /// What a user calls it.
    public var displayName: String {
        switch self {
        case .onnx: return "ONNX"
        case .tflite: return "TensorFlow Lite flatbuffer (TFL3)"
        case .pytorchArchive: return "zip archive (a PyTorch checkpoint or TorchScript file?)"
        case .hdf5: return "HDF5 file (a Keras .h5 model?)"
        case .gguf: return "GGUF file (llama.cpp weights)"
        case .safetensors: return "safetensors weights file"
        case .json: return "JSON document"
        case .mlirText: return "MLIR text"
        case .empty: return "empty file"
        case .unknown: return "unrecognised file"
        }
    }

    /// Whether Graphsmith has a reader for it.
    public var isReadable: Bool { self == .onnx }

    /// What to do with a file of this format today (nil for readable ones).
    public var advice: String? {
        switch self {
        case .onnx: return nil
        case .tflite:
            return "Graphsmith does not read TFLite yet (a TFLite reader is planned); convert it to ONNX, e.g. "
                + "`python -m tf2onnx.convert --tflite FILE.tflite --output FILE.onnx`, and load that"
        case .pytorchArchive:
            return "export the model to ONNX with `torch.onnx.export(model, example_inputs, \"model.onnx\")` and load that"
        case .hdf5:
            return "convert the Keras model to ONNX (e.g. with tf2onnx) and load that"
        case .gguf, .safetensors:
            return "this file holds weights only, no graph; export the model to ONNX and load that"
        case .json:
            return "Graphsmith writes Model Explorer JSON but reads ONNX; load the .onnx file it came from"
        case .mlirText:
            return "Graphsmith does not read MLIR yet (an MLIR reader is planned)"
        case .empty:
            return "the file has no bytes"
        case .unknown:
            return nil
        }
    }

    /// Recognises `bytes`, the first (up to) 64 bytes of a file.
    public static func sniff(_ bytes: [UInt8]) -> ModelFileFormat {
        if bytes.isEmpty { return .empty }
        func ascii(_ range: Range<Int>) -> String? {
            guard range.upperBound <= bytes.count else { return nil }
            return String(decoding: bytes[range], as: UTF8.self)
        }
        // FlatBuffers put the file identifier at bytes 4..<8; TFLite's is "TFL3".
        if ascii(4..<8) == "TFL3" { return .tflite }
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return .pytorchArchive }
        if bytes.starts(with: [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]) { return .hdf5 }
        if ascii(0..<4) == "GGUF" { return .gguf }
        // safetensors: an 8-byte little-endian header length, then a JSON object.
        if bytes.count > 9, bytes[8] == UInt8(ascii: "{"), bytes[4..<8].allSatisfy({ $0 == 0 }) { return .safetensors }
        let text = String(decoding: bytes.prefix(64), as: UTF8.self).drop { $0.isWhitespace }
        if text.hasPrefix("{") || text.hasPrefix("[") { return .json }
        if text.hasPrefix("module") || text.hasPrefix("func.func") || text.hasPrefix("#") && text.contains("= affine_map")
            || text.hasPrefix("\"builtin.module\"") {
            return .mlirText
        }
        // An ONNX ModelProto starts with field 1 (ir_version, varint: 0x08) or, written by some
        // tools, another top-level field (producer_name 0x12, graph 0x3A, opset_import 0x42...).
        if [0x08, 0x12, 0x1A, 0x22, 0x2A, 0x32, 0x3A, 0x42, 0x4A, 0x52, 0x5A, 0x62, 0x72, 0x7A].contains(bytes[0]) { return .onnx }
        return .unknown
    }

    /// Recognises the file at `url` from its first bytes; nil when it cannot be read.
    public static func sniff(fileAt url: URL) -> ModelFileFormat? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: 64) else { return .empty }
        return sniff([UInt8](data))
    }
}
