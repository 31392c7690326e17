extension ItemModel {
    /// The content-only items (cfCount..<count) a history's content profile reaches, as terms of
    /// their Float scores: `body(j, term)` for each, and an item's score is the sum of its terms
    /// in the order given, starting from 0 (the scores contentOnlyScores() gives):
    ///   - with the image's posting lists (ContentSlots), one term per non-zero dimension the
    ///     item shares with the profile, dimensions increasing, and one term (the dense dot
    ///     product) for an item whose vector is listed as dense; the other items score exactly 0
    ///     and get no term;
    ///   - without them (a model built in memory), one gemv over the dense vectors and one term
    ///     per item with a vector.
    /// Items without a vector, and every item when no history item has one, are not passed: they
    /// cannot be scored (see contentOnlyUnreachable). Returns whether the history has a content
    /// vector.
    @discardableResult
    func forEachContentOnlyTerm(_ h: ScoredHistory, scale f: Double, _ body: (Int32, Float) -> Void) -> Bool {
        let n = count, cf = cfCount
        guard n > cf, let c = content else { return false }
        guard let sl = c.slots, sl.covers(first: cf, count: n, dims: c.dims), c.present.count >= n, c.vectors.count >= n * c.dims else {
            let (cs, any) = contentScores(h, scale: f, from: cf)
            guard any else { return false }
            for j in cf..<n where c.present[j] && j - cf < cs.count { body(Int32(truncatingIfNeeded: j), cs[j - cf]) }
            return true
        }
        let (profile, any) = contentProfile(h, scale: f)
        guard any, profile.count == c.dims else { return false }
        let d = c.dims
        profile.withUnsafeBufferPointer { p in
            sl.items.withUnsafeBufferPointer { items in
                sl.values.withUnsafeBufferPointer { vals in
                    for k in 0..<d where p[k] != 0 {
                        let x = p[k]
                        for t in Int(sl.starts[k])..<Int(sl.starts[k + 1]) {
                            let j = items[t]
                            guard Int(j) >= cf && Int(j) < n else { continue }   // a damaged index
                            body(j, x * vals[t])
                        }
                    }
                    // vectors with more non-zero entries than the lists hold: the dense dot product
                    c.vectors.withUnsafeBufferPointer { vectors in
                        for t in Int(sl.starts[d])..<Int(sl.starts[d + 1]) {
                            let j = Int(items[t])
                            guard j >= cf && j < n && c.present[j] else { continue }
                            var dot: Float = 0
                            let vb = j * d
                            for q in 0..<d { dot += vectors[vb + q] * p[q] }
                            body(Int32(truncatingIfNeeded: j), dot)
                        }
                    }
                }
            }
        }
        return true
    }

    /// Whether content-only item j cannot be scored for a history (NaN in scores()): it has no
    /// content vector, or the history has none (`historyHasContent`).
    @inline(__always) func contentOnlyUnreachable(_ j: Int, historyHasContent: Bool) -> Bool {
        guard j >= cfCount, j < count else { return false }
        guard historyHasContent, let c = content, j < c.present.count else { return true }
        return !c.present[j]
    }
}
