/// Step 5 of SANSA.fit: the rows of B from A⁻¹ ≈ Pᵀ Kᵀ D⁻¹ K P (SANSA, Spisak et al. 2023):
/// B_hj = -A⁻¹_hj / A⁻¹_jj, row h keeping its m largest |B_hj| (ties: the lower index j).
///
/// Row a (in the elimination order) of Kᵀ D⁻¹ K is Σ_k (K_ka / D_k) K_k. over column a of K: a
/// scatter of rows of K into a dense accumulator with a list of the touched items (Gustavson's
/// sparse product), then a selection (not a sort) among the touched items. The rows are
/// independent: blocks of them run on ParallelBlocks.threads threads, each with its own
/// accumulator, writing into slots of m pairs sized beforehand (no PostgreSQL call, no trap on
/// the threads; a non-finite weight is flagged and raised on the calling thread, which also
/// checks for cancel between blocks). The result does not depend on the number of threads.
enum SparseRowsOfB {
    /// The bytes of the work arrays per thread for n items (accumulator, the bit set of the
    /// touched items, the kept weights).
    static func workBytes(n: Int) -> Bytes { Bytes.elements(n, 8 + 1) }

    private final class Workspace {
        let acc: UnsafeMutablePointer<Double>
        /// The touched items of the row being computed, one bit each: set without a test in the
        /// scatter, then read word by word in increasing items, so that the pass over the touched
        /// items reads the accumulator, diag(A⁻¹) and the ordering in order (a list of touched
        /// items in the order they came made that pass four cache misses an item, as costly as
        /// the scatter itself at 100,000 items).
        let bits: UnsafeMutablePointer<UInt64>
        let words: Int
        var entries: [(Int32, Double)] = []   // min-heap by worse(), then the row
        var failed = false
        var work = 0                      // multiply-adds
        var touchedTotal = 0
        init(n: Int) {
            let c = max(1, n)
            acc = .allocate(capacity: c); acc.initialize(repeating: 0, count: c)
            words = (c + 63) / 64
            bits = .allocate(capacity: words); bits.initialize(repeating: 0, count: words)
        }
        deinit { acc.deallocate(); bits.deallocate() }
    }

    /// K by columns (kStart/kRow/kVal) and by rows (rStart/rCol/rVal), D, diag(A⁻¹) and the
    /// ordering p (position -> item).
    static func weights(n: Int, m: Int, p: [Int], kStart: [Int], kRow: [Int32], kVal: [Double], d: [Double],
                        rStart: [Int], rCol: [Int32], rVal: [Double], diagInv: [Double],
                        threads: Int = ParallelBlocks.threads, interrupt: InterruptCheck,
                        progress: (String) -> Void = { _ in }) throws -> SparseItemWeights {
        guard n > 0 else { return SparseItemWeights.empty }
        let nt = max(1, min(threads, 64))
        let spaces = (0..<nt).map { _ in Workspace(n: n) }
        let mm = max(1, m)
        // each item's row in a slot of m pairs (by item), then packed
        var cols = [Int32](repeating: 0, count: n * mm)
        var vals = [Float](repeating: 0, count: n * mm)
        var counts = [Int](repeating: 0, count: n)
        let block = 256
        var b0 = 0
        while b0 < n {
            let b1 = min(n, b0 + block)
            kStart.withUnsafeBufferPointer { ks in kRow.withUnsafeBufferPointer { kr in kVal.withUnsafeBufferPointer { kv in
            d.withUnsafeBufferPointer { dp in rStart.withUnsafeBufferPointer { rs in rCol.withUnsafeBufferPointer { rc in
            rVal.withUnsafeBufferPointer { rv in diagInv.withUnsafeBufferPointer { di in p.withUnsafeBufferPointer { pp in
            cols.withUnsafeMutableBufferPointer { oc in vals.withUnsafeMutableBufferPointer { ov in counts.withUnsafeMutableBufferPointer { on in
                ParallelBlocks.run(nt) { t in
                    let s = spaces[t]
                    var a = b0 + t
                    while a < b1 && !s.failed {
                        let h = pp[a]
                        on[h] = row(a, s, m: m, ks, kr, kv, dp, rs, rc, rv, di, pp,
                                    outCol: oc.baseAddress! + h * mm, outVal: ov.baseAddress! + h * mm)
                        a += nt
                    }
                }
            } } }
            } } }
            } } }
            } } }
            if spaces.contains(where: { $0.failed }) { throw RecError.internalError("the sparse model's weights hold a non-finite value") }
            b0 = b1
            try interrupt()
        }
        progress("rows of B: \(spaces.reduce(0) { $0 + $1.work }) multiply-adds, \(spaces.reduce(0) { $0 + $1.touchedTotal }) items touched")
        // pack the slots (in place: a row never moves to a later position)
        var start = [Int](repeating: 0, count: n + 1)
        for h in 0..<n { start[h + 1] = start[h] + counts[h] }
        for h in 0..<n {
            let from = h * mm, to = start[h]
            if from != to { for q in 0..<counts[h] { cols[to + q] = cols[from + q]; vals[to + q] = vals[from + q] } }
            if h & 4095 == 4095 { try interrupt() }
        }
        cols.removeLast(cols.count - start[n]); vals.removeLast(vals.count - start[n])
        return SparseItemWeights(n: n, rowStart: start, cols: cols, vals: vals)
    }

