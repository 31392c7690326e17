/// recommend() of the sparse kind on the items its history reaches, with the backend's reused
/// `ScoringScratch`: no pass over the catalog and no catalog-sized allocation or clearing per call.
///
/// A history reaches only the items its rows store (20 history items x a few hundred weights,
/// against up to 10^7 items); every other item scores exactly 0 in Float and in the exact sum.
/// So the candidate pool, the eligibility checks (the shop's filter, the seen items), the
/// no-signal test, the near-the-cut items and the continuation past a per-category cap all work
/// on the reached ("touched") items, and give what the general path (Model.swift) gives over the
/// whole catalog: same items, same order, same ties, same scores (unit-tested against it). When
/// they cannot (fewer positive eligible reached items than the pool, or a category cap that
/// the positive items cannot fill), the call returns nil and recommend() takes the general path.
/// Content-only items (new since training, indices cfCount..<count) are reached through the
/// history's content profile (ItemModel+ContentOnly.swift): those sharing a dimension with it are
/// candidates, the others score exactly 0, as in SparseServing.swift.
extension ItemModel {
    /// The bytes of this model's scratch (ScoringScratch.swift), before it is made.
    public var scratchBytes: Int { ScoringScratch.bytes(items: count) }

    /// A scratch for this model.
    public func makeScratch() -> ScoringScratch { ScoringScratch(items: count) }

