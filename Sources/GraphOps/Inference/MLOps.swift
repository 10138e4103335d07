/// Rules for the ai.onnx.ml domain (classic machine-learning operators: linear and tree models,
/// SVMs, encoders, scalers, map/sequence conversions). Shapes follow onnx's inference functions
/// where onnx has one and onnxruntime's kernels where it does not (cross-checked in
/// `Tests/e2e/test_shape_inference.py::test_new_op_rules_agree_with_onnx_and_onnxruntime`).
/// A batch of rows is `[N, C]`; linear models and regressors also take one row as `[C]`.
import GraphIR

enum MLRules {
    static let domain = "ai.onnx.ml::"

    static func register(_ t: inout [String: InferenceRule]) {
        for op in ["Binarizer", "Imputer"] { t[domain + op] = NNRules.sameAsInput0 }
        for op in ["Normalizer", "Scaler"] { t[domain + op] = floatSameShape }
        t[domain + "LinearClassifier"] = linearClassifier
        t[domain + "LinearRegressor"] = linearRegressor
        t[domain + "SVMClassifier"] = svmClassifier
        t[domain + "SVMRegressor"] = svmRegressor
        t[domain + "TreeEnsembleClassifier"] = treeEnsembleClassifier
        t[domain + "TreeEnsembleRegressor"] = treeEnsembleRegressor
        t[domain + "TreeEnsemble"] = treeEnsemble
        t[domain + "OneHotEncoder"] = oneHotEncoder
        t[domain + "LabelEncoder"] = labelEncoder
        t[domain + "CategoryMapper"] = categoryMapper
        t[domain + "ArrayFeatureExtractor"] = arrayFeatureExtractor
        t[domain + "FeatureVectorizer"] = featureVectorizer
        t[domain + "ZipMap"] = zipMap
        t[domain + "DictVectorizer"] = dictVectorizer
        t[domain + "CastMap"] = castMap
    }

    /// Number of entries of a list attribute of any kind (nil when absent).
    static func count(_ c: RuleContext, _ name: String) -> Int? {
        switch c.attr(name) {
        case .ints(let v)?: return v.count
        case .floats(let v)?: return v.count
        case .strings(let v)?: return v.count
        case .tensor(let t)?: return t.elementCount
        default: return nil
        }
    }

    /// The class label type and count: int64 labels or string labels, exactly one of the two
    /// lists non-empty.
    static func labelType(_ c: RuleContext, ints: String, strings: String) throws -> (ElementType, Int) {
        let ni = count(c, ints) ?? 0, ns = count(c, strings) ?? 0
        switch (ni > 0, ns > 0) {
        case (true, false): return (.int64, ni)
        case (false, true): return (.string, ns)
        case (false, false): throw InferenceFailure("neither '\(ints)' nor '\(strings)' is given")
        case (true, true): throw InferenceFailure("both '\(ints)' and '\(strings)' are given")
        }
    }

    /// The batch size of a `[N, C]` input, 1 for one row `[C]`; throws for other ranks.
    static func rows(_ c: RuleContext, allowVector: Bool = true) throws -> SymDim? {
        let d = try c.dims(0)
        if d.count == 2 { return d[0] }
        if d.count == 1 && allowVector { return SymDim(1) }
        throw InferenceFailure("input has rank \(d.count), expected \(allowVector ? "1 or 2" : "2")")
    }

    static func floatSameShape(_ c: RuleContext) throws -> [ValueFacts?] {
        [.tensor(.float, try c.tensor(0).1)]
    }

    /// Scores are `[N, E]` with E the number of intercepts (2 for a binary model given one
    /// intercept and two labels), as onnx infers; without intercepts E is not known.
    static func linearClassifier(_ c: RuleContext) throws -> [ValueFacts?] {
        let (label, labels) = try labelType(c, ints: "classlabels_ints", strings: "classlabels_strings")
        let n = try rows(c)
        var classes: SymDim?
        if let k = count(c, "intercepts"), k > 0 { classes = SymDim(Int64(k == 1 && labels == 2 ? 2 : k)) }
        return [.tensor(label, [n]), .tensor(.float, [n, classes])]
    }

    static func linearRegressor(_ c: RuleContext) throws -> [ValueFacts?] {
        [.tensor(.float, [try rows(c), SymDim(try c.int("targets"))])]
    }

    /// Labels are `[N]`; the score width depends on the kernel and on whether probabilities
    /// are computed, so only its rank is given.
    static func svmClassifier(_ c: RuleContext) throws -> [ValueFacts?] {
        let (label, _) = try labelType(c, ints: "classlabels_ints", strings: "classlabels_strings")
        let n = try rows(c)
        return [.tensor(label, [n]), .tensor(.float, [n, nil])]
    }

    static func svmRegressor(_ c: RuleContext) throws -> [ValueFacts?] {
        [.tensor(.float, [try rows(c), SymDim(1)])]
    }

    static func treeEnsembleClassifier(_ c: RuleContext) throws -> [ValueFacts?] {
        let (label, labels) = try labelType(c, ints: "classlabels_int64s", strings: "classlabels_strings")
        let n = try rows(c, allowVector: false)
        return [.tensor(label, [n]), .tensor(.float, [n, SymDim(Int64(labels))])]
    }

