#if canImport(Glibc)
import Glibc
#endif

/// The sequential item-item component: what a user does next, given what they did just before.
///
/// After SLIT, the sequential-dependency half of SLIST (Choi, Kim, Lee, Shim and Lee,
/// "Session-aware Linear Item-Item Models for Session-based Recommendation", WWW 2021), with each
/// user's time-ordered history as one session. For every split point t of a sequence
/// s_0 .. s_{L-1}, one training pair: the input row holds the items at positions t, t-1, ...,
/// t-W+1 (the most recent before the split), the target row the items at t+1, ..., t+W, each
/// weighted by its value times the position decay 0.5^(d / h) (d = distance to the split, 0 for
/// the nearest item on either side; h = `halfLife` positions). SᵀS and SᵀT are solved jointly with
/// EASE/EDLAE's XᵀX into ONE item-item matrix, as SLIST does (SequenceJoint.swift), so a score
/// stays Σ_i x_i B_ij over the user's own items and explanations stay exact.
public enum SequenceModel {
    /// Items on each side of a split point (W).
    public static let window = 8
    /// Position decay half-life h, in positions.
    public static let halfLife = 2.0

    /// The window that goes with a position half-life h: 4 half-lives on each side of a split
    /// point (an item further away would count less than 0.5^4 = 1/16), at least 2 and at most 32
    /// positions. h = 2 gives the window of 8 used before `sequence_half_life` existed. SLIST's
    /// multi-step transitions with position decay (Choi et al., WWW 2021); the half-life is a
    /// configure() parameter that tune() searches (halved and doubled), because how far a step
    /// looks back and ahead depends on the shop: on the temporal validation split of MovieLens
    /// h = 4 (window 16) bought +0.002 NDCG@10 over h = 2 (README, "Quality").
    public static func window(forHalfLife h: Double) -> Int {
        guard h.isFinite, h > 0 else { return window }
        return max(2, min(32, Int((4 * h).rounded())))
    }

    /// The range configure() accepts for `sequence_half_life`, in positions.
    public static let halfLifeRange: ClosedRange<Double> = 0.5...8

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
