/// GraphFormats owns reading and writing graphs: ONNX (protobuf read straight from mapped
/// bytes, lossless write, external data), Model Explorer JSON and session files, one
/// subfolder per format.
