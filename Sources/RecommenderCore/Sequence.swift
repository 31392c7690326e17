#if canImport(Glibc)
import Glibc
#endif
import COpenBLAS

/// The sequential item-item component: what a user does next, given what they did just before.
///
/// After SLIT, the sequential-dependency half of SLIST (Choi, Kim, Lee, Shim and Lee,
/// "Session-aware Linear Item-Item Models for Session-based Recommendation", WWW 2021), with each
/// user's time-ordered history as one session. For every split point t of a sequence
/// s_0 .. s_{L-1}, one training pair: the input row holds the items at positions t, t-1, ...,
/// t-W+1 (the most recent before the split), the target row the items at t+1, ..., t+W, each
/// weighted by its value times the position decay 0.5^(d / h) (d = distance to the split, 0 for
/// the nearest item on either side; h = `halfLife` positions). In closed form:
///     B_seq = (SᵀS + λ_s I)⁻¹ SᵀT,   λ_s = lambda · trace(SᵀS) / trace(XᵀX)
/// (the same regularisation as EASE, relative to the matrices' scales), diagonal set to zero.
/// The stored model is ONE matrix, B = (1 - w) B_ease + w c B_seq with c = ‖B_ease‖_F / ‖B_seq‖_F,
/// so a score stays Σ_i x_i B_ij over the user's own items and explanations stay exact.
public enum SequenceModel {
    /// Items on each side of a split point (W).
    public static let window = 8
    /// Position decay half-life h, in positions.
    public static let halfLife = 2.0

    /// Position decay of an item at distance d (0 = next to the split point).
    @inline(__always) public static func decay(_ d: Int, halfLife h: Double = halfLife) -> Double {
        pow(0.5, Double(d) / h)
    }

    /// SᵀS and SᵀT (n x n, row-major) from sequences of (item index, value), oldest first.
    /// `rowScale` scales every pair of a user (e.g. |history|^-row_norm, as for the Gram matrix).
    public static func grams(sequences: [[(Int32, Double)]], rowScale: [Double]? = nil, n: Int,
                             window w: Int = window, halfLife h: Double = halfLife,
                             interrupt: InterruptCheck = neverInterrupted) throws -> (ss: [Double], st: [Double]) {
        let (count, overflow) = n.multipliedReportingOverflow(by: n)
        guard !overflow, n > 0 else { throw RecError.programLimit("item count \(n) is too large for the sequential component") }
        guard w > 0, h > 0, h.isFinite else { throw RecError.invalidParameter("the sequence window and half-life must be positive") }
        var ss = [Double](repeating: 0, count: count)
        var st = [Double](repeating: 0, count: count)
        let dec = (0..<w).map { decay($0, halfLife: h) }
        var work = 0
        for (u, seq) in sequences.enumerated() {
            let len = seq.count
            guard len >= 2 else { continue }
            let f = rowScale.map { u < $0.count ? $0[u] : 1 } ?? 1
            guard f.isFinite, f > 0 else { continue }
            for t in 0..<(len - 1) {
                let lo = max(0, t - w + 1), hi = min(len - 1, t + w)
                for p in lo...t {
                    let (ip, vp) = seq[p]
                    guard ip >= 0, Int(ip) < n else { continue }
                    let a = vp * dec[t - p] * f
                    let base = Int(ip) * n
                    for q in lo...t {
                        let (iq, vq) = seq[q]
                        guard iq >= 0, Int(iq) < n else { continue }
                        ss[base + Int(iq)] += a * vq * dec[t - q]
                    }
                    for q in (t + 1)...hi {
                        let (iq, vq) = seq[q]
                        guard iq >= 0, Int(iq) < n else { continue }
                        st[base + Int(iq)] += a * vq * dec[q - t - 1]
                    }
                }
            }
            work += len * w * w
            if work > 1_000_000 { work = 0; try interrupt() }
        }
        return (ss, st)
    }

    /// B_seq = (SᵀS + λ I)⁻¹ SᵀT with a zero diagonal (row-major, row i: input item i). Consumes
    /// ss and st (memory: three n x n double matrices at the peak).
    public static func fit(ss: inout [Double], st: inout [Double], n: Int, lambda: Double, threads: Int = 1,
                           interrupt: InterruptCheck = neverInterrupted) throws -> [Double] {
        guard lambda.isFinite, lambda > 0 else { throw RecError.invalidParameter("the sequential lambda must be a finite number > 0 (got \(lambda))") }
        guard n > 0, n <= 100_000, ss.count == n * n, st.count == n * n else { throw RecError.internalError("sequence matrices have the wrong size") }
        for i in 0..<n { ss[i * n + i] += lambda }
        try interrupt()
        openblas_set_num_threads(Int32(max(1, min(threads, 64))))
        defer { openblas_set_num_threads(1) }
        // Factor SS + λI = L Lᵀ by blocks (BlockedCholesky: interruptible every few ms at any size),
        // then solve against SᵀT by bands of right-hand-side columns, polling between bands.
        do {
            try BlockedCholesky.factor(&ss, n: n, interrupt: interrupt)
        } catch let e as RecError where e.sqlstate == "XX000" {
            throw RecError("22023", "the sequential component cannot be solved: its regularised matrix is not positive definite",
                           hint: "Increase lambda, or set sequence_weight => 0.")
        }
        // SS is symmetric, so its row-major buffer is also its column-major form. The right-hand
        // side must be SᵀT in column-major order: the transpose of our row-major buffer.
        try transposeInPlace(&st, n: n, interrupt: interrupt)
        var info: Int32 = 0
        var nn = Int32(n)
        var uplo = Int8(UInt8(ascii: "L"))
        let band = max(1, min(n, Int(2e8 / (2 * Double(n) * Double(n)))))
        var c0 = 0
        while c0 < n {
            var nrhs = Int32(min(band, n - c0))
            st.withUnsafeMutableBufferPointer { b in ss.withUnsafeBufferPointer { a in
                guard let bb = b.baseAddress else { return }
                dpotrs_(&uplo, &nn, &nrhs, a.baseAddress, &nn, bb + c0 * n, &nn, &info)
            } }
            guard info == 0 else { throw RecError("XX000", "solving the sequential component failed (info \(info))") }
            c0 += Int(nrhs)
            try interrupt()
        }
        // st now holds X = (SS + λI)⁻¹ SᵀT in column-major order: back to row-major.
        try transposeInPlace(&st, n: n, interrupt: interrupt)
        for i in 0..<n { st[i * n + i] = 0 }
        var out: [Double] = []
        swap(&out, &st)
        return out
    }

