/// The sparse kind's serving path without passes over the catalog: a history reaches only the
/// items its rows store (20 history items x a few hundred weights, against up to 10^7 items), so
/// recommend() keeps the list of reached ("touched") items while it scores, chooses the pool
/// among them, and pulls near-the-cut items in from them only. Every other item scores exactly 0
/// (no row stores it), so when the pool fills with positive scores it is the pool `topIndices`
/// would choose over the whole catalog (same order, same ties); otherwise recommend() takes the
/// general path. What remains proportional to the catalog is zeroing the score array and the
/// eligibility mask (memset speed). Content-only items (new since training) are all candidates.
extension ItemModel {
    /// Whether scores() gives the items with collaborative weights their sparse rows' sums only
    /// (no content prior blended in), so that the unreached ones score exactly 0; the
    /// content-only items (indices cfCount..<count, new items) are scored separately and are
    /// all candidates.
    var sparseRowsOnly: Bool {
        guard sparse != nil, cfCount > 0 else { return false }
        if let c = content { return c.prior == 0 }
        return count == cfCount
    }

    /// The sparse kind's scores and the distinct items the history's rows reach, in the order
    /// first reached; nil when the fast path does not apply (dense kind, content scores).
    /// The scores are those of `scores(_:interrupt:)`, summed in the same order.
    func sparseScoresReached(_ h: ScoredHistory, interrupt: InterruptCheck) rethrows -> (s: [Float], reached: [Int32])? {
        guard sparseRowsOnly, let sw = sparse else { return nil }
        let n = count, cf = cfCount
        let f = floatScale(h)
        var s = [Float](repeating: 0, count: n)
        var seen = [UInt64](repeating: 0, count: (n + 63) >> 6)
        var reached: [Int32] = []
        var done = 0
        for e in h.entries where e.index >= 0 && Int(e.index) < cf {
            let x = Float(e.value * f)
            let r = sw.range(Int(e.index))
            reached.reserveCapacity(reached.count + r.count)
            s.withUnsafeMutableBufferPointer { sp in
                seen.withUnsafeMutableBufferPointer { bits in
                    for t in r {
                        let j = Int(sw.cols[t])
                        guard j >= 0 && j < n else { continue }    // a damaged index is skipped
                        sp[j] += x * sw.vals[t]
                        let w = j >> 6, b = UInt64(1) << UInt64(j & 63)
                        if bits[w] & b == 0 { bits[w] |= b; reached.append(Int32(truncatingIfNeeded: j)) }
                    }
                }
            }
            done += 1
            if done & 63 == 0 { try interrupt() }
        }
        if count > cf {
            // the content-only items: scored as scores() scores them, every one a candidate
            applyContentScores(h, scale: f, into: &s)
            for j in cf..<n where seen[j >> 6] & (UInt64(1) << UInt64(j & 63)) == 0 { reached.append(Int32(truncatingIfNeeded: j)) }
        }
        return (s, reached)
    }
}

/// The `count` highest positive scores among `candidates` (distinct indices), eligible and
/// ordered as `topIndices` orders them (score descending, then index ascending); nil when fewer
/// than `count` candidates score above 0 (then items outside `candidates`, at exactly 0, could
/// belong to the top and the caller scans the whole catalog).
func topPositive(_ s: [Float], among candidates: [Int32], count: Int, eligible: [Bool]) -> [Int32]? {
    guard count > 0 else { return [] }
    var positive: [Int32] = []
    positive.reserveCapacity(candidates.count)
    for i in candidates {
        let j = Int(i)
        guard j >= 0, j < s.count, s[j] > 0, j >= eligible.count || eligible[j] else { continue }
        positive.append(i)
    }
    guard positive.count >= count else { return nil }
    // topIndices over the positive candidates in index order: the same heap, the same ties
    positive.sort()
    var heap: [(Float, Int32)] = []   // min-heap by (score, -index)
    heap.reserveCapacity(count + 1)
    @inline(__always) func less(_ a: (Float, Int32), _ b: (Float, Int32)) -> Bool {
        a.0 != b.0 ? a.0 < b.0 : a.1 > b.1
    }
    for i in positive {
        let e = (s[Int(i)], i)
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
