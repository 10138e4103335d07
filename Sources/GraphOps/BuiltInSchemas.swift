/// Loading the bundled schema resources into `OpRegistry.builtIn`: the generated ONNX table
/// (onnx_schemas.json, from scripts/gen_op_schemas.py) and the hand-written com.microsoft and
/// TFLite tables, all in the same JSON format (`{"source": ..., "schemas": [OpSchema...]}`).

import Foundation

extension OpRegistry {
    /// The resource files `builtIn` reads, in order (later files may add versions, never
    /// silently replace: a duplicate is reported in `loadProblems`).
    public static let resourceNames = ["onnx_schemas", "contrib_schemas", "tflite_schemas"]

    /// The registry of every bundled schema, decoded once on first use. Immutable and shared
    /// like any constant table; a resource that cannot be read leaves its ops out and says
    /// why in `loadProblems` rather than failing the kernel.
    public static let builtIn: OpRegistry = loadBuiltIn()

    private struct ResourceFile: Decodable { var schemas: [OpSchema] }

    /// Decodes one resource file's schemas.
    public static func decodeSchemas(_ data: Data) throws -> [OpSchema] {
        try JSONDecoder().decode(ResourceFile.self, from: data).schemas
    }

    private static func loadBuiltIn() -> OpRegistry {
        var registry = OpRegistry(schemas: [])
        var problems: [String] = []
        for name in resourceNames {
            guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Resources")
                    ?? Bundle.module.url(forResource: name, withExtension: "json") else {
                problems.append("\(name).json is missing from the GraphOps bundle")
                continue
            }
            do {
                let schemas = try decodeSchemas(try Data(contentsOf: url))
                for s in schemas {
                    if registry.versions(domain: s.domain, opType: s.opType).contains(where: { $0.sinceVersion == s.sinceVersion }) {
                        problems.append("\(name).json repeats \(s.qualifiedName)")
                    }
                    registry.add(s)
                }
            } catch {
                problems.append("\(name).json could not be read: \(error)")
            }
        }
        registry.loadProblems = problems
        return registry
    }
}
