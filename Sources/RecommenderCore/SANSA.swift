#if canImport(Glibc)
import Glibc
#endif
import CCholmod

/// The sparse model, after SANSA (Spisak, Bartyzal, Hoskovec, Peska, Tuma, "Scalable Approximate
/// NonSymmetric Autoencoder for Collaborative Filtering", RecSys 2023): a sparse approximation of
/// EASE's inverse (XᵀX + λI)⁻¹ through a sparse LDLᵀ factorisation with a prescribed density.
///
///   1. A = G + diag(λ + p/(1-p) G_ii): the same regularisation as `EASE.invertRegularised`
///      (λ as given, EDLAE's dropout p), on the sparse Gram matrix (SparseGram).
///   2. P A Pᵀ = L D Lᵀ: CHOLMOD orders A (AMD) and its symbolic analysis gives the exact
///      factor's non-zeros and flops before any numeric work. Within the flop ceiling and the
///      memory allowed, CHOLMOD factorises exactly (supernodal); otherwise (the factor of a
///      Zipf-shaped Gram matrix fills in almost completely) the incomplete LDLᵀ of
///      IncompleteLDL.swift (Lin and Moré's ICF with Jennings-Ajiz diagonal compensation, the
///      factoriser SANSA offers besides CHOLMOD) keeps the largest entries of each column, with
///      work and memory known beforehand (n x keep² and n x keep). This replaced pruning the
///      Gram matrix until the exact factor fitted (4 neighbours per item at 100,000 items).
///   3. The exact factor is sparsified to the target density as SANSA does (the largest
///      |L_ij| sqrt(D_j), i.e. the entries of the Cholesky factor L D^1/2, about as many per
///      column as a row of B keeps); the incomplete one already has that many.
///   4. K ≈ L⁻¹: where SANSA runs its iterative UMR method, this computes each column of L⁻¹ by
///      a sparse triangular solve that drops small fill-in as it goes (ILUT-style) and keeps the
///      column's largest entries (a simpler route with the same shape of result); K's rows are
///      capped too (a hub late in the elimination order is reached from every column).
///   5. A⁻¹ ≈ Pᵀ Kᵀ D⁻¹ K P, and the EASE weights B_hj = -A⁻¹_hj / A⁻¹_jj (j != h) are
///      materialised row by row; row h keeps its max(minimum, density x n) largest |B_hj|, so that scores stay
///      sums of rows over a user's history and explain() stays exact.
/// At density 1 nothing is dropped and the result is dense EASE (to rounding).
public enum SANSA {
    /// The exact factorisation's flop ceiling, checked against CHOLMOD's symbolic analysis before
    /// the (uninterruptible) numeric factorisation: beyond it the incomplete factorisation is used
    /// (CHOLMOD's supernodal factorisation ran at about 20 GFlop/s here: under a minute).
    public static var maxFactorFlops = 1e12
    /// The density of the sparsified factor and of L⁻¹ relative to the rows' density (SANSA uses
    /// one density for both; see README, "The sparse kind", for what a denser factor buys).
    /// On MovieLens (scripts/sparse-quality.sh) at ~100 weights per item, a factor 4x denser than
    /// the rows took NDCG@10 from 0.3848 to 0.3920 (dense: 0.3974), but the inverse factor's cost
    /// grows with the square of its column length (minutes at 20,000 items): one density for both,
    /// as SANSA.
    public static var factorDensityRatio = 1
    /// The inverse factor's fill-in tolerance, relative to the largest entry of the column so far.
    public static var fillTolerance = 1e-3
    /// The rows of the inverse factor keep at most this many times its columns' entries (the rows
    /// of B cost the sum over each column of the lengths of the rows it meets). At 20,000 items
    /// (bench/gen_catalog.sql) 4 -> 2 together with propagateRatio 0 -> 2 halved the work of
    /// both stages for NDCG@10 0.1108 instead of 0.1126 (recall@20 0.2217 instead of 0.2199).
    public static var rowCapRatio = 2
    /// Each column of the inverse factor propagates at most this many times its kept entries
    /// (0: no limit; the solve propagated about 3.6 x kCap entries a column at 20,000 items).
    public static var propagateRatio = 2

    public struct Result {
        public var weights: SparseItemWeights
        /// Whether the factor was the incomplete one (IncompleteLDL: the exact factor was over
        /// the flop ceiling or the memory limit), the factor's non-zeros before sparsification
        /// (the incomplete factor's own), and the exact factor's flops (from the analysis).
        public var incomplete: Bool
        public var factorNonZeros: Int
        public var flops: Double
    }

