#if canImport(Glibc)
import Glibc
#endif

/// Recency weighting of a user's own history at scoring: the most recent item counts fully, and
/// each item's value is multiplied by 0.5^(age rank / half-life), where the age rank of an item is
/// the number of the user's distinct items with a strictly later latest event (0 for the newest;
/// items sharing a timestamp share a rank, so the result does not depend on row order). In the
/// style of the EASE-decay peer and of SLIST's recency weighting of the last session's items
/// (Choi et al., WWW 2021). Because it scales x_i, a score stays Σ_i (r_i x_i) B_ij over the
/// user's own items: explanations stay exact. A half-life of 0 turns it off.
///
/// With a floor f (0.4.0, `recency_floor`) the weight is f + (1 - f) x 0.5^(rank / half-life): the
/// last few items dominate, as with the decay alone, but an old item keeps the share f instead of
/// fading to nothing, so the user's long-standing taste still counts beside the current visit.
/// A short-term and a long-term part of the user's preference, summed, as in the session-based
/// models that combine the last clicks with the whole session or history (STAMP, Liu et al.,
/// KDD 2018; SHAN, Ying et al., IJCAI 2018), here in the weights of a linear model's input.
public enum Recency {
    /// The floor's accepted range (0: the decay alone; 1 would weigh every item fully).
    public static let floorRange: ClosedRange<Double> = 0...1

    /// floor + (1 - floor) x 0.5^(rank / halfLife); 1 when halfLife is 0 (off) or not a positive
    /// finite number. A floor outside [0, 1] or not finite counts as 0.
    @inline(__always) public static func weight(ageRank: Int, halfLife: Double, floor: Double = 0) -> Double {
        guard halfLife.isFinite, halfLife > 0, ageRank > 0 else { return 1 }
        let f = floorRange.contains(floor) ? floor : 0
        return f + (1 - f) * pow(0.5, Double(ageRank) / halfLife)
    }

    /// Age ranks from each item's latest event time (nil: no time, older than every timed item;
    /// when no item has a time every rank is 0).
    public static func ageRanks(_ times: [Int64: Double?]) -> [Int64: Int] {
        let timed = times.values.compactMap { $0 }.filter { $0.isFinite }.sorted(by: >)
        var out: [Int64: Int] = [:]
        out.reserveCapacity(times.count)
        for (item, t) in times {
            guard let tt = t, tt.isFinite else { out[item] = timed.count; continue }
            // number of timed values strictly greater than tt (timed is sorted descending)
            var lo = 0, hi = timed.count
            while lo < hi { let mid = (lo + hi) / 2; if timed[mid] > tt { lo = mid + 1 } else { hi = mid } }
            out[item] = lo
        }
        return out
    }
}
