/// Batch edits of `Graph`: removing many nodes, initializers or graph inputs in one pass over
/// their list. Each is the same as the one-by-one edit applied in order (same graph, same
/// index, same refusals), but a pass that drops k of N items costs O(N + k), not O(k·N).

extension Graph {
    /// Removes several nodes with one pass over the node list (one by one, each removal shifts
    /// every later node). The same as removing them one by one in the order given: unless
    /// `allowDangling`, a node's outputs may only be read by nodes listed before it, and every
    /// id must name a node of the graph (once).
    public mutating func removeNodes(_ ids: [NodeID], allowDangling: Bool = false) throws {
        guard ids.count > 1 else {
            if let id = ids.first { try removeNode(id, allowDangling: allowDangling) }
            return
        }
        var order: [NodeID: Int] = [:]
        order.reserveCapacity(ids.count)
        var positions: [Int] = []
        positions.reserveCapacity(ids.count)
        for (k, id) in ids.enumerated() {
            guard let p = storage.position[id], order.updateValue(k, forKey: id) == nil else { throw GraphEditError.noSuchNode(id) }
            positions.append(p)
        }
        if !allowDangling {
            let outs = Set(storage.outputs.map(\.name))
            for (k, p) in positions.enumerated() {
                let used = storage.nodes[p].outputs.array.filter { o in
                    !o.isEmpty && (outs.contains(o) || (storage.values[uses: o] ?? []).contains { (order[$0.node] ?? Int.max) > k })
                }
                if !used.isEmpty { throw GraphEditError.outputsStillUsed(node: ids[k], values: used) }
            }
        }
        makeUnique()
        // Uses go per name, once: a value read by many of the removed nodes is scanned once.
        var read = Set<String>()
        for p in positions {
            let n = storage.nodes[p]
            for name in n.inputs where !name.isEmpty { read.insert(name) }
            if n.hasSubgraphs { for (_, g) in n.subgraphs { read.formUnion(g.storage.outerReferences) } }
        }
        if ids.count <= 16 {
            // A fused chain: comparing a few ids beats hashing each use of a widely read value.
            let few = ids.map(\.rawValue)
            for name in read { storage.values.removeUses(of: name) { few.contains($0.rawValue) } }
        } else {
            let removed = Set(ids)
            for name in read { storage.values.removeUses(of: name) { removed.contains($0) } }
        }
        var touched: [String] = []
        for (k, p) in positions.enumerated() {
            let n = storage.nodes[p]
            for o in n.outputs where !o.isEmpty {
                if case .node(let pid, _)? = storage.values[producer: o], pid == ids[k] { storage.values[producer: o] = nil }
            }
            touched += Graph.consumedNames(of: n)
            touched += n.outputs.array
            storage.position[ids[k]] = nil
        }
        // Compact once, renumber once.
        positions.sort()
        storage.nodes.remove(atSortedPositions: positions)
        storage.renumber(from: positions[0])
        updateOuterReferences(touching: touched)
    }

    /// Removes several initializers with one pass over the initializer list: the same as
    /// removing them one by one in the order given. Initializers nothing reads, of names no
    /// graph input, outer scope or second initializer shares, go in one batch; anything else
    /// (a still-read one with `allowDangling`, say) goes one by one.
    public mutating func removeInitializers(named names: [String], allowDangling: Bool = false) throws {
        guard names.count > 1 else {
            if let name = names.first { try removeInitializer(named: name, allowDangling: allowDangling) }
            return
        }
        var positions: [Int] = []
        positions.reserveCapacity(names.count)
        var simple = !storage.values.hasDuplicateInitializers && Set(names).count == names.count
        if simple {
            for name in names {
                guard let p = storage.values[initializer: name], storage.values[producer: name] == .initializer,
                      (storage.values[uses: name] ?? []).isEmpty, !storage.outerReferences.contains(name) else { simple = false; break }
                positions.append(p)
            }
        }
        guard simple else {
            for name in names { try removeInitializer(named: name, allowDangling: allowDangling) }
            return
        }
        makeUnique()
        positions.sort()
        storage.initializers.remove(atSortedPositions: positions)
        storage.values.removeInitializers(at: positions)
        for name in names { storage.values[producer: name] = nil }
    }

    /// Removes the graph inputs named `names`: the same as `removeInput(named:)` for each in
    /// order, in one pass over the input list when every name is one input that an initializer
    /// of the same name (IR < 4) keeps defining — how passes drop thousands of weights of an
    /// IR-3 model; anything else goes one by one.
    public mutating func removeInputs(named names: [String]) {
        var positions: [Int] = []
        var seen = Set<String>()
        var simple = !storage.values.hasDuplicateInputs
        for name in names where simple && seen.insert(name).inserted {
            guard case .graphInput(let j)? = storage.values[producer: name], storage.values[initializer: name] != nil else {
                simple = false
                break
            }
            positions.append(j)
        }
        guard simple, positions.count > 1 else {
            for name in names { removeInput(named: name) }
            return
        }
        makeUnique()
        positions.sort()
        storage.inputs.remove(atSortedPositions: positions)
        storage.values.removeInputs(at: positions)
        // Each name's initializer defines it from now on; its declared type falls back to an
        // output's or value_info's.
        for name in seen {
            storage.values[producer: name] = .initializer
            refreshDeclaredType(of: name)
        }
        updateOuterReferences(touching: seen)
    }
}

extension Array {
    /// Removes the elements at `positions` (ascending, distinct, in range) in one pass: between
    /// the first and the last of them the kept elements move down by swaps (no reference
    /// counting), which gathers the removed ones just before the last position; that block
    /// goes in one cut (one move of the tail). k removals one by one would move the tail k times.
    mutating func remove(atSortedPositions positions: [Int]) {
        guard let first = positions.first, let last = positions.last else { return }
        withUnsafeMutableBufferPointer { list in
            var write = first, next = 0
            for read in first...last {
                if next < positions.count && positions[next] == read { next += 1; continue }
                list.swapAt(write, read)
                write += 1
            }
        }
        removeSubrange((last + 1 - positions.count)...last)
    }
}