    /// Entries kept per row of B at `density` for n items: ceil(density x n), at least `minimum`
    /// (the glue passes ModelLimits.sparseMinWeightsPerItem), at most n - 1.
    public static func perRow(n: Int, density: Double, minimum: Int = 0) -> Int {
        guard n > 1 else { return 0 }
        let m = (density * Double(n)).rounded(.up)
        return max(1, min(n - 1, max(minimum, m.isFinite ? Int(min(m, Double(n))) : n - 1)))
    }

    /// The bytes the phases after the Gram matrix need at most: the factor (32 bytes a non-zero:
    /// CHOLMOD's supernodal blocks and their simplicial copy; measured 27 at 20,000 items), A
    /// (16 bytes a non-zero), the sparsified factor, L⁻¹ by columns and by rows (24 bytes an
    /// entry), and B (8 bytes an entry), plus per-item work arrays.
    public static func bytes(n: Int, gramNonZeros: Int, factorNonZeros: Int, density: Double, minimum: Int = 0) -> Bytes {
        let m = perRow(n: n, density: density, minimum: minimum) + 1
        let kEntries = Bytes.matrix(n, m, 1)   // at least: the ratio adapts to the limit later
        let factor = Bytes.elements(factorNonZeros, 32) + .elements(gramNonZeros, 16) + .elements(n, 64)
        let afterFactor = Bytes.elements(factorNonZeros, 12) + (kEntries * 24) + (kEntries * 8) + .elements(n, 64)
        return Bytes.max(factor, afterFactor)
    }

