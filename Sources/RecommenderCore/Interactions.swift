#if canImport(Glibc)
import Glibc
#endif

/// How repeated, weighted events of one user on one item become one entry of the user-item matrix.
public enum Weighting: String, CaseIterable, Sendable {
    /// 1 for every (user, item) pair that has any positive weight.
    case binary
    /// The sum of the event weights.
    case sum
    /// log(1 + sum of the event weights): repeated events count, with diminishing returns.
    case log
    /// (sum / scale)^power, with the scale the largest summed weight seen at training: with
    /// ratings as weights and power 2, a 5-star rating counts 1 and a 3-star rating 0.36.
    case power

    public func apply(_ total: Double) -> Double { apply(total, power: 1, scale: 1) }

    public func apply(_ total: Double, power: Double, scale: Double) -> Double {
        switch self {
        case .binary: return total > 0 ? 1 : 0
        case .sum: return total
        case .log: return total > 0 ? log1p(total) : 0
        case .power:
            guard total > 0, scale > 0, power.isFinite else { return 0 }
            return pow(total / scale, power)
        }
    }
}

/// The value a (user, item) pair takes in the model, at training and at serving alike.
public struct ValueTransform: Sendable, Equatable {
    public var weighting: Weighting
    public var power: Double
    public var scale: Double
    public init(_ weighting: Weighting, power: Double = 1, scale: Double = 1) {
        self.weighting = weighting; self.power = power; self.scale = scale
    }
    @inline(__always) public func apply(_ total: Double) -> Double { weighting.apply(total, power: power, scale: scale) }
}

/// Checks one event weight read from the shop's table; `what` names the row for the message.
@inline(__always)
public func validateWeight(_ w: Double, _ what: @autoclosure () -> String) throws {
    if w.isNaN || w.isInfinite || w < 0 {
        throw RecError.outOfRange("\(what()) has \(w < 0 ? "a negative" : "a non-finite") weight (\(w))",
                                  hint: "Weights (times event-type weights) must be finite numbers >= 0; fix or delete those rows, or register a view that filters them.")
    }
}

/// Accumulates interactions (user id, item id, weight, time) into a sparse user-item matrix with
/// dense internal indices. Repeated events of one user on one item sum their weights.
public struct InteractionMatrixBuilder {
    public private(set) var userIndex: [Int64: Int32] = [:]
    public private(set) var itemIndex: [Int64: Int32] = [:]
    public private(set) var itemIds: [Int64] = []
    public private(set) var userIds: [Int64] = []
    /// Per user: item index -> summed weight.
    var rows: [[Int32: Double]] = []
    /// Per item: latest event time (seconds since epoch), or -inf when no times are known.
    public private(set) var itemLastSeen: [Double] = []
    /// Per item: the events with times, for decayed popularity: (time, weight) summed per item lazily.
    var itemEventTimes: [[(Double, Double)]] = []
    public private(set) var events: Int = 0
    public private(set) var maxTime: Double = -Double.infinity
    public let maxItems: Int

    public init(maxItems: Int = Int.max) { self.maxItems = maxItems }

    public mutating func add(user: Int64, item: Int64, weight: Double, time: Double?) throws {
        guard weight > 0 else { events += 1; return }   // zero-weight events (e.g. ignored event types) carry nothing
        let u: Int32
        if let found = userIndex[user] { u = found } else {
            guard userIds.count < Int(Int32.max) else { throw RecError.programLimit("too many users") }
            u = Int32(userIds.count); userIndex[user] = u; userIds.append(user); rows.append([:])
        }
        let i: Int32
        if let found = itemIndex[item] { i = found } else {
            guard itemIds.count < maxItems else {
                throw RecError.programLimit("the catalog has more than \(maxItems) items with interactions; the model is limited to \(maxItems) items (max_items)",
                                            hint: "Raise the model's max_items parameter (memory grows with its square), or register a view that keeps the items that matter.")
            }
            i = Int32(itemIds.count); itemIndex[item] = i; itemIds.append(item)
            itemLastSeen.append(-Double.infinity); itemEventTimes.append([])
        }
        let sum = rows[Int(u)][i, default: 0] + weight
        guard sum.isFinite else {
            throw RecError.outOfRange("the summed weight of user \(user) on item \(item) overflows (\(sum))",
                                      hint: "Weights are summed per user and item; scale them down, or fix those rows.")
        }
        rows[Int(u)][i] = sum
        if let t = time, t.isFinite {
            if t > itemLastSeen[Int(i)] { itemLastSeen[Int(i)] = t }
            if t > maxTime { maxTime = t }
            itemEventTimes[Int(i)].append((t, weight))
        }
        events += 1
    }

    public var userCount: Int { userIds.count }
    public var itemCount: Int { itemIds.count }

    /// The largest summed weight of a (user, item) pair: the scale of the power weighting.
    public func maxTotal() -> Double { maxTotal(interrupt: {}) }

    // The loops below run over every (user, item) pair or every event: they poll `interrupt`
    // every 1,024 users or items (the plain variants pass a check that never fires).
    public func maxTotal(interrupt: InterruptCheck) rethrows -> Double {
        var m = 0.0
        for (u, row) in rows.enumerated() {
            for (_, w) in row where w > m { m = w }
            if u & 1023 == 1023 { try interrupt() }
        }
        return m
    }

    /// The matrix in compressed sparse rows with the weighting applied.
    public func build(weighting: Weighting) -> SparseMatrix {
        build(transform: ValueTransform(weighting), rowNorm: 0)
    }