    static func transposeInPlace(_ a: inout [Double], n: Int, interrupt: InterruptCheck = neverInterrupted) throws {
        for i in 0..<n {
            for j in (i + 1)..<max(i + 1, n) { a.swapAt(i * n + j, j * n + i) }
            if i % 256 == 255 { try interrupt() }
        }
    }

    /// The regularisation of the sequential solve: lambda scaled by trace(SᵀS) / trace(XᵀX).
    public static func relativeLambda(_ lambda: Double, ss: [Double], gramTrace: Double, n: Int) -> Double {
        var tr = 0.0
        for i in 0..<n where i * n + i < ss.count { tr += ss[i * n + i] }
        guard gramTrace > 0, tr > 0 else { return lambda }
        let l = lambda * tr / gramTrace
        return l.isFinite && l > 0 ? l : lambda
    }

    /// B = (1 - w) B_ease + w c B_seq, c = ‖B_ease‖_F / ‖B_seq‖_F (1 when either is zero).
    /// Returns c, the scale applied to B_seq.
    @discardableResult
    public static func blend(ease: inout [Float], seq: [Double], n: Int, weight w: Double,
                             interrupt: InterruptCheck = neverInterrupted) throws -> Double {
        guard ease.count == n * n, seq.count == n * n else { throw RecError.internalError("blend: matrices have the wrong size") }
        guard w.isFinite, w >= 0, w <= 1 else { throw RecError.invalidParameter("sequence_weight must be in [0, 1] (got \(w))") }
        var ne = 0.0, ns = 0.0
        for i in 0..<n {
            for t in (i * n)..<((i + 1) * n) { ne += Double(ease[t]) * Double(ease[t]); ns += seq[t] * seq[t] }
            if i % 256 == 255 { try interrupt() }
        }
        let c = (ne > 0 && ns > 0) ? (ne / ns).squareRoot() : 1
        for i in 0..<n {
            for t in (i * n)..<((i + 1) * n) { ease[t] = Float((1 - w) * Double(ease[t]) + w * c * seq[t]) }
            if i % 256 == 255 { try interrupt() }
        }
        return c
    }
}

/// Collects, while training reads the interactions, the first time each user met each item, so
/// that each user's history can be put in time order for the sequential component.
public struct SequenceCollector {
    var first: [Int64: [Int64: Double]] = [:]
    public private(set) var pairs = 0
    public init() {}

    public mutating func add(user: Int64, item: Int64, weight: Double, time: Double?) {
        guard weight > 0, let t = time, t.isFinite else { return }
        if let old = first[user]?[item] {
            if t < old { first[user]?[item] = t }
            return
        }
        first[user, default: [:]][item] = t
        pairs += 1
    }

    public var isEmpty: Bool { pairs == 0 }

    /// Per user of the builder (by its user index): the user's items as (item index, value),
    /// ordered by first time, ties by item id; values are the training values of `transform`.
    public func sequences(_ b: InteractionMatrixBuilder, transform: ValueTransform) -> [[(Int32, Double)]] {
        var out = [[(Int32, Double)]](repeating: [], count: b.userCount)
        for (u, uid) in b.userIds.enumerated() {
            guard let items = first[uid], u < b.rows.count else { continue }
            var seq: [(t: Double, id: Int64, idx: Int32, v: Double)] = []
            seq.reserveCapacity(items.count)
            for (id, t) in items {
                guard let i = b.itemIndex[id], let w = b.rows[u][i] else { continue }
                let v = transform.apply(w)
                if v > 0 && v.isFinite { seq.append((t, id, i, v)) }
            }
            seq.sort { $0.t != $1.t ? $0.t < $1.t : $0.id < $1.id }
            out[u] = seq.map { ($0.idx, $0.v) }
        }
        return out
    }
}

extension InteractionMatrixBuilder {
    /// Distinct items per user, by user index.
    public func rowLengths() -> [Int] { rows.map(\.count) }
}