    /// Fits the sparse model. `limit`: bytes the factorisation phases may use (nil: unchecked);
    /// checked before each large allocation (54000 above it).
    /// `minimumPerRow`: each row keeps at least this many weights. `exactFactor` (tests) keeps the
    /// factor and L⁻¹ exact, so that only the rows are truncated; `incompleteFactor` (tests) takes
    /// the incomplete factorisation whatever the exact factor costs.
    public static func fit(gram g0: SparseSymmetric, lambda: Double, dropout: Double = 0, density: Double,
                           minimumPerRow: Int = 0, exactFactor: Bool = false, incompleteFactor: Bool = false,
                           limit: Int? = nil, interrupt: InterruptCheck = neverInterrupted,
                           progress: (String) -> Void = { _ in }) throws -> Result {
        guard dropout.isFinite, dropout >= 0, dropout < 1 else {
            throw RecError.invalidParameter("dropout must be in [0, 1) (got \(dropout))")
        }
        guard lambda.isFinite, lambda > 0 else {
            throw RecError.invalidParameter("lambda must be a finite number > 0 (got \(lambda))",
                                            hint: "Typical values are 10 to 1000; larger means stronger regularisation.")
        }
        guard density.isFinite, density > 0, density <= 1 else {
            throw RecError.invalidParameter("density must be in (0, 1] (got \(density))",
                                            hint: "The share of the items x items weights the sparse model keeps; 1 is dense EASE.")
        }
        let n = g0.n
        guard n > 0 else { return Result(weights: SparseItemWeights.empty, incomplete: false, factorNonZeros: 0, flops: 0) }
        guard n < Int(Int32.max), g0.colStart.count == n + 1 else { throw RecError.internalError("sparse Gram matrix has the wrong shape") }
        let emphasis = dropout / (1 - dropout)
        let fillRel = fillTolerance
        let forceIncomplete = incompleteFactor

        // 2. ordering (CHOLMOD's AMD) and the exact factor's size from the symbolic analysis
        let m = perRow(n: n, density: density, minimum: minimumPerRow)
        let exact = exactFactor || m >= n - 1
        let h = CholmodHandle()
        guard h.started else { throw RecError.internalError("CHOLMOD could not start") }
        var lnz = 0.0, fl = 0.0
        do {
            let a = try h.sparse(n: n, nnz: g0.nonZeros, stype: -1, values: false)
            let ap = a.pointee.p.assumingMemoryBound(to: Int.self), ai = a.pointee.i.assumingMemoryBound(to: Int.self)
            for j in 0...n { ap[j] = g0.colStart[j] }
            for t in 0..<g0.nonZeros { ai[t] = Int(g0.rowIndex[t]) }
            try h.analyze(a)
            h.free(a)
            lnz = h.common.pointee.lnz; fl = h.common.pointee.fl
        }
        guard let f0 = h.factor else { throw RecError.internalError("CHOLMOD returned no factor") }
        var p = [Int](repeating: 0, count: n)
        do {
            let perm = f0.pointee.Perm.assumingMemoryBound(to: Int.self)
            var seen = [Bool](repeating: false, count: n)
            for k in 0..<n {
                let v = perm[k]
                guard v >= 0, v < n, !seen[v] else { throw RecError.internalError("CHOLMOD returned a bad permutation") }
                p[k] = v; seen[v] = true
            }
        }
        // the factor and L⁻¹ keep factorDensityRatio x m entries per column (fewer when the
        // memory limit asks for it, never fewer than the rows); exact when the rows keep everything
        var kCap = exact ? n : min(n, factorDensityRatio * m + 1)
        if !exact, let l = limit {
            while kCap > m + 1, let need = (Bytes.matrix(n, kCap, 48)).value, need > l { kCap = max(m + 1, kCap / 2) }
        }
        // The exact factor when it is affordable (flops and memory from the analysis), else the
        // incomplete one with kCap - 1 entries per column (IncompleteLDL.swift): its work and
        // memory are known beforehand, whatever the fill-in (the Zipf worst case fills in almost
        // completely). `incompleteFactor` (tests) forces it.
        let need = bytes(n: n, gramNonZeros: g0.nonZeros, factorNonZeros: lnz < 9e18 ? Int(lnz) : Int.max, density: density, minimum: minimumPerRow)
        var fits = fl <= maxFactorFlops
        if let l = limit { fits = fits && (need.value.map { $0 <= l } ?? false) }
        let incomplete = !exact && (forceIncomplete || !fits)
        if exact && !fits {
            throw RecError.programLimit("the sparse model's exact factorisation of \(n) items needs \(need) of memory and \(fl) flops",
                                        hint: "Lower the model's density below 1, or raise recommender.max_training_memory.")
        }
        var d = [Double](repeating: 0, count: n)
        var lStart = [Int](repeating: 0, count: n + 1)
        var lRow: [Int32] = [], lVal: [Double] = []
        var factorNonZeros = 0
        if incomplete {
            _ = cholmod_l_free_factor(&h.factor, h.common)
            if let l = limit, let need = (IncompleteLDL.bytes(n: n, keep: kCap - 1) + .elements(g0.nonZeros, 24)).value, need > l {
                throw RecError.programLimit("the sparse model's incomplete factor needs \(formatBytes(need)) of memory, more than recommender.max_training_memory allows",
                                            hint: "Lower the model's density, or raise recommender.max_training_memory.")
            }
            progress("the exact factor would hold \(Int(min(lnz, 9e18))) non-zeros (\(fl) flops): incomplete LDLᵀ keeping \(kCap - 1) per column")
            var a = g0
            for j in 0..<n where a.colStart[j] < a.colStart[j + 1] && Int(a.rowIndex[a.colStart[j]]) == j {
                let v = a.values[a.colStart[j]]
                a.values[a.colStart[j]] = v + lambda + emphasis * v
            }
            try interrupt()
            var ap = try IncompleteLDL.permuted(a, p, interrupt: interrupt)
            a = SparseSymmetric(n: 0, colStart: [0], rowIndex: [], values: [])
            let icf = try IncompleteLDL.factor(ap, keep: kCap - 1, interrupt: interrupt)
            ap = SparseSymmetric(n: 0, colStart: [0], rowIndex: [], values: [])
            d = icf.d; lStart = icf.colStart; lRow = icf.rowIndex; lVal = icf.values
            factorNonZeros = lRow.count + n
            try interrupt()
            progress("incomplete factor: \(lRow.count) non-zeros, \(icf.dropped) entries dropped")
        } else {
        progress("ordered (AMD): the factor will hold \(Int(lnz)) non-zeros, \(fl) flops")
        // A with the regularisation on its diagonal (lower triangle), factorised by CHOLMOD:
        // supernodal where the analysis finds it worth it (BLAS on dense blocks, as SANSA's CHOLMOD
        // route), then converted to the simplicial LDLᵀ form read below. The factorisation is one
        // library call, so cancel acts when it returns; its cost is bounded beforehand by
        // maxFactorFlops (beyond it the incomplete factorisation is used).
        let a = try h.sparse(n: n, nnz: g0.nonZeros, stype: -1, values: true)
        do {
            let ap = a.pointee.p.assumingMemoryBound(to: Int.self), ai = a.pointee.i.assumingMemoryBound(to: Int.self)
            let ax = a.pointee.x.assumingMemoryBound(to: Double.self)
            for j in 0...n { ap[j] = g0.colStart[j] }
            for j in 0..<n {
                for t in g0.colStart[j]..<g0.colStart[j + 1] {
                    ai[t] = Int(g0.rowIndex[t])
                    var v = g0.values[t]
                    if Int(g0.rowIndex[t]) == j { v += lambda + emphasis * v }
                    ax[t] = v
                }
            }
        }
        try interrupt()
        let ok = cholmod_l_factorize(a, f0, h.common)
        try h.check("factorising the Gram matrix")
        if ok == 0 { throw RecError.internalError("CHOLMOD could not factorise the Gram matrix (status \(h.common.pointee.status))") }
        if h.common.pointee.status == CHOLMOD_NOT_POSDEF || f0.pointee.minor < n {
            throw RecError.invalidParameter("the sparse model cannot be solved with lambda \(lambda): the regularised Gram matrix is not positive definite",
                                            hint: "Increase lambda; it must be large against the interaction weights.")
        }
        h.free(a)
        try interrupt()
        guard cholmod_l_change_factor(Int32(CHOLMOD_REAL), 0, 0, 1, 1, f0, h.common) != 0 else {
            try h.check("converting the factor")
            throw RecError.internalError("CHOLMOD could not convert the factor to LDLᵀ")
        }
        try h.check("converting the factor")
        try interrupt()
        progress("factorised")

        // the factor into Swift arrays (unit lower L without its diagonal, and D)
        let fp = f0.pointee.p.assumingMemoryBound(to: Int.self), fi = f0.pointee.i.assumingMemoryBound(to: Int.self)
        let fx = f0.pointee.x.assumingMemoryBound(to: Double.self), fnz = f0.pointee.nz.assumingMemoryBound(to: Int.self)
        var offDiagonal = 0
        for j in 0..<n { offDiagonal += max(0, fnz[j] - 1) }
        factorNonZeros = offDiagonal + n
        if let l = limit, let need = (Bytes.elements(offDiagonal, 12) + .elements(n, 64)).value, need > l {
            throw RecError.programLimit("the sparse model's factor needs \(formatBytes(need)) of memory, more than recommender.max_training_memory allows")
        }
        // 3. sparsify: keep the largest |L_ij| sqrt(D_j), density x n² of them (SANSA)
        for j in 0..<n {
            let dj = fx[fp[j]]
            guard dj.isFinite, dj > 0 else {
                throw RecError.invalidParameter("the sparse model cannot be solved with lambda \(lambda): the regularised Gram matrix is not positive definite",
                                                hint: "Increase lambda; it must be large against the interaction weights.")
            }
            d[j] = dj
        }
        let targetFactor = exact ? Int.max : n * (kCap - 1)
        var threshold = 0.0
        if offDiagonal > targetFactor {
            var mags = [Double](); mags.reserveCapacity(offDiagonal)
            for j in 0..<n {
                let sd = sqrt(d[j])
                for t in (fp[j] + 1)..<max(fp[j] + 1, fp[j] + fnz[j]) { mags.append(abs(fx[t]) * sd) }
            }
            threshold = SparseGram.kthLargest(&mags, max(1, targetFactor))
            try interrupt()
        }
        lRow.reserveCapacity(min(offDiagonal, targetFactor)); lVal.reserveCapacity(min(offDiagonal, targetFactor))
        for j in 0..<n {
            let sd = sqrt(d[j])
            for t in (fp[j] + 1)..<max(fp[j] + 1, fp[j] + fnz[j]) {
                let v = fx[t]
                guard v.isFinite else { throw RecError.internalError("the sparse factor holds a non-finite value") }
                if threshold == 0 || abs(v) * sd >= threshold { lRow.append(Int32(truncatingIfNeeded: fi[t])); lVal.append(v) }
            }
            lStart[j + 1] = lRow.count
        }
        _ = cholmod_l_free_factor(&h.factor, h.common)
        try interrupt()
        progress("factor sparsified to \(lRow.count) non-zeros")
        }

        // 4. K ≈ L⁻¹, column by column (exact sparse solves, then the largest entries kept)
        let threads = ParallelBlocks.threads
        if let l = limit, let need = (Bytes.matrix(n, kCap, 24) + .elements(lRow.count, 12) + SparseInverseFactor.workBytes(n: n) * threads
                                      + .matrix(min(n, 1 << 22), 12, 1)).value, need > l {
            throw RecError.programLimit("the sparse model's inverse factor needs \(formatBytes(need)) of memory, more than recommender.max_training_memory allows",
                                        hint: "Lower the model's density, or raise recommender.max_training_memory.")
        }
        let kc = try SparseInverseFactor.columns(n: n, lStart: lStart, lRow: lRow, lVal: lVal, kCap: kCap, exact: exact,
                                                 fillRel: fillRel, maxPropagated: propagateRatio > 0 ? propagateRatio * kCap : Int.max,
                                                 interrupt: interrupt)
        let kStart = kc.start, kRow = kc.row, kVal = kc.val
        lRow = []; lVal = []
        progress("inverse factor: \(kRow.count) non-zeros (\(kc.propagated) entries propagated, \(kc.work) multiply-adds)")
        // K by rows (columns of each row in increasing order), and diag(A⁻¹)_a = Σ_k K_ka² / D_k
        var rStart = [Int](repeating: 0, count: n + 1)
        for r in kRow { rStart[Int(r) + 1] += 1 }
        for r in 0..<n { rStart[r + 1] += rStart[r] }
        var rCol = [Int32](repeating: 0, count: kRow.count), rVal = [Double](repeating: 0, count: kRow.count)
        var rFill = Array(rStart[0..<n])
        var diagInv = [Double](repeating: 0, count: n)
        for a in 0..<n {
            for t in kStart[a]..<kStart[a + 1] {
                let r = Int(kRow[t])
                rCol[rFill[r]] = Int32(truncatingIfNeeded: a); rVal[rFill[r]] = kVal[t]; rFill[r] += 1
                diagInv[a] += kVal[t] * kVal[t] / d[r]
            }
        }
        rFill = []
        try interrupt()
        if !exact {
            // A row of K can be as long as the catalog (a hub late in the elimination order is
            // reached from every column), and step 5 costs the sum of the squared row lengths:
            // each row keeps its rowCapRatio x kCap largest entries (the approximation of K's sparsified
            // columns, applied to its rows too)
            let rCap = max(1, rowCapRatio) * kCap
            var out = 0
            var seg: [(Int32, Double)] = []
            var newStart = [Int](repeating: 0, count: n + 1)
            for r in 0..<n {
                let lo = rStart[r], hi = rStart[r + 1]
                if hi - lo > rCap {
                    seg.removeAll(keepingCapacity: true)
                    for t in lo..<hi { seg.append((rCol[t], rVal[t])) }
                    seg.withUnsafeMutableBufferPointer { sg in
                        Selection.selectBest(sg, rCap) { abs($0.1) != abs($1.1) ? abs($0.1) > abs($1.1) : $0.0 < $1.0 }
                    }
                    seg.removeLast(seg.count - rCap)
                    seg.sort { $0.0 < $1.0 }
                    for e in seg { rCol[out] = e.0; rVal[out] = e.1; out += 1 }
                } else {
                    for t in lo..<hi { rCol[out] = rCol[t]; rVal[out] = rVal[t]; out += 1 }
                }
                newStart[r + 1] = out
                if r & 1023 == 1023 { try interrupt() }
            }
            rStart = newStart
        }

        // 5. rows of B in the items' own order: B_hj = -A⁻¹_hj / A⁻¹_jj, the m largest |B_hj| kept
        if let l = limit, let need = (Bytes.matrix(n, m, 16) + .elements(n, 64) + .elements(kRow.count, 24)
                                      + SparseRowsOfB.workBytes(n: n) * threads).value, need > l {   // the rows' slots and their packed copy, the threads' work arrays
            throw RecError.programLimit("the sparse model's weights need \(formatBytes(need)) of memory, more than recommender.max_training_memory allows",
                                        hint: "Lower the model's density, or raise recommender.max_training_memory.")
        }
        let weights = try SparseRowsOfB.weights(n: n, m: m, p: p, kStart: kStart, kRow: kRow, kVal: kVal, d: d,
                                                rStart: rStart, rCol: rCol, rVal: rVal, diagInv: diagInv, interrupt: interrupt, progress: progress)
        progress("rows of B: \(weights.nonZeros) weights")
        return Result(weights: weights, incomplete: incomplete, factorNonZeros: factorNonZeros, flops: fl)
    }
}