    /// The sparse kind's list for a history with a usable entry, or nil when the general path
    /// must decide (see above). `opt.allowed`, when given, has `count` entries (checked by
    /// recommend()); `sc.items == count`.
    func recommendReached(_ h: ScoredHistory, _ opt: RecommendOptions, scratch sc: ScoringScratch) throws -> [Recommendation]? {
        guard sparseRowsOnly, let sw = sparse, sc.items == count else { return nil }
        if let a = opt.allowed, a.count != count { return nil }
        let n = count, cf = cfCount
        let interrupt = opt.interrupt
        // the scratch's scores and table as locals for the call (moved, not copied), given back
        // on every exit
        var s: [Float] = [], table = ReachedTable()
        swap(&s, &sc.scores); swap(&table, &sc.table)
        defer { swap(&s, &sc.scores); swap(&table, &sc.table) }
        guard s.count == n else { return nil }
        // sized for the history's rows (and its own items); content-only items grow it as needed
        var expected = h.seen.count
        for e in h.entries where e.index >= 0 && Int(e.index) < cf { expected += sw.range(Int(e.index)).count }
        table.reset(expecting: min(expected, n), items: n)
        let reachedFlag = ReachedTable.reached, seenFlag = ReachedTable.seen
        if opt.excludeSeen {
            for i in h.seen where i >= 0 && Int(i) < n { table.flags[table.insert(i)] |= seenFlag }
        }
        // Scores: the rows of the history's entries summed in the order scores() sums them (an
        // item's first term is added to 0, as to a fresh array's entry).
        let f = floatScale(h)
        var done = 0
        try sw.cols.withUnsafeBufferPointer { cols in
            try sw.vals.withUnsafeBufferPointer { vals in
                for e in h.entries where e.index >= 0 && Int(e.index) < cf {
                    table.scatter(cols, vals, sw.range(Int(e.index)), times: Float(e.value * f), limit: cf)
                    done += 1
                    if done & 63 == 0 { try interrupt() }
                }
            }
        }
        try interrupt()
        // the content-only items the history's content profile reaches, scored as scores()
        // scores them; the others score exactly 0 (not candidates) or cannot be scored (NaN in
        // scores(): left out of the popularity fallback below)
        var historyHasContent = false
        if n > cf {
            historyHasContent = forEachContentOnlyTerm(h, scale: f) { j, term in
                let slot = table.insert(j)
                if table.flags[slot] & reachedFlag == 0 { table.flags[slot] |= reachedFlag; table.scores[slot] = 0 }
                table.scores[slot] += term
            }
        }
        try interrupt()
        let allowed = opt.allowed
        // eligible: allowed by the shop's filter and not excluded as seen (flags: the item's in
        // the table, 0 when it is not there)
        @inline(__always) func eligible(_ j: Int, flags: UInt8) -> Bool {
            if let a = allowed, !a[j] { return false }
            return flags & seenFlag == 0
        }
        var cap = CategoryCap(limit: opt.maxPerCategory, categories: categories)
        // One pass over the reached items gathers the eligible ones with a non-zero, non-NaN score
        // (what the signal test, the pool and the near-the-cut items look at) with their scores,
        // so that the later passes read a compact list.
        var candidates: [(score: Float, item: Int32)] = []
        swap(&candidates, &sc.candidates)
        defer { candidates.removeAll(keepingCapacity: true); swap(&candidates, &sc.candidates) }
        candidates.reserveCapacity(table.count)
        var positives = 0
        for slot in table.order {
            let t = Int(slot), fl = table.flags[t]
            guard fl & reachedFlag != 0 else { continue }
            let i = table.keys[t], v = table.scores[t]
            if v != 0 && !v.isNaN && eligible(Int(i), flags: fl) {
                candidates.append((v, i))
                if v > 0 { positives += 1 }
            }
        }
        if candidates.isEmpty {
            // no relevance signal (every eligible reached score 0 or NaN; the others are 0): the
            // popularity order, leaving out the items this history cannot reach at all (NaN)
            let unknown = opt.excludeSeen ? Set(h.unknownItems) : []
            return popular(k: opt.k, isEligible: { j in
                let slot = table.find(Int32(truncatingIfNeeded: j))
                let fl = slot < 0 ? 0 : table.flags[slot]
                return eligible(j, flags: fl) && !(fl & reachedFlag != 0 && table.scores[slot].isNaN)
                    && !contentOnlyUnreachable(j, historyHasContent: historyHasContent)
            }, excludeIds: unknown, cap: &cap)
        }
        let bound = floatErrorBound(h)
        let poolSize = opt.diversity > 0 ? max(opt.k, max(opt.poolMinimum, opt.poolFactor * opt.k)) : opt.k
        // fewer positive eligible reached items than the pool: items at exactly 0 could belong to
        // it, and the general path decides
        guard positives >= poolSize else { return nil }
        var pool = topOfPositive(candidates, count: poolSize)
        try interrupt()
        // near the cut (see recommend()): reached items only, the others score exactly 0
        if let last = pool.last, pool.count == poolSize {
            let slot = table.find(last)
            let threshold = Double(slot < 0 ? 0 : table.scores[slot]) - 2 * bound
            let inPool = Set(pool)
            for (v, i) in candidates where v.isFinite && Double(v) >= threshold && !inPool.contains(i) { pool.append(i) }
        }
        var exact: [Int32: Double] = [:]
        try exactScores(h, pool, into: &exact, interrupt: interrupt)
        pool.removeAll { !(exact[$0] ?? 0).isFinite }
        pool.sort { a, b in
            let x = exact[a] ?? 0, y = exact[b] ?? 0
            return x != y ? x > y : a < b
        }
        for i in pool { s[Int(i)] = Float((exact[i] ?? 0) * f) }
        try interrupt()
        if pool.count > poolSize { pool.removeLast(pool.count - poolSize) }
        var picked: [(Int, Bool)]
        if opt.diversity > 0 && pool.count > 1 {
            switch opt.reranker {
            case .coverage: picked = try coverage(pool: pool, k: opt.k, diversity: opt.diversity, cap: &cap, interrupt: interrupt)
            case .mmr: picked = try mmr(pool: pool, scores: s, k: opt.k, diversity: opt.diversity, cap: &cap, interrupt: interrupt)
            case .dpp: picked = try dpp(pool: pool, scores: s, k: opt.k, diversity: opt.diversity, cap: &cap, interrupt: interrupt)
            }
        } else {
            picked = []
            for p in pool.indices where picked.count < opt.k && cap.allows(Int(pool[p])) {
                picked.append((p, false)); cap.add(Int(pool[p]))
            }
        }
        if picked.count < opt.k && opt.maxPerCategory != nil {
            // The cap left the list short: the general path continues down the whole relevance
            // order (every item not in the pool, by exact score). Its items of positive exact
            // score come first, and they are all reached items (the others sum to exactly 0), so
            // that prefix is built here; when it does not fill the list, the general path decides.
            let before = pool.count
            let inPool = Set(pool)
            var more: [Int32] = []
            for slot in table.order {
                let t = Int(slot), fl = table.flags[t]
                guard fl & reachedFlag != 0 else { continue }
                let i = table.keys[t], v = table.scores[t]
                // positive exact sums only: a finite Float score below -2 x bound cannot be one
                guard !v.isNaN, !v.isFinite || Double(v) > -2 * bound, eligible(Int(i), flags: fl), !inPool.contains(i) else { continue }
                more.append(i)
            }
            try exactScores(h, more, into: &exact, interrupt: interrupt)
            more.removeAll { i in !((exact[i] ?? 0) > 0 && (exact[i] ?? 0).isFinite) }
            more.sort { a, b in
                let x = exact[a] ?? 0, y = exact[b] ?? 0
                return x != y ? x > y : a < b
            }
            pool.append(contentsOf: more)
            try interrupt()
            for p in before..<pool.count where picked.count < opt.k {
                let i = Int(pool[p])
                if cap.allows(i) { picked.append((p, false)); cap.add(i) }
            }
            if picked.count < opt.k { return nil }
        }
        return picked.map { (p, variety) in
            let i = Int(pool[p])
            return Recommendation(itemId: itemIds[i], score: exact[pool[p]] ?? Double(s[i]), relevanceRank: p + 1, forVariety: variety,
                                  source: i >= cfCount ? "content" : "model")
        }
    }
}

