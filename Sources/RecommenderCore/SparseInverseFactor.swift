/// Step 4 of SANSA.fit: K ≈ L⁻¹ column by column, each column a sparse triangular solve
/// L x = e_a that drops small entries as it goes (ILUT-style, Saad, "ILUT: a dual threshold
/// incomplete LU factorization", 1994) and keeps the column's kCap largest (SANSA, Spisak et al.
/// 2023, gets the same shape of result from its iterative UMR method).
///
/// The columns are independent: blocks of them are solved on ParallelBlocks.threads threads
/// (no PostgreSQL call, no allocation that is not sized here, no trap on the threads; the
/// interrupt check runs on the calling thread between blocks). The result does not depend on
/// the number of threads. The pending indices of a column are a bit set scanned upwards (the
/// solve visits them in increasing order, and every new one is below the current one), which
/// replaced a binary heap of indices (most of this stage's time at 100,000 items).
enum SparseInverseFactor {
    struct Columns {
        var start: [Int]
        var row: [Int32]
        var val: [Double]
        /// Entries propagated (each a column of L scattered) and their multiply-adds.
        var propagated: Int
        var work: Int
    }

    /// The bytes of the work arrays per thread for n items (w, the bit set, the column buffers).
    static func workBytes(n: Int) -> Bytes { Bytes.elements(n, 8 + 1 + 24) }

    /// One thread's work arrays, allocated once and reused for every column it solves.
    private final class Workspace {
        let w: UnsafeMutablePointer<Double>
        let bits: UnsafeMutablePointer<UInt64>
        let words: Int
        var kept: [Double] = []           // min-heap of the magnitudes kept in the column
        var colIdx: [Int32] = []
        var colVal: [Double] = []
        var order: [Int] = []
        var propagated = 0                // columns of L propagated (the work: their lengths)
        var work = 0
        init(n: Int, kCap: Int) {
            w = .allocate(capacity: max(1, n)); w.initialize(repeating: 0, count: max(1, n))
            words = (n + 63) / 64
            bits = .allocate(capacity: max(1, words)); bits.initialize(repeating: 0, count: max(1, words))
            kept.reserveCapacity(kCap); colIdx.reserveCapacity(kCap * 4); colVal.reserveCapacity(kCap * 4)
        }
        deinit { w.deallocate(); bits.deallocate() }
    }

    static func columns(n: Int, lStart: [Int], lRow: [Int32], lVal: [Double], kCap: Int, exact: Bool, fillRel: Double,
                        maxPropagated: Int = Int.max, threads: Int = ParallelBlocks.threads, interrupt: InterruptCheck) throws -> Columns {
        let nt = max(1, min(threads, 64))
        let spaces = (0..<nt).map { _ in Workspace(n: n, kCap: kCap) }
        // a block's output: at most kCap entries a column
        let blockCols = max(nt, min(1024, (1 << 22) / max(1, kCap)))
        var outRow = [Int32](repeating: 0, count: blockCols * kCap)
        var outVal = [Double](repeating: 0, count: blockCols * kCap)
        var outCount = [Int](repeating: 0, count: blockCols)
        var start = [Int](repeating: 0, count: n + 1)
        var row: [Int32] = [], val: [Double] = []
        row.reserveCapacity(min(n * kCap, n * 64)); val.reserveCapacity(min(n * kCap, n * 64))
        var b0 = 0
        while b0 < n {
            let b1 = min(n, b0 + blockCols)
            lStart.withUnsafeBufferPointer { ls in lRow.withUnsafeBufferPointer { lr in lVal.withUnsafeBufferPointer { lv in
                outRow.withUnsafeMutableBufferPointer { orow in outVal.withUnsafeMutableBufferPointer { oval in
                    outCount.withUnsafeMutableBufferPointer { ocnt in
                        ParallelBlocks.run(nt) { t in
                            let s = spaces[t]
                            var a = b0 + t
                            while a < b1 {
                                let slot = a - b0
                                ocnt[slot] = solve(a, s, ls, lr, lv, kCap: kCap, exact: exact, fillRel: fillRel, maxPropagated: maxPropagated,
                                                   outRow: orow.baseAddress! + slot * kCap, outVal: oval.baseAddress! + slot * kCap)
                                a += nt
                            }
                        }
                    }
                } }
            } } }
            for a in b0..<b1 {
                let c = outCount[a - b0], o = (a - b0) * kCap
                row.append(contentsOf: outRow[o..<(o + c)]); val.append(contentsOf: outVal[o..<(o + c)])
                start[a + 1] = row.count
            }
            b0 = b1
            try interrupt()
        }
        return Columns(start: start, row: row, val: val, propagated: spaces.reduce(0) { $0 + $1.propagated },
                       work: spaces.reduce(0) { $0 + $1.work })
    }

