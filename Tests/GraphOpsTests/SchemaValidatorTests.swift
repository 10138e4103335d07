// Tests of validation against the schemas: small hand-built bad graphs (arity, attribute kind,
// misspelled attribute and op with suggestions, illegal values, type constraints, opsets,
// unknown domains), and every corpus model (skipped without ../shared) validating with 0 errors.
import XCTest
import Foundation
import GraphIR
import GraphFormats
@testable import GraphOps

final class SchemaValidatorTests: XCTestCase {
    let validator = SchemaValidator()

    private func f32(_ dims: Int64...) -> ValueType { .tensor(.float, TensorShape(static: dims)) }

    /// One node over float inputs x (and w) in a model importing `opset`.
    private func model(_ node: Node, opset: Int64 = 17, extra: [OpsetImport] = [],
                       inputs: [ValueInfo]? = nil) -> Model {
        let ins = inputs ?? [ValueInfo(name: "x", type: f32(1, 3, 8, 8)), ValueInfo(name: "w", type: f32(4, 3, 3, 3))]
        let g = Graph(nodes: [node], inputs: ins, outputs: node.outputs.map { ValueInfo(name: $0) })
        return Model(graph: g, opsetImports: [OpsetImport(version: opset)] + extra)
    }

    func testValidNodeHasNoProblems() {
        let conv = Node(opType: "Conv", name: "conv1", inputs: ["x", "w"], outputs: ["y"],
                        attributes: [Attribute("auto_pad", .text("SAME_UPPER")), Attribute("strides", .ints([1, 1]))])
        XCTAssertEqual(validator.validate(model(conv)), [])
    }

    func testWrongArity() throws {
        let relu = Node(opType: "Relu", name: "r", inputs: ["x", "w"], outputs: ["y"])
        let p = try XCTUnwrap(validator.validate(model(relu)).first)
        XCTAssertEqual(p.kind, .tooManyInputs)
        XCTAssertEqual(p.nodeName, "r")
        XCTAssertEqual(p.expected, "at most 1 (X)")
        XCTAssertEqual(p.found, "2")
        let conv = Node(opType: "Conv", inputs: ["x"], outputs: ["y"])
        let q = try XCTUnwrap(validator.validate(model(conv)).first)
        XCTAssertEqual(q.kind, .tooFewInputs)
        XCTAssertEqual(q.nodeName, "Conv_0", "unnamed nodes are named by Node.displayName")
        XCTAssertEqual(q.expected, "at least 2 (X, W, B?)")
        let empty = Node(opType: "Conv", inputs: ["x", ""], outputs: ["y"])
        XCTAssertEqual(validator.validate(model(empty)).map(\.kind), [.missingRequiredInput])
    }

    func testWrongAttributeKind() throws {
        let conv = Node(opType: "Conv", inputs: ["x", "w"], outputs: ["y"], attributes: [Attribute("group", .float(1))])
        let p = try XCTUnwrap(validator.validate(model(conv)).first)
        XCTAssertEqual(p.kind, .attributeType)
        XCTAssertEqual(p.location, "attribute group")
        XCTAssertEqual(p.expected, "a value of kind int")
        XCTAssertTrue(p.found.hasPrefix("kind float"), p.found)
    }

    func testMisspelledAttributeSuggestsTheClosest() throws {
        let conv = Node(opType: "Conv", name: "c", inputs: ["x", "w"], outputs: ["y"],
                        attributes: [Attribute("kernal_shape", .ints([3, 3]))])
        let p = try XCTUnwrap(validator.validate(model(conv)).first)
        XCTAssertEqual(p.kind, .unknownAttribute)
        XCTAssertEqual(p.suggestions.first, "kernel_shape")
        XCTAssertTrue(p.description.contains("did you mean 'kernel_shape'"), p.description)
        XCTAssertTrue(p.description.contains("node n0 'c' (Conv)"), p.description)
    }

