#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// An incomplete LDLᵀ factorisation with a fill budget per column, for the sparse model when the
/// exact factor of the Gram matrix is too large (SANSA.swift): left-looking, column by column as
/// in Lin and Moré's ICF ("Incomplete Cholesky factorizations with limited memory", SIAM J. Sci.
/// Comput. 21(1), 1999; the factoriser SANSA offers besides CHOLMOD), each column keeping its
/// `keep` largest entries. A dropped entry c of the Schur complement's column j (row i) is
/// compensated on the diagonal as Jennings and Ajiz do ("Incomplete methods for solving AᵀAx = b",
/// SIAM J. Sci. Stat. Comput. 5(4), 1984): α|c| on d_j and |c|/α on the diagonal of i, α =
/// sqrt(a_jj / a_ii), which keeps the remaining matrix positive definite (the matrix dropped,
/// [[α|c|, -c], [-c, |c|/α]], is semi-definite), so the factorisation never breaks down.
///
/// Work: at most Σ_k (entries of column k)², i.e. n x keep² multiply-adds; memory: n x keep
/// entries (12 bytes each) plus per-item arrays. Both are known before it starts, whatever the
/// fill-in of the exact factor (which is close to dense for Zipf-shaped co-occurrences).
public enum IncompleteLDL {
    /// The factor: unit lower-triangular L without its diagonal, by columns (rows increasing),
    /// and D.
    public struct Factor {
        public var d: [Double]
        public var colStart: [Int]
        public var rowIndex: [Int32]
        public var values: [Double]
        /// Entries dropped (and compensated).
        public var dropped: Int
    }

    /// Bytes `factor` allocates for n items keeping `keep` per column (the input not counted):
    /// the factor, and per item the factor's own arrays and two lanes' work arrays.
    public static func bytes(n: Int, keep: Int) -> Bytes {
        Bytes.matrix(n, max(keep, 0), 12) + .elements(n, 96)
    }

    /// Off-diagonal entries the factor can hold at most: Σ_j min(keep, n - 1 - j).
    static func capacity(n: Int, keep: Int) -> Int {
        guard n > 1, keep > 0 else { return 0 }
        let k = min(keep, n - 1)
        // columns 0 ..< n - k hold at most k, the last k columns k - 1, ..., 0
        return (n - k) * k + k * (k - 1) / 2
    }

    /// A column's updates are split between two lanes when they are at least this many
    /// multiply-adds (below it the hand-over costs more than it saves; tests lower it).
    static var splitWork = 4096

    /// Factorises the symmetric matrix `a` (lower triangle by columns, each column's diagonal
    /// present; any row order) keeping `keep` off-diagonal entries per column of L (keep >= n - 1:
    /// exact, no dropping). Throws 22023 when a pivot is not positive (a is not positive definite).
    ///
    /// Two lanes: the updates of a column from the earlier columns (its left-looking sum) are
    /// dealt alternately to two accumulators, which are added when both are done; the second
    /// lane runs on a second thread when `threads` > 1 (ParallelBlocks: no PostgreSQL call, no
    /// allocation, no trap on it; whichever thread claims a column's second lane first runs it,
    /// so a thread that could not be created or is not scheduled never holds the column up).
    /// The lanes and their sum are the same whatever the number of threads, so the factor is too.
    public static func factor(_ a: SparseSymmetric, keep: Int, threads: Int = ParallelBlocks.threads,
                              interrupt: InterruptCheck = neverInterrupted) throws -> Factor {
        let n = a.n
        guard keep >= 0 else { throw RecError.internalError("incomplete factorisation with a negative fill budget") }
        guard a.colStart.count == n + 1 else { throw RecError.internalError("incomplete factorisation: the matrix has the wrong shape") }
        let total = capacity(n: n, keep: keep)
        let ws = Lanes(n: n)
        var failure: Error?
        var dropped = 0
        var used = 0
        let nt = max(1, min(threads, 2))
        var rowIndex = [Int32]()
        let values = try [Double](unsafeUninitializedCapacity: max(1, total)) { va, vaCount in
            rowIndex = try [Int32](unsafeUninitializedCapacity: max(1, total)) { ri, riCount in
                ParallelBlocks.run(nt) { t in
                    if t == 0 {
                        do {
                            try columns(a, keep: keep, ws, ri.baseAddress!, va.baseAddress!, &dropped, &used, interrupt: interrupt)
                        } catch { failure = error }
                        ws.sync.state.store(-1, ordering: .releasing)
                    } else {
                        helper(ws, ri.baseAddress!, va.baseAddress!)
                    }
                }
                if let e = failure { throw e }
                riCount = used
            }
            vaCount = used
        }
        return Factor(d: Array(UnsafeBufferPointer(start: ws.d, count: n)),
                      colStart: Array(UnsafeBufferPointer(start: ws.colStart, count: n + 1)),
                      rowIndex: rowIndex, values: values, dropped: dropped)
    }

