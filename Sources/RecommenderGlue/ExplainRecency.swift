// What explain() says about recency and order (see RecommenderCore/Recency.swift, Sequence.swift).
#if canImport(Glibc)
import Glibc
#endif
import RecommenderCore

/// "; latest event 2 days ago, the most recent of the user's items; recency weight 1 (x 0.8 in
/// the weight above)" for a part whose value was scaled by recency; "" without recency weighting.
func recencyDetail(_ p: Explanation.Part, lastTime: Double?) -> String {
    guard let rank = p.ageRank else { return "" }
    var out = "; "
    if let t = lastTime {
        out += "latest event \(ago(seconds: wallClock() - t)), "
    }
    switch rank {
    case 0: out += "the user's most recent item"
    case 1: out += "1 item of the user's is more recent"
    default: out += "\(rank) items of the user's are more recent"
    }
    out += "; recency weight \(formatNumber(p.recency)) (included in the weight)"
    return out
}

/// Seconds since 1970, with the fraction (the time column's units).
func wallClock() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func ago(seconds s: Double) -> String {
    guard s.isFinite else { return "at an unknown time" }
    if s < 0 { return "in the future" }
    let units: [(Double, String)] = [(86400 * 365, "year"), (86400 * 30, "month"), (86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")]
    for (size, name) in units where s >= size {
        let n = Int(s / size)
        return "\(n) \(name)\(n == 1 ? "" : "s") ago"
    }
    return "just now"
}

/// Appended to the verdict when the model's weights include the sequential component.
func sequenceNote(_ m: ModelRow, _ im: ItemModel) -> String {
    guard im.sequenceWeight > 0 else { return "" }
    return " (the item-item weights are fitted to co-occurrence and to what tends to follow what in users' histories, sequence_weight \(formatNumber(im.sequenceWeight)))"
}