    /// Row a (position in the ordering) of B into out, as (item, weight) in increasing items;
    /// returns the count.
    @inline(__always)
    private static func row(_ a: Int, _ s: Workspace, m: Int, _ ks: UnsafeBufferPointer<Int>, _ kr: UnsafeBufferPointer<Int32>,
                            _ kv: UnsafeBufferPointer<Double>, _ dp: UnsafeBufferPointer<Double>, _ rs: UnsafeBufferPointer<Int>,
                            _ rc: UnsafeBufferPointer<Int32>, _ rv: UnsafeBufferPointer<Double>, _ di: UnsafeBufferPointer<Double>,
                            _ pp: UnsafeBufferPointer<Int>, outCol: UnsafeMutablePointer<Int32>, outVal: UnsafeMutablePointer<Float>) -> Int {
        let acc = s.acc, bits = s.bits
        var loWord = Int.max, hiWord = -1
        for t in ks[a]..<ks[a + 1] {
            let k = Int(kr[t])
            let q0 = rs[k], q1 = rs[k + 1]
            guard q0 < q1 else { continue }
            s.work += q1 - q0
            // a row of K holds its columns in increasing order: its first and last bound the words
            loWord = min(loWord, Int(rc[q0]) >> 6); hiWord = max(hiWord, Int(rc[q1 - 1]) >> 6)
            let f = kv[t] / dp[k]
            for q in q0..<q1 {
                let b = Int(rc[q])
                bits[b >> 6] |= UInt64(1) << UInt64(b & 63)
                acc[b] += f * rv[q]
            }
        }
        // the weights among the touched items, in increasing positions, the m largest |B_hj|
        // (ties: the lower item) kept in a min-heap as they come: after the first few hundred
        // most items fail one comparison with its root
        s.entries.removeAll(keepingCapacity: true)
        var c = 0
        var wi = loWord
        while wi <= hiWord {
            var word = bits[wi]
            if word != 0 {
                bits[wi] = 0
                c += word.nonzeroBitCount
                repeat {
                    let b = (wi << 6) + word.trailingZeroBitCount
                    word &= word &- 1
                    let x = acc[b]
                    acc[b] = 0
                    if b == a || x == 0 { continue }
                    let v = -x / di[b]
                    if v == 0 { continue }
                    if !v.isFinite { s.failed = true; continue }
                    if s.entries.count < m {
                        heapPush(&s.entries, (Int32(truncatingIfNeeded: pp[b]), v))
                    } else if m > 0 {
                        let e = (Int32(truncatingIfNeeded: pp[b]), v)
                        if worse(s.entries[0], e) { heapReplaceRoot(&s.entries, e) }
                    }
                } while word != 0
            }
            wi += 1
        }
        s.touchedTotal += c
        s.entries.sort { $0.0 < $1.0 }
        let count = min(m, s.entries.count)
        for q in 0..<count {
            let v = Float(s.entries[q].1)
            if !v.isFinite { s.failed = true }
            outCol[q] = s.entries[q].0; outVal[q] = v
        }
        return count
    }

    /// Whether weight x ranks below y: a smaller magnitude, or the same and a higher item.
    @inline(__always) static func worse(_ x: (Int32, Double), _ y: (Int32, Double)) -> Bool {
        let mx = abs(x.1), my = abs(y.1)
        return mx < my || (mx == my && x.0 > y.0)
    }
    @inline(__always) static func heapPush(_ h: inout [(Int32, Double)], _ e: (Int32, Double)) {
        h.append(e)
        var i = h.count - 1
        while i > 0 { let q = (i - 1) / 2; if worse(h[i], h[q]) { h.swapAt(i, q); i = q } else { break } }
    }
    @inline(__always) static func heapReplaceRoot(_ h: inout [(Int32, Double)], _ e: (Int32, Double)) {
        h[0] = e
        var i = 0
        let n = h.count
        while true {
            let l = 2 * i + 1, r = l + 1
            var s = i
            if l < n && worse(h[l], h[s]) { s = l }
            if r < n && worse(h[r], h[s]) { s = r }
            if s == i { break }
            h.swapAt(i, s); i = s
        }
    }
}