    /// The shared state of the two lanes.
    final class Sync {
        /// 2 (j + 1): column j's second lane is ready to be claimed; 2 (j + 1) + 1: claimed; -1: stop.
        let state = Atomic<Int>(0)
        /// j + 1 when the helper has finished column j's second lane.
        let done = Atomic<Int>(0)
    }

    /// Work arrays, allocated once (counted in `bytes`), plain pointers so that the helper thread
    /// reads the finished columns while the calling thread writes the next one.
    final class Lanes {
        let n: Int
        let sync = Sync()
        let d: UnsafeMutablePointer<Double>
        let colStart: UnsafeMutablePointer<Int>
        let w: [UnsafeMutablePointer<Double>]
        let mark: [UnsafeMutablePointer<Int32>]
        let pattern: [UnsafeMutablePointer<Int32>]
        let patternCount: UnsafeMutablePointer<Int>   // per lane
        let taskK: UnsafeMutablePointer<Int32>
        let taskT: UnsafeMutablePointer<Int>
        let counts: UnsafeMutablePointer<Int>         // [0]: the column's tasks
        init(n: Int) {
            self.n = n
            let c = max(1, n)
            d = .allocate(capacity: c); d.initialize(repeating: 0, count: c)
            colStart = .allocate(capacity: c + 1); colStart.initialize(repeating: 0, count: c + 1)
            w = (0..<2).map { _ in let p = UnsafeMutablePointer<Double>.allocate(capacity: c); p.initialize(repeating: 0, count: c); return p }
            mark = (0..<2).map { _ in let p = UnsafeMutablePointer<Int32>.allocate(capacity: c); p.initialize(repeating: -1, count: c); return p }
            pattern = (0..<2).map { _ in let p = UnsafeMutablePointer<Int32>.allocate(capacity: c); p.initialize(repeating: 0, count: c); return p }
            taskK = .allocate(capacity: c); taskK.initialize(repeating: 0, count: c)
            taskT = .allocate(capacity: c); taskT.initialize(repeating: 0, count: c)
            patternCount = .allocate(capacity: 2); patternCount.initialize(repeating: 0, count: 2)
            counts = .allocate(capacity: 1); counts.initialize(to: 0)
        }
        deinit {
            d.deallocate(); colStart.deallocate(); taskK.deallocate(); taskT.deallocate(); patternCount.deallocate(); counts.deallocate()
            for p in w { p.deallocate() }
            for p in mark { p.deallocate() }
            for p in pattern { p.deallocate() }
        }
    }

    /// Lane `lane`'s share of the column's updates (tasks lane, lane + step, ...): each task is a
    /// column k < j and the position t of L_jk in it; the rows below j are scattered.
    @inline(__always)
    static func runLane(_ ws: Lanes, lane: Int, step: Int, jj: Int32, _ ri: UnsafeMutablePointer<Int32>, _ va: UnsafeMutablePointer<Double>) {
        let w = ws.w[lane], mark = ws.mark[lane], pattern = ws.pattern[lane]
        var pc = ws.patternCount[lane]
        var idx = lane
        let tc = ws.counts[0]
        while idx < tc {
            let k = Int(ws.taskK[idx]), t = ws.taskT[idx]
            let f = va[t] * ws.d[k]
            let end = ws.colStart[k + 1]
            var q = t + 1
            while q < end {
                let i = Int(ri[q])
                if mark[i] != jj { mark[i] = jj; pattern[pc] = ri[q]; pc += 1 }
                w[i] -= f * va[q]
                q += 1
            }
            idx += step
        }
        ws.patternCount[lane] = pc
    }