    /// The training matrix: each value transformed, and each user's row scaled by
    /// |history|^-rowNorm so that heavy users weigh less in the Gram matrix (0: no scaling). The
    /// scaling is for training only; serving uses the transformed values of one user, where a
    /// common factor does not change the ranking.
    public func build(transform: ValueTransform, rowNorm: Double) -> SparseMatrix {
        build(transform: transform, rowNorm: rowNorm, interrupt: {})
    }

    public func build(transform: ValueTransform, rowNorm: Double, interrupt: InterruptCheck) rethrows -> SparseMatrix {
        var rowStart = [Int](repeating: 0, count: rows.count + 1)
        var cols: [Int32] = []
        var vals: [Double] = []
        cols.reserveCapacity(rows.reduce(0) { $0 + $1.count })
        vals.reserveCapacity(cols.capacity)
        for (u, row) in rows.enumerated() {
            let f = rowNorm != 0 && !row.isEmpty ? pow(Double(row.count), -rowNorm) : 1
            for (i, w) in row.sorted(by: { $0.key < $1.key }) {
                let v = transform.apply(w) * f
                if v > 0 && v.isFinite { cols.append(i); vals.append(v) }
            }
            rowStart[u + 1] = cols.count
            if u & 1023 == 1023 { try interrupt() }
        }
        return SparseMatrix(rows: rows.count, cols: itemIds.count, rowStart: rowStart, colIndex: cols, values: vals)
    }

    /// Number of distinct users per item.
    public func itemUserCounts() -> [Int] { itemUserCounts(interrupt: {}) }

    public func itemUserCounts(interrupt: InterruptCheck) rethrows -> [Int] {
        var c = [Int](repeating: 0, count: itemIds.count)
        for (u, row) in rows.enumerated() {
            for (i, _) in row { c[Int(i)] += 1 }
            if u & 1023 == 1023 { try interrupt() }
        }
        return c
    }

    /// Popularity with exponential time decay (half-life in seconds, counted back from the newest
    /// event), in the style of SAR's time-decayed affinity. Without timestamps: distinct users.
    /// The cold-start ranking: time-decayed popularity boosted by a trending signal, in the
    /// style of SAR's time-decayed affinity (Microsoft's Smart Adaptive Recommendations).
    /// recent_i and baseline_i are item i's shares of the decayed popularity with the short
    /// half-life and with a long one (8 times longer); trend_i = (recent_i + e) / (baseline_i + e),
    /// e = 1 / items, is the recent rise against the longer baseline, and the score is
    /// recent_i * trend_i^trendWeight (trendWeight 0: decayed popularity alone). Without
    /// timestamps the score is the number of distinct users and the trend is 1.
    public func coldStartRanking(halfLife: Double, trendWeight: Double) -> (score: [Double], trend: [Double]) {
        coldStartRanking(halfLife: halfLife, trendWeight: trendWeight, interrupt: {})
    }

    public func coldStartRanking(halfLife: Double, trendWeight: Double, interrupt: InterruptCheck) rethrows -> (score: [Double], trend: [Double]) {
        let n = itemIds.count
        guard maxTime.isFinite, halfLife > 0, n > 0 else {
            return (try itemUserCounts(interrupt: interrupt).map(Double.init), [Double](repeating: 1, count: n))
        }
        let recent = try decayedPopularity(halfLife: halfLife, interrupt: interrupt)
        let baseline = try decayedPopularity(halfLife: halfLife * 8, interrupt: interrupt)
        return InteractionMatrixBuilder.coldStartScore(recent: recent, baseline: baseline, trendWeight: trendWeight)
    }

    /// The cold-start score and trend from the decayed popularities with the short and the long
    /// half-life (shared with training from partial results, MergedPartials).
    public static func coldStartScore(recent: [Double], baseline: [Double], trendWeight: Double) -> (score: [Double], trend: [Double]) {
        let n = recent.count
        let rs = max(recent.reduce(0, +), 1e-300), bs = max(baseline.reduce(0, +), 1e-300)
        let e = 1 / Double(n)
        var score = [Double](repeating: 0, count: n)
        var trend = [Double](repeating: 1, count: n)
        let tw = trendWeight.isFinite ? max(0, trendWeight) : 0
        for i in 0..<n {
            let r = recent[i] / rs, b = baseline[i] / bs
            trend[i] = (r + e) / (b + e)
            score[i] = r * pow(trend[i], tw)
            if !score[i].isFinite { score[i] = 0 }
        }
        return (score, trend)
    }

    public func decayedPopularity(halfLife: Double) -> [Double] { decayedPopularity(halfLife: halfLife, interrupt: {}) }

    public func decayedPopularity(halfLife: Double, interrupt: InterruptCheck) rethrows -> [Double] {
        let counts = try itemUserCounts(interrupt: interrupt)
        guard maxTime.isFinite, halfLife > 0 else { return counts.map(Double.init) }
        var p = [Double](repeating: 0, count: itemIds.count)
        for i in 0..<itemIds.count {
            var s = 0.0
            for (t, w) in itemEventTimes[i] { s += min(w, 1e12) * exp(-0.6931471805599453 * (maxTime - t) / halfLife) }
            // items whose events had no time still count by their users
            p[i] = itemEventTimes[i].isEmpty ? Double(counts[i]) * 1e-6 : s
            if i & 1023 == 1023 { try interrupt() }
        }
        return p
    }
}

/// Compressed sparse rows (users x items).
public struct SparseMatrix: Sendable {
    public let rows: Int
    public let cols: Int
    public let rowStart: [Int]
    public let colIndex: [Int32]
    public let values: [Double]

    public init(rows: Int, cols: Int, rowStart: [Int], colIndex: [Int32], values: [Double]) {
        self.rows = rows; self.cols = cols; self.rowStart = rowStart; self.colIndex = colIndex; self.values = values
    }
    public var nonZeros: Int { values.count }
}