    func testIllegalAutoPad() throws {
        let pool = Node(opType: "MaxPool", inputs: ["x"], outputs: ["y"],
                        attributes: [Attribute("kernel_shape", .ints([2, 2])), Attribute("auto_pad", .text("SAME"))])
        let p = try XCTUnwrap(validator.validate(model(pool)).first)
        XCTAssertEqual(p.kind, .illegalValue)
        XCTAssertEqual(p.expected, "one of NOTSET, SAME_UPPER, SAME_LOWER, VALID")
        XCTAssertEqual(p.found, "'SAME'")
        // Resize's cubic mode exists from opset 11 on, not in Resize-10.
        let resize = Node(opType: "Resize", inputs: ["x", "w"], outputs: ["y"], attributes: [Attribute("mode", .text("cubic"))])
        XCTAssertEqual(validator.validate(model(resize, opset: 10)).map(\.kind), [.illegalValue])
        XCTAssertEqual(validator.validate(model(resize, opset: 11)).map(\.kind), [.tooFewInputs], "Resize-11 needs roi and scales")
        XCTAssertEqual(validator.validate(model(resize, opset: 13)).map(\.kind), [], "roi/scales/sizes are optional from 13")
    }

    func testMissingRequiredAttribute() {
        let concat = Node(opType: "Concat", inputs: ["x", "x"], outputs: ["y"])
        XCTAssertEqual(validator.validate(model(concat)).map(\.kind), [.missingAttribute])
    }

    func testMisspelledOpSuggestsTheClosest() throws {
        let bad = Node(opType: "Conv2D", inputs: ["x", "w"], outputs: ["y"])
        let p = try XCTUnwrap(validator.validate(model(bad)).first)
        XCTAssertEqual(p.kind, .unknownOp)
        XCTAssertEqual(p.severity, .error)
        XCTAssertEqual(p.suggestions.first, "Conv")
    }

    func testOpNewerThanTheImportedOpset() throws {
        let gelu = Node(opType: "Gelu", inputs: ["x"], outputs: ["y"])
        let p = try XCTUnwrap(validator.validate(model(gelu, opset: 17)).first)
        XCTAssertEqual(p.kind, .opNotInOpset)
        XCTAssertEqual(validator.validate(model(gelu, opset: 20)), [])
    }

    func testTypeConstraints() throws {
        let ins = [ValueInfo(name: "x", type: f32(2)), ValueInfo(name: "i", type: .tensor(.int64, TensorShape(static: [2])))]
        let add = Node(opType: "Add", inputs: ["x", "i"], outputs: ["y"])
        let p = try XCTUnwrap(validator.validate(model(add, inputs: ins)).first)
        XCTAssertEqual(p.kind, .typeConstraintMismatch)
        XCTAssertEqual(p.location, "input 1 (B)")
        XCTAssertEqual(p.expected, "T = tensor(float), as 'x' binds it")
        let relu = Node(opType: "Relu", inputs: ["s"], outputs: ["y"])
        let strings = [ValueInfo(name: "s", type: .tensor(.string, TensorShape(static: [2])))]
        let q = try XCTUnwrap(validator.validate(model(relu, inputs: strings)).first)
        XCTAssertEqual(q.kind, .inputType)
        XCTAssertTrue(q.expected.hasPrefix("T in tensor of float"), q.expected)
        XCTAssertEqual(q.found, "tensor(string) ('s')")
    }

    func testDomainsAndImports() {
        let custom = Node(opType: "Mystery", domain: "com.example", inputs: ["x"], outputs: ["y"])
        XCTAssertEqual(validator.validate(model(custom)).map(\.severity), [.warning])
        let gelu = Node(opType: "FastGelu", domain: "com.microsoft", inputs: ["x"], outputs: ["y"])
        XCTAssertEqual(validator.validate(model(gelu)).map(\.kind), [.missingOpsetImport])
        XCTAssertEqual(validator.validate(model(gelu, extra: [OpsetImport(domain: "com.microsoft", version: 1)])), [])
    }

