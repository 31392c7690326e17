// What training needs from the interactions, read in one of two ways (issue 10):
// - rows: every row of the registered relation through a cursor into an InteractionMatrixBuilder
//   (and, with sequence_weight > 0, the time-ordered histories), as training always did;
// - partial results: when the registered table is partitioned by the user column, each partition
//   computes its users' part with the aggregate recommender.partial_gram (on the shard, pushed
//   down by postgres_fdw, for foreign partitions; here for local ones) and the parts are added up
//   (MergedPartials, Sources/RecommenderCore/PartialGram.swift). PartialTraining.swift decides.
// Everything training does after reading (the Gram matrix, counts, cold-start ranking, the sparse
// kind) is fed from either through the same accessors.
import CPostgresShim
import RecommenderCore

struct TrainingInput {
    /// The row path's matrix (nil on the partial path).
    let builder: InteractionMatrixBuilder?
    let x: SparseMatrix?
    let merged: MergedPartials?
    /// The time-ordered histories of the sequential component (row path; on the partial path the
    /// parts carry their users' SᵀS and SᵀT).
    let seq: SequenceCollector
    let transform: ValueTransform

    var itemIds: [Int64] { builder?.itemIds ?? merged?.itemIds ?? [] }
    var itemCount: Int { builder?.itemCount ?? merged?.itemCount ?? 0 }
    var events: Int { builder?.events ?? merged?.events ?? 0 }
    var userCount: Int { builder?.userCount ?? merged?.userCount ?? 0 }
    var maxTime: Double { builder?.maxTime ?? merged?.maxTime ?? -.infinity }
    var nonZeros: Int { x?.nonZeros ?? merged?.nonZeros ?? 0 }

    /// The dense Gram matrix XᵀX (n x n).
    func gram() throws -> [Double] {
        if let x = x { return try EASE.gram(x, interrupt: PG.interrupt) }
        return try merged!.gram(interrupt: PG.interrupt)
    }

    /// The sparse kind: the Gram matrix's stored non-zeros (an upper bound on the partial path,
    /// where the parts' pairs are counted before their duplicates are summed), and the matrix.
    func sparseGramCount() throws -> Int {
        if let x = x { return try SparseGram.count(x, interrupt: PG.interrupt) }
        return merged!.totalPairs
    }
    func sparseGram() throws -> SparseSymmetric {
        if let x = x { return try SparseGram.build(x, interrupt: PG.interrupt) }
        return try merged!.sparseGram(interrupt: PG.interrupt)
    }

    /// Whether some user has items with times (the sequential component has something to learn).
    var hasSequences: Bool { builder != nil ? !seq.isEmpty : (merged?.sequenceEntries ?? 0) > 0 }

    /// The sequential component's dense SᵀS and SᵀT (n x n, in this input's item numbering): from
    /// the rows' histories (each user's items by first time, ties by id; values as the Gram
    /// matrix's, scaled per user by |history|^-row_norm), or the parts' pairs added up.
    func sequenceGrams(params p: TrainParams, window: Int, n: Int) throws -> (ss: [Double], st: [Double]) {
        if let b = builder {
            return try SequenceModel.grams(sequences: seq.sequences(b, transform: transform), rowScale: b.sequenceRowScale(rowNorm: p.rowNorm), n: n,
                                           window: window, halfLife: p.sequenceHalfLife, interrupt: PG.interrupt)
        }
        return try merged!.sequenceGrams(interrupt: PG.interrupt)
    }

    /// What followed each item in the rows' histories (SequenceFollowers.swift), for explain();
    /// nil on the partial path, whose shards send only the sequential component's sums.
    func followers(window: Int, top: Int) throws -> SequenceFollowers? {
        guard let b = builder, !seq.isEmpty else { return nil }
        return try SequenceModel.followers(sequences: seq.sequences(b, transform: transform), n: b.itemCount, window: window,
                                           top: top, interrupt: PG.interrupt)
    }

    func itemUserCounts(interrupt: InterruptCheck) throws -> [Int] {
        if let b = builder { return try b.itemUserCounts(interrupt: interrupt) }
        return merged!.itemUserCounts()
    }

    func coldStartRanking(halfLife: Double, trendWeight: Double, interrupt: InterruptCheck) throws -> (score: [Double], trend: [Double]) {
        if let b = builder { return try b.coldStartRanking(halfLife: halfLife, trendWeight: trendWeight, interrupt: interrupt) }
        return merged!.coldStartRanking(halfLife: halfLife, trendWeight: trendWeight)
    }

    /// Reads the interactions of model `m`: from partial results when PartialTraining allows it,
    /// else every row. Fails (55000) when nothing has a positive weight.
    static func read(model m: ModelRow, params p: TrainParams, sql: ModelSQL, ids: TrainingIds) throws -> TrainingInput {
        try PG.notice("recommender: training model \"\(m.name)\": reading interactions")
        let input: TrainingInput
        if let merged = try PartialTraining.read(model: m, params: p, ids: ids) {
            input = TrainingInput(builder: nil, x: nil, merged: merged, seq: SequenceCollector(), transform: merged.transform)
        } else {
            input = try readRows(model: m, params: p, sql: sql, ids: ids)
        }
        guard input.itemCount > 0 else {
            throw RecError.objectState("model \"\(m.name)\" has no interactions with a positive weight to learn from",
                                       hint: "Check the registered table and event weights with SELECT * FROM recommender.status('\(m.name)').")
        }
        return input
    }

    /// Every row of the registered relation, through a cursor in batches of 10,000 rows.
    static func readRows(model m: ModelRow, params p: TrainParams, sql: ModelSQL, ids: TrainingIds) throws -> TrainingInput {
        var b = InteractionMatrixBuilder(maxItems: p.maxItems)
        var seq = SequenceCollector()
        let c = try Cursor(sql.train)
        try c.forEachRow(batch: 10000) { r in
            guard let u = try ids.user(c, r, 0) else {
                throw RecError.nullValue("the interactions of model \"\(m.name)\" have a NULL user id",
                                         hint: "Remove or fix the rows with NULL ids, or register a view that filters them.")
            }
            guard let i = try ids.item(c, r, 1) else {
                throw RecError.nullValue("the interactions of model \"\(m.name)\" have a NULL item id",
                                         hint: "Remove or fix the rows with NULL ids, or register a view that filters them.")
            }
            let w = try c.float8(r, 2) ?? 0
            try validateWeight(w, "the interaction of user \(ids.userName(u)) with item \(ids.itemName(i)) (model \"\(m.name)\")")
            let t = try c.float8(r, 3)
            try ids.checkTime(t, user: u, item: i)
            try b.add(user: u, item: i, weight: w, time: t)
            if p.sequenceWeight > 0 { seq.add(user: u, item: i, weight: w, time: t) }
        }
        try c.close()
        guard b.itemCount > 0 else {
            return TrainingInput(builder: b, x: nil, merged: nil, seq: seq, transform: ValueTransform(p.weighting))
        }
        let transform = ValueTransform(p.weighting, power: p.weightPower, scale: p.weighting == .power ? max(try b.maxTotal(interrupt: PG.interrupt), 1e-300) : 1)
        let x = try b.build(transform: transform, rowNorm: p.rowNorm, interrupt: PG.interrupt)
        return TrainingInput(builder: b, x: x, merged: nil, seq: seq, transform: transform)
    }
}