    /// Column a of K into out (at most kCap entries, the diagonal first, then increasing rows);
    /// returns the count.
    @inline(__always)
    private static func solve(_ a: Int, _ s: Workspace, _ ls: UnsafeBufferPointer<Int>, _ lr: UnsafeBufferPointer<Int32>,
                              _ lv: UnsafeBufferPointer<Double>, kCap: Int, exact: Bool, fillRel: Double, maxPropagated: Int,
                              outRow: UnsafeMutablePointer<Int32>, outVal: UnsafeMutablePointer<Double>) -> Int {
        let w = s.w, bits = s.bits
        s.kept.removeAll(keepingCapacity: true)
        s.colIdx.removeAll(keepingCapacity: true)
        s.colVal.removeAll(keepingCapacity: true)
        var colMax = 0.0
        var spread = 0
        w[a] = 1
        bits[a >> 6] |= UInt64(1) << UInt64(a & 63)
        var top = a            // the largest pending index
        var k = a
        while true {
            // the next pending index >= k
            var wi = k >> 6
            var word = bits[wi] & (~UInt64(0) << UInt64(k & 63))
            let lastWord = top >> 6
            while word == 0 && wi < lastWord { wi += 1; word = bits[wi] }
            if word == 0 { break }
            k = (wi << 6) + word.trailingZeroBitCount
            bits[wi] &= ~(UInt64(1) << UInt64(k & 63))
            let xk = w[k]; w[k] = 0
            if xk == 0 { continue }
            if !exact && k != a {
                // dropping during the solve (as incomplete factorisations do): an entry smaller
                // than the kCap - 1 largest kept so far is neither kept nor propagated, which
                // bounds the work of a column by about kCap columns of L
                let mag = abs(xk)
                if s.kept.count >= kCap - 1 {
                    guard let smallest = s.kept.first, mag > smallest else { continue }
                    popMin(&s.kept)
                }
                push(&s.kept, mag)
                colMax = max(colMax, mag)
            }
            s.colIdx.append(Int32(truncatingIfNeeded: k)); s.colVal.append(xk)
            // past maxPropagated entries the column still collects what reaches it, but spreads no
            // more fill (the work of a column: at most maxPropagated columns of L)
            if !exact && spread >= maxPropagated { continue }
            spread += 1
            // fill-in dropping (ILUT-style): a contribution to an index not reached yet creates no
            // new entry when it is below fillRel of the column's largest entry so far (relative:
            // an absolute 1e-4 against the unit diagonal dropped nearly every entry when the
            // factor's entries are small) or, once the column holds kCap - 1 entries, below half
            // the smallest kept
            s.propagated += 1; s.work += ls[k + 1] - ls[k]
            let fillFloor = exact ? 0 : max(fillRel * colMax, s.kept.count >= kCap - 1 ? 0.5 * (s.kept.first ?? 0) : 0)
            for t in ls[k]..<ls[k + 1] {
                let i = Int(lr[t])
                let c = lv[t] * xk
                let bit = UInt64(1) << UInt64(i & 63)
                if bits[i >> 6] & bit == 0 {
                    if abs(c) < fillFloor { continue }
                    bits[i >> 6] |= bit
                    if i > top { top = i }
                }
                w[i] -= c
            }
        }
        let count = s.colIdx.count
        if count <= kCap {
            for q in 0..<count { outRow[q] = s.colIdx[q]; outVal[q] = s.colVal[q] }
            return count
        }
        // keep the diagonal (first) and the kCap - 1 largest off-diagonal entries (ties: the lower
        // row), in increasing rows
        s.order.removeAll(keepingCapacity: true)
        for q in 1..<count { s.order.append(q) }
        let cv = s.colVal
        s.order.withUnsafeMutableBufferPointer { o in
            Selection.selectBest(o, kCap - 1) { abs(cv[$0]) != abs(cv[$1]) ? abs(cv[$0]) > abs(cv[$1]) : $0 < $1 }
        }
        s.order.removeLast(s.order.count - (kCap - 1))
        s.order.sort()
        outRow[0] = s.colIdx[0]; outVal[0] = s.colVal[0]
        for (q, e) in s.order.enumerated() { outRow[q + 1] = s.colIdx[e]; outVal[q + 1] = s.colVal[e] }
        return kCap
    }

    @inline(__always) private static func push(_ h: inout [Double], _ v: Double) {
        h.append(v)
        var i = h.count - 1
        while i > 0 { let q = (i - 1) / 2; if h[i] < h[q] { h.swapAt(i, q); i = q } else { break } }
    }
    @inline(__always) private static func popMin(_ h: inout [Double]) {
        guard !h.isEmpty else { return }
        let last = h.removeLast()
        if !h.isEmpty {
            h[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var s = i
                if l < h.count && h[l] < h[s] { s = l }
                if r < h.count && h[r] < h[s] { s = r }
                if s == i { break }
                h.swapAt(i, s); i = s
            }
        }
    }
}