    static func treeEnsembleRegressor(_ c: RuleContext) throws -> [ValueFacts?] {
        [.tensor(.float, [try rows(c, allowVector: false), SymDim(try c.int("n_targets"))])]
    }

    /// TreeEnsemble (ml opset 5): the input's element type, `[N, n_targets]`.
    static func treeEnsemble(_ c: RuleContext) throws -> [ValueFacts?] {
        let e = try c.elementType(0)
        return [.tensor(e, [try rows(c, allowVector: false), SymDim(try c.int("n_targets"))])]
    }

    static func oneHotEncoder(_ c: RuleContext) throws -> [ValueFacts?] {
        let (_, d) = try c.tensor(0)
        let (_, cats) = try labelType(c, ints: "cats_int64s", strings: "cats_strings")
        return [.tensor(.float, d.map { $0 + [SymDim(Int64(cats))] })]
    }

    /// LabelEncoder: the input's shape, the element type of the value table.
    static func labelEncoder(_ c: RuleContext) throws -> [ValueFacts?] {
        let (_, d) = try c.tensor(0)
        if case .tensor(let t)? = c.attr("values_tensor") { return [.tensor(t.elementType, d)] }
        for (name, e) in [("values_strings", ElementType.string), ("values_int64s", .int64), ("values_floats", .float)]
        where c.attr(name) != nil {
            return [.tensor(e, d)]
        }
        throw InferenceFailure("no values table (values_strings, values_int64s, values_floats or values_tensor)")
    }

    /// CategoryMapper maps strings to int64 and int64 to strings; same shape.
    static func categoryMapper(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        switch e {
        case .string: return [.tensor(.int64, d)]
        case .int64: return [.tensor(.string, d)]
        default: throw InferenceFailure("input is \(e.name), expected string or int64")
        }
    }

    /// ArrayFeatureExtractor: the last axis is replaced by the number of indices; one row
    /// `[C]` gives `[1, k]`.
    static func arrayFeatureExtractor(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        let (_, id) = try c.tensor(1)
        let k = id.flatMap { Shapes.product($0[...]) }
        guard let d else { return [.tensor(e, nil)] }
        guard !d.isEmpty else { throw InferenceFailure("input is a scalar") }
        if d.count == 1 { return [.tensor(e, [SymDim(1), k])] }
        return [.tensor(e, Array(d.dropLast()) + [k])]
    }

    /// FeatureVectorizer: `[N, sum(inputdimensions)]`.
    static func featureVectorizer(_ c: RuleContext) throws -> [ValueFacts?] {
        let n = try rows(c)
        let widths = c.ints("inputdimensions") ?? []
        guard widths.count == c.inputCount else {
            throw InferenceFailure("\(widths.count) inputdimensions for \(c.inputCount) inputs")
        }
        return [.tensor(.float, [n, SymDim(widths.reduce(0, &+))])]
    }

    /// ZipMap: a sequence of maps from class label to score.
    static func zipMap(_ c: RuleContext) throws -> [ValueFacts?] {
        _ = try c.tensor(0)
        let (label, _) = try labelType(c, ints: "classlabels_int64s", strings: "classlabels_strings")
        return [ValueFacts(type: .sequence(.other(.map(key: label, value: .tensor(.float, TensorShape([]))))))]
    }

    /// The map type of input 0 (key and value element types).
    static func mapInput(_ c: RuleContext) throws -> (ElementType, ElementType) {
        let f = try c.facts(0)
        guard case .other(.map(let k, let v))? = f.type else {
            throw InferenceFailure("input 0 is \(f.type?.description ?? "?"), expected a map")
        }
        guard let e = v?.elementType else { throw InferenceFailure("the map's value type is unknown", kind: .unknownInput) }
        return (k, e)
    }

    /// DictVectorizer: one row `[1, vocabulary size]` of the map's value type.
    static func dictVectorizer(_ c: RuleContext) throws -> [ValueFacts?] {
        let (key, value) = try mapInput(c)
        let vocab = key == .string ? count(c, "string_vocabulary") : count(c, "int64_vocabulary")
        guard let vocab else { throw InferenceFailure("no vocabulary for \(key.name) keys") }
        return [.tensor(value, [SymDim(1), SymDim(Int64(vocab))])]
    }

    /// CastMap: `[1, max_map]` when sparse, `[1, map size]` (unknown) when dense.
    static func castMap(_ c: RuleContext) throws -> [ValueFacts?] {
        _ = try mapInput(c)
        let e: ElementType
        switch try c.string("cast_to") {
        case "TO_FLOAT": e = .float
        case "TO_STRING": e = .string
        case "TO_INT64": e = .int64
        case let s: throw InferenceFailure("cast_to '\(s)' is not TO_FLOAT, TO_STRING or TO_INT64")
        }
        let width: SymDim? = try c.string("map_form") == "SPARSE" ? SymDim(try c.int("max_map")) : nil
        return [.tensor(e, [SymDim(1), width])]
    }
}