extension ItemModel {
    /// exactScore(h, j) of every item of `items` (distinct) into `exact`, the collaborative ones
    /// (j < cfCount) in one merge of each history row with the sorted items instead of one binary
    /// search per item and history entry: the same terms added in the same order (a target a row
    /// does not store adds x_i * 0, as cfWeight's 0 does), so the same sums bit for bit. A row
    /// whose targets are not strictly increasing (a damaged image) could make the merge and the
    /// binary search disagree: then every item is summed by exactScore, as explain() sums it.
    func exactScores(_ h: ScoredHistory, _ items: [Int32], into exact: inout [Int32: Double], interrupt: InterruptCheck) throws {
        // a merge walks every history row; a binary search per item and row costs about log2(row
        // length) steps: for a few items (a pool of 10) the searches are cheaper
        guard let sw = sparse, items.count >= 32 else {
            for (t, i) in items.enumerated() {
                exact[i] = exactScore(h, Int(i))
                if t % 256 == 255 { try interrupt() }
            }
            return
        }
        let cf = cfCount
        var cfItems: [Int32] = []
        cfItems.reserveCapacity(items.count)
        for i in items {
            if i >= 0 && Int(i) < cf && contentBlend(Int(i)) == 0 { cfItems.append(i) } else { exact[i] = exactScore(h, Int(i)) }
        }
        cfItems.sort()
        var totals = [Double](repeating: 0, count: cfItems.count)
        var ordered = true
        var done = 0
        for e in h.entries where Int(e.index) < cf {
            let r = sw.range(Int(e.index))
            let value = e.value
            sw.cols.withUnsafeBufferPointer { cols in
                sw.vals.withUnsafeBufferPointer { vals in
                    guard r.lowerBound >= 0, r.upperBound <= cols.count, r.upperBound <= vals.count else {
                        ordered = false; return
                    }
                    var t = r.lowerBound
                    var previous: Int32 = -1
                    for q in cfItems.indices {
                        let j = cfItems[q]
                        while t < r.upperBound && cols[t] < j {
                            if cols[t] <= previous { ordered = false }
                            previous = cols[t]; t += 1
                        }
                        var w: Float = 0
                        if t < r.upperBound && cols[t] == j { w = vals[t] }
                        totals[q] += value * Double(w)
                    }
                    // the rest of the row: only its order is checked
                    while t < r.upperBound { if cols[t] <= previous { ordered = false }; previous = cols[t]; t += 1 }
                }
            }
            if !ordered { break }
            done += 1
            if done & 15 == 0 { try interrupt() }
        }
        if ordered {
            for (q, i) in cfItems.enumerated() { exact[i] = totals[q] }
        } else {
            for (t, i) in cfItems.enumerated() {
                exact[i] = exactScore(h, Int(i))
                if t % 256 == 255 { try interrupt() }
            }
        }
    }
}

/// The `count` best positive scores of `candidates` (distinct items, any order) by score
/// descending, then index ascending (as `topIndices` orders them): a bounded min-heap over a
/// strict total order, so the insertion order changes nothing.
func topOfPositive(_ candidates: [(score: Float, item: Int32)], count: Int) -> [Int32] {
    guard count > 0 else { return [] }
    var heap: [(Float, Int32)] = []   // min-heap by (score, -index)
    heap.reserveCapacity(count + 1)
    @inline(__always) func less(_ a: (Float, Int32), _ b: (Float, Int32)) -> Bool {
        a.0 != b.0 ? a.0 < b.0 : a.1 > b.1
    }
    for e in candidates where e.score > 0 {
        if heap.count < count {
            heap.append(e)
            var c = heap.count - 1
            while c > 0 { let p = (c - 1) / 2; if less(heap[c], heap[p]) { heap.swapAt(c, p); c = p } else { break } }
        } else if less(heap[0], e) {
            heap[0] = e
            var c = 0
            while true {
                let l = 2 * c + 1, r = l + 1
                var m = c
                if l < heap.count && less(heap[l], heap[m]) { m = l }
                if r < heap.count && less(heap[r], heap[m]) { m = r }
                if m == c { break }
                heap.swapAt(c, m); c = m
            }
        }
    }
    return heap.sorted { less($1, $0) }.map { $0.1 }
}