    /// The second thread: claims and runs the second lane of each column published, until stopped.
    static func helper(_ ws: Lanes, _ ri: UnsafeMutablePointer<Int32>, _ va: UnsafeMutablePointer<Double>) {
        var spins = 0
        while true {
            let s = ws.sync.state.load(ordering: .acquiring)
            if s < 0 { return }
            if s > 0 && s & 1 == 0 {
                if ws.sync.state.compareExchange(expected: s, desired: s + 1, ordering: .acquiringAndReleasing).exchanged {
                    let j1 = s >> 1
                    runLane(ws, lane: 1, step: 2, jj: Int32(truncatingIfNeeded: j1 - 1), ri, va)
                    ws.sync.done.store(j1, ordering: .releasing)
                    spins = 0
                    continue
                }
            }
            spins += 1
            if spins > 256 { sched_yield() }
        }
    }

    /// The columns, on the calling thread (the second lane's share on the helper when it claims it).
    static func columns(_ a: SparseSymmetric, keep: Int, _ ws: Lanes, _ ri: UnsafeMutablePointer<Int32>, _ va: UnsafeMutablePointer<Double>,
                        _ dropped: inout Int, _ used: inout Int, interrupt: InterruptCheck) throws {
        let n = a.n
        let cap = capacity(n: n, keep: keep)
        let diag = a.diagonal
        var comp = [Double](repeating: 0, count: n)
        var head = [Int32](repeating: -1, count: n)      // columns whose next row is j
        var nextInList = [Int32](repeating: -1, count: n)
        var ptr = [Int](repeating: 0, count: n)
        var cand: [(Int32, Double)] = []
        var work = 0
        let w0 = ws.w[0], mark0 = ws.mark[0], pattern0 = ws.pattern[0]
        let w1 = ws.w[1], pattern1 = ws.pattern[1]
        var count = 0          // entries of the factor so far
        for j in 0..<n {
            let jj = Int32(truncatingIfNeeded: j)
            var pc = 0
            mark0[j] = jj
            w0[j] = comp[j]
            for t in a.colStart[j]..<a.colStart[j + 1] {
                let i = Int(a.rowIndex[t])
                guard i >= j, i < n else { throw RecError.internalError("incomplete factorisation: the matrix is not lower-triangular") }
                if mark0[i] != jj { mark0[i] = jj; pattern0[pc] = a.rowIndex[t]; pc += 1 }
                w0[i] += a.values[t]
            }
            // the columns k < j with L_jk != 0, as tasks; their diagonal part here
            var tc = 0, colWork = 0
            var k = Int(head[j]); head[j] = -1
            while k >= 0 {
                let nk = Int(nextInList[k])
                let t = ptr[k]
                let ljk = va[t]
                w0[j] -= ljk * ws.d[k] * ljk
                let end = ws.colStart[k + 1]
                ws.taskK[tc] = Int32(truncatingIfNeeded: k); ws.taskT[tc] = t; tc += 1
                colWork += end - t - 1
                ptr[k] = t + 1
                if t + 1 < end { let r = Int(ri[t + 1]); nextInList[k] = head[r]; head[r] = Int32(truncatingIfNeeded: k) }
                k = nk
            }
            work += colWork
            ws.counts[0] = tc
            ws.patternCount[0] = pc
            if colWork >= splitWork {
                // the second lane is published, lane 0 runs here, then the second lane runs here too
                // unless the helper has claimed it
                ws.patternCount[1] = 0
                let s = 2 * (j + 1)
                ws.sync.state.store(s, ordering: .releasing)
                runLane(ws, lane: 0, step: 2, jj: jj, ri, va)
                if ws.sync.state.compareExchange(expected: s, desired: s + 1, ordering: .acquiringAndReleasing).exchanged {
                    runLane(ws, lane: 1, step: 2, jj: jj, ri, va)
                } else {
                    var spins = 0
                    while ws.sync.done.load(ordering: .acquiring) != j + 1 { spins += 1; if spins > 256 { sched_yield() } }
                }
                // the second lane into the first
                pc = ws.patternCount[0]
                for q in 0..<ws.patternCount[1] {
                    let i = Int(pattern1[q])
                    if mark0[i] != jj { mark0[i] = jj; pattern0[pc] = pattern1[q]; pc += 1 }
                    w0[i] += w1[i]; w1[i] = 0
                }
            } else {
                runLane(ws, lane: 0, step: 1, jj: jj, ri, va)
                pc = ws.patternCount[0]
            }
            var dj = w0[j]; w0[j] = 0
            cand.removeAll(keepingCapacity: true)
            for q in 0..<pc {
                let i = Int(pattern0[q])
                let v = w0[i]; w0[i] = 0
                if i != j && v != 0 { cand.append((pattern0[q], v)) }
            }
            if cand.count > keep {
                // keep the largest |c| (ties: the lower row), chosen by a selection, not a sort
                // (the sorts of a few thousand candidates a column were 40% of this stage);
                // compensate the dropped ones on both diagonals
                cand.withUnsafeMutableBufferPointer { c in
                    Selection.selectBest(c, keep) { abs($0.1) != abs($1.1) ? abs($0.1) > abs($1.1) : $0.0 < $1.0 }
                }
                for (i, v) in cand[keep...] {
                    let ai = diag[Int(i)], aj = diag[j]
                    let alpha = (ai > 0 && aj > 0) ? sqrt(aj / ai) : 1
                    dj += alpha * abs(v)
                    comp[Int(i)] += abs(v) / alpha
                }
                dropped += cand.count - keep
                cand.removeLast(cand.count - keep)
            }
            guard dj.isFinite, dj > 0 else {
                throw RecError.invalidParameter("the sparse model cannot be solved: the regularised Gram matrix is not positive definite (pivot \(dj) at item \(j))",
                                                hint: "Increase lambda; it must be large against the interaction weights.")
            }
            ws.d[j] = dj
            cand.sort { $0.0 < $1.0 }
            let start = count
            guard count + cand.count <= cap else { throw RecError.internalError("the incomplete factor outgrew its bound") }
            for (i, v) in cand {
                let l = v / dj
                guard l.isFinite else { throw RecError.internalError("the incomplete factor holds a non-finite value") }
                ri[count] = i; va[count] = l; count += 1
            }
            ws.colStart[j + 1] = count
            used = count
            ptr[j] = start
            if start < count {
                let r = Int(ri[start]); nextInList[j] = head[r]; head[r] = jj
            }
            if work > 2_000_000 || j & 1023 == 1023 { work = 0; try interrupt() }
        }
    }

