// What explain() says about recency and order (see RecommenderCore/Recency.swift, Sequence.swift).
#if canImport(Glibc)
import Glibc
#endif
import RecommenderCore

/// "; latest event 2 days ago, 3 items of the user's are more recent; recency weight 0.463 =
/// 0.2 + 0.8 x 0.5^(3 / 3.2) (included in the weight)" for a part whose value was scaled by
/// recency (the formula only when the item is not the newest); "" without recency weighting.
func recencyDetail(_ p: Explanation.Part, lastTime: Double?, halfLife: Double = 0, floor: Double = 0) -> String {
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
    out += "; recency weight \(formatNumber(p.recency))"
    if rank > 0 && halfLife > 0 && halfLife.isFinite {
        // the weight's formula (Recency.weight), with the floor when there is one
        let decay = "0.5^(\(rank) / \(formatNumber(halfLife)))"
        out += Recency.floorRange.contains(floor) && floor > 0
            ? " = \(formatNumber(floor)) + \(formatNumber(1 - floor)) x \(decay)" : " = \(decay)"
    }
    out += " (included in the weight)"
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

/// The position half-life h the model was trained with (0.4.0; read from the version's params,
/// SequenceModel.halfLife for older versions).
func trainedSequenceHalfLife(_ m: ModelRow, _ im: ItemModel) throws -> Double {
    var h = SequenceModel.halfLife
    let c = try Cursor("""
        SELECT (params OPERATOR(pg_catalog.->>) 'sequence_half_life')::pg_catalog.float8
          FROM recommender.model_version WHERE model OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2
        """, [.text(m.name), .int8(im.version)])
    try c.forEachRow { r in if let v = try c.float8(r, 0), SequenceModel.halfLifeRange.contains(v) { h = v } }
    try c.close()
    return h
}

/// Appended to the verdict when the model's weights include the sequential component: how far
/// order reached, what followed within the window of Sequence.swift, a step d positions away
/// counting 0.5^(d / h).
func sequenceNote(_ im: ItemModel, halfLife h: Double) -> String {
    guard im.sequenceWeight > 0 else { return "" }
    let w = SequenceModel.window(forHalfLife: h)
    return " (the item-item weights are fitted to co-occurrence and to what tends to follow what in users' histories, sequence_weight \(formatNumber(im.sequenceWeight)): what followed an item within \(w) steps, a step d positions further counting 0.5^(d / \(formatNumber(h))))"
}

/// For a model with the sequential component: which of the user's items the recommended item
/// often followed in other users' histories (it is among their SequenceFollowers.stored most
/// frequent followers, recommender.model_follower), with its rank and the number of users.
/// Empty for older versions and for a database whose extension predates the table.
func followedBy(_ m: ModelRow, _ im: ItemModel, target: Int64, items: [Int64]) throws -> [Int64: (rank: Int, users: Int)] {
    guard im.sequenceWeight > 0, !items.isEmpty, try followerTableExists() else { return [:] }
    let c = try Cursor("""
        SELECT item_id, rank, users FROM recommender.model_follower
         WHERE model OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2
           AND follower_id OPERATOR(pg_catalog.=) $3 AND item_id OPERATOR(pg_catalog.=) ANY ($4::pg_catalog.int8[])
        """, [.text(m.name), .int8(im.version), .int8(target), .text("{" + items.map(String.init).joined(separator: ",") + "}")])
    defer { try? c.close() }
    var out: [Int64: (rank: Int, users: Int)] = [:]
    try c.forEachRow { r in
        if let i = try c.int8(r, 0), let k = try c.int4(r, 1), let u = try c.int4(r, 2) { out[i] = (Int(k), Int(u)) }
    }
    return out
}

/// Whether recommender.model_follower exists (0.4.0): not in a database whose extension is
/// older, which this library also serves until ALTER EXTENSION UPDATE.
func followerTableExists() throws -> Bool {
    let t = try Cursor("SELECT pg_catalog.to_regclass('recommender.model_follower') IS NOT NULL")
    defer { try? t.close() }
    var exists = false
    try t.forEachRow { r in exists = try t.bool(r, 0) ?? false }
    return exists
}

/// "; often followed by the recommended item: in 37 users' histories it came within 8 steps
/// after this one (this item's 2nd most frequent follower)".
func followerDetail(_ f: (rank: Int, users: Int), window w: Int) -> String {
    let ord: String
    switch f.rank {
    case 1: ord = "most frequent follower"
    case 2: ord = "2nd most frequent follower"
    case 3: ord = "3rd most frequent follower"
    default: ord = "\(f.rank)th most frequent follower"
    }
    return "; often followed by the recommended item: in \(f.users) users' histories it came within \(w) steps after this one (this item's \(ord))"
}