    func testSubgraphNodesAreCheckedWithTheirScope() throws {
        let body = Graph(nodes: [Node(opType: "Relux", inputs: ["x"], outputs: ["z"])], outputs: [ValueInfo(name: "z")],
                         isSubgraph: true)
        let ifNode = Node(opType: "If", name: "branch", inputs: ["c"], outputs: ["y"],
                          attributes: [Attribute("then_branch", .graph(body)), Attribute("else_branch", .graph(body))])
        let ins = [ValueInfo(name: "c", type: .tensor(.bool, TensorShape(static: []))), ValueInfo(name: "x", type: f32(2))]
        let problems = validator.validate(model(ifNode, inputs: ins))
        XCTAssertEqual(problems.count, 2)
        XCTAssertEqual(problems.first?.suggestions.first, "Relu")
        XCTAssertTrue(problems.first?.scope.hasSuffix(".then_branch") ?? false, problems.first?.scope ?? "")
    }

    // MARK: Corpus

    static var shared: URL? {
        let here = URL(fileURLWithPath: #filePath)
        let candidates = [here.appendingPathComponent("../../../../shared").standardized, URL(fileURLWithPath: "/work/shared")]
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("corpus").path) }
    }

    static func corpusONNXFiles() -> [String] {
        guard let root = shared?.appendingPathComponent("corpus") else { return [] }
        var out: [String] = []
        let dirs = ["models", "models/light", "transformers"]
        for d in dirs {
            let dir = root.appendingPathComponent(d)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            out += names.filter { $0.hasSuffix(".onnx") }.sorted().map { dir.appendingPathComponent($0).path }
        }
        return out
    }

    func testEveryCorpusModelValidatesWithoutErrors() throws {
        let files = Self.corpusONNXFiles()
        try XCTSkipIf(files.isEmpty, "shared corpus not present")
        var report: [String] = []
        for path in files {
            let model = try ONNXReader.load(path: path)
            let problems = validator.validate(model)
            let errors = problems.filter { $0.severity == .error }
            report.append("\((path as NSString).lastPathComponent): \(model.graph.nodes.count) nodes, "
                          + "\(errors.count) errors, \(problems.count - errors.count) warnings")
            XCTAssertEqual(errors.map(\.description), [], path)
        }
        print(report.joined(separator: "\n"))
    }

    func testTinyBertValidatesWithoutErrors() throws {
        let url = URL(fileURLWithPath: #filePath).appendingPathComponent("../../../notebooks/models/tiny_bert.onnx").standardized
        let model = try ONNXReader.load(path: url.path)
        XCTAssertEqual(validator.validate(model).filter { $0.severity == .error }.map(\.description), [])
    }

    func testCategoriesOfEveryCorpusOpAreKnown() throws {
        var files = Self.corpusONNXFiles()
        files.append(URL(fileURLWithPath: #filePath).appendingPathComponent("../../../notebooks/models/tiny_bert.onnx").standardized.path)
        let registry = OpRegistry.builtIn
        var unknown: Set<String> = []
        var seen: [String: OpCategory] = [:]
        func visit(_ g: Graph) {
            for n in g.nodes {
                if registry.latest(domain: n.domain, opType: n.opType) == nil { unknown.insert(n.qualifiedOpType) }
                seen[n.qualifiedOpType] = registry.category(opType: n.opType, domain: n.domain)
                for s in n.subgraphs { visit(s.graph) }
            }
        }
        for path in files { visit(try ONNXReader.load(path: path).graph) }
        XCTAssertEqual(unknown, [], "every corpus op has a schema, hence a category from the table")
        XCTAssertEqual(seen["Conv"], .convolution)
        XCTAssertEqual(seen["MatMul"], .matmul)
        XCTAssertEqual(seen["Softmax"], .activation)
        XCTAssertEqual(seen["Reshape"], .shape)
    }
}
