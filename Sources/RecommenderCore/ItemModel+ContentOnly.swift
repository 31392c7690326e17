extension ItemModel {
    /// The content-only items (cfCount..<count) a history reaches, with their Float scores as
    /// contentOnlyScores() gives them, passed to `body(j, score)` in increasing j:
    ///   - NaN for an item without a content vector, and for every item when no history item has
    ///     one (such an item cannot be scored; the popularity fallback leaves it out);
    ///   - the score of every item whose vector shares a non-zero dimension with the history's
    ///     content profile.
    /// The others score exactly 0 and are not passed: no relevance signal makes them candidates.
    /// With the image's content slots (ContentSlots) an item costs its few non-zero pairs; without
    /// them (a model built in memory) one gemv over the dense vectors scores every item.
    func forEachContentOnlyScore(_ h: ScoredHistory, scale f: Double, _ body: (Int, Float) -> Void) {
        let n = count, cf = cfCount
        guard n > cf, let c = content else { return }
        guard let sl = c.slots, sl.covers(first: cf, count: n), c.present.count >= n, c.vectors.count >= n * c.dims else {
            let cs = contentOnlyScores(h, scale: f)
            for j in cf..<n { body(j, j - cf < cs.count ? cs[j - cf] : .nan) }
            return
        }
        let (profile, any) = contentProfile(h, scale: f)
        guard any, profile.count == c.dims else {
            for j in cf..<n { body(j, .nan) }
            return
        }
        let d = c.dims, w = sl.width
        profile.withUnsafeBufferPointer { p in
            sl.dims.withUnsafeBufferPointer { dims in
                sl.values.withUnsafeBufferPointer { vals in
                    c.vectors.withUnsafeBufferPointer { vectors in
                        for j in cf..<n {
                            guard c.present[j] else { body(j, .nan); continue }
                            let base = (j - cf) * w
                            if dims[base] == ContentSlots.dense {
                                // more non-zero entries than slots: the dense vector (as the gemv sums it)
                                var dot: Float = 0
                                let vb = j * d
                                for t in 0..<d { dot += vectors[vb + t] * p[t] }
                                body(j, dot)
                                continue
                            }
                            var dot: Float = 0, hit = false
                            for t in base..<(base + w) {
                                let k = Int(dims[t])
                                guard k >= 0 && k < d else { break }   // the end marker, or a damaged dimension
                                let x = p[k]
                                if x != 0 { dot += x * vals[t]; hit = true }
                            }
                            if hit { body(j, dot) }
                        }
                    }
                }
            }
        }
    }
}