    /// P A Pᵀ of a symmetric lower-triangular `a` for the ordering `p` (p[k]: the original index
    /// at position k), lower triangle by columns, rows increasing.
    public static func permuted(_ a: SparseSymmetric, _ p: [Int], interrupt: InterruptCheck = neverInterrupted) throws -> SparseSymmetric {
        let n = a.n
        guard p.count == n else { throw RecError.internalError("ordering of the wrong length") }
        var pinv = [Int32](repeating: -1, count: n)
        for (k, v) in p.enumerated() {
            guard v >= 0, v < n, pinv[v] < 0 else { throw RecError.internalError("the ordering is not a permutation") }
            pinv[v] = Int32(truncatingIfNeeded: k)
        }
        var start = [Int](repeating: 0, count: n + 1)
        for j in 0..<n {
            for t in a.colStart[j]..<a.colStart[j + 1] {
                let r = pinv[Int(a.rowIndex[t])], c = pinv[j]
                start[Int(min(r, c)) + 1] += 1
            }
        }
        for j in 0..<n { start[j + 1] += start[j] }
        var fill = Array(start[0..<n])
        var rows = [Int32](repeating: 0, count: a.nonZeros), vals = [Double](repeating: 0, count: a.nonZeros)
        for j in 0..<n {
            for t in a.colStart[j]..<a.colStart[j + 1] {
                let r = pinv[Int(a.rowIndex[t])], c = pinv[j]
                let col = Int(min(r, c))
                rows[fill[col]] = max(r, c); vals[fill[col]] = a.values[t]; fill[col] += 1
            }
            if j & 4095 == 4095 { try interrupt() }
        }
        // rows increasing within each column
        var seg: [(Int32, Double)] = []
        for j in 0..<n {
            let lo = start[j], hi = start[j + 1]
            if hi - lo > 1 {
                seg.removeAll(keepingCapacity: true)
                for t in lo..<hi { seg.append((rows[t], vals[t])) }
                seg.sort { $0.0 < $1.0 }
                for (q, e) in seg.enumerated() { rows[lo + q] = e.0; vals[lo + q] = e.1 }
            }
            if j & 4095 == 4095 { try interrupt() }
        }
        return SparseSymmetric(n: n, colStart: start, rowIndex: rows, values: vals)
    }
}
