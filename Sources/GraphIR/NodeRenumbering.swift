/// Renumbering nodes: how a reader gives nodes back the ids a file saved for them (Graphsmith
/// writes ids into node metadata so annotations, overrides and overlays keyed by id stay valid
/// across export and load). Owns only the rewrite of ids through a graph and its bodies; which
/// id each node gets is the reader's decision.

extension Graph {
    /// This graph with every node id (bodies at any depth included) replaced by `newID(id)`,
    /// drawing from the same id space, which is reserved above every id given. `newID` must be
    /// injective over the model; ids it repeats are replaced by fresh ones, as the graph
    /// initializer does for any duplicates.
    package func renumberingNodes(_ newID: (NodeID) -> NodeID) -> Graph {
        var renumbered = nodes
        for i in renumbered.indices {
            renumbered[i].id = newID(renumbered[i].id)
            if renumbered[i].hasSubgraphs {
                renumbered[i].attributes = renumbered[i].attributes.map { $0.renumberingNodes(newID) }
            }
        }
        return Graph(name: name, nodes: renumbered, inputs: inputs, outputs: outputs, initializers: initializers,
                     sparseInitializers: sparseInitializers, valueInfo: valueInfo, docString: docString,
                     metadataProps: metadataProps, isSubgraph: isSubgraph, unknownFields: unknownFields,
                     firstNodeID: 0, idSpace: storage.ids)
    }
}

extension Attribute {
    /// The attribute with the nodes of the bodies it holds renumbered (others unchanged).
    package func renumberingNodes(_ newID: (NodeID) -> NodeID) -> Attribute {
        var a = self
        switch value {
        case .graph(let g): a.value = .graph(g.renumberingNodes(newID))
        case .graphs(let gs): a.value = .graphs(gs.map { $0.renumberingNodes(newID) })
        default: break
        }
        return a
    }
}

extension Graph {
    /// Makes this graph (and every graph sharing its id space) draw fresh ids from one counter
    /// with `other`'s space. For a graph rebuilt outside the model's lineage whose ids were
    /// chosen to continue it (a plugin's result renumbered onto the version it came from): after
    /// the join, neither line of versions can hand out an id the other used.
    package func joinNodeIDs(with other: Graph) {
        storage.ids.join(other.storage.ids)
    }
}
