/// GraphIR owns the in-memory model graph: nodes with stable ids, values that know their
/// producer and uses, element types and symbolic shapes, typed attributes, lazily loaded
/// tensor data, the module hierarchy, annotations and provenance. It depends on nothing else
/// in Graphsmith; every other graph target builds on it.
