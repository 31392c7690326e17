// The functions the C entry points call. Each returns REC_OK, REC_PG_ERROR (a PostgreSQL error
// was saved by the shim and is re-thrown by C) or REC_SWIFT_ERROR (rec_set_error was called).
import CPostgresShim
import RecommenderCore

/// Runs one call: maps every thrown error to a code. Nothing here traps on bad input.
func guarded(_ body: () throws -> Void) -> Int32 {
    _ = blasOnce
    do {
        try body()
        return Int32(REC_OK)
    } catch is PGFailure {
        return Int32(REC_PG_ERROR)
    } catch let e as RecError {
        rec_set_error(e.sqlstate, e.message, e.hint)
        return Int32(REC_SWIFT_ERROR)
    } catch {
        rec_set_error("XX000", "recommender: unexpected error: \(error)", nil)
        return Int32(REC_SWIFT_ERROR)
    }
}

/// Once per backend, before any BLAS call: scoring runs BLAS on the calling thread (see `BLAS`).
let blasOnce: Void = BLAS.singleThreaded()

func modelName(_ p: UnsafePointer<CChar>?) -> String? { p.map { String(cString: $0) } }

@_cdecl("rec_swift_recommend")
public func rec_swift_recommend(_ userId: Int64, _ k: Int32, _ diversity: Double,
                                _ model: UnsafePointer<CChar>?, _ rules: UnsafePointer<RecRules>?,
                                _ sink: OpaquePointer?) -> Int32 {
    guarded {
        try validate(k: Int(k), diversity: diversity)
        let m = try Catalog.resolve(modelName(model))
        _ = try Catalog.requireTrained(m)
        let sql = try Catalog.sql(m)
        try requireIntegerIds(m, sql, user: true, item: true, function: "recommend")
        let history = try Catalog.history(sql, model: m, user: userId)
        let im = try Catalog.model(m)
        let ids = try callIds(m, sql, im, textOut: false)
        try serveRecommend(m, sql, im, history, ids: ids, k: k, diversity: diversity, rules: rules, sink: sink)
    }
}

/// recommend() once the history is read: the options, the shop's rules and the rows.
func serveRecommend(_ m: ModelRow, _ sql: ModelSQL, _ im: ItemModel, _ history: History, ids: CallIds,
                    k: Int32, diversity: Double, rules: UnsafePointer<RecRules>?, sink: OpaquePointer?) throws {
    var opt = RecommendOptions(k: Int(k), diversity: diversity)
    opt.reranker = m.reranker
    opt.poolMinimum = m.candidatePool
    opt.interrupt = PG.interrupt
    opt.scratch = ModelCache.scratch(m.name, for: im)
    if let r = rules?.pointee {
        opt.excludeSeen = r.exclude_seen
        if r.max_per_category > 0 {
            guard im.categories != nil else {
                throw RecError.invalidParameter("max_per_category needs categories, and model \"\(m.name)\" has none",
                                                hint: "Register the items table with its category column and train again.")
            }
            opt.maxPerCategory = Int(r.max_per_category)
        }
        opt.allowed = try Rules.allowed(model: m, sql: sql, im: im,
                                        filter: r.filter.map { String(cString: $0) },
                                        category: r.category.map { String(cString: $0) }, ids: ids)
    }
    let recs = try im.recommend(history, opt)
    let out = Sink(handle: sink)
    for (n, r) in recs.enumerated() {
        try out.row([.int4(Int32(n + 1)), ids.out(r.itemId), .float8(r.score), .int4(Int32(clamping: r.relevanceRank)),
                     .bool(r.forVariety), .text(r.source)])
    }
}

@_cdecl("rec_swift_similar")
public func rec_swift_similar(_ itemId: Int64, _ k: Int32, _ diversity: Double,
                              _ model: UnsafePointer<CChar>?, _ sink: OpaquePointer?) -> Int32 {
    guarded {
        try validate(k: Int(k), diversity: diversity)
        let m = try Catalog.resolve(modelName(model))
        let im = try Catalog.model(m)
        let ids = try versionIds(m, im, textOut: false)
        try requireIntegerIds(m, userType: .int8, itemType: ids.itemType, function: "similar_items")
        try serveSimilar(m, im, itemId: itemId, ids: ids, k: k, diversity: diversity, sink: sink)
    }
}

func serveSimilar(_ m: ModelRow, _ im: ItemModel, itemId: Int64, ids: CallIds, k: Int32, diversity: Double, sink: OpaquePointer?) throws {
    guard im.index[itemId] != nil else {
        throw RecError("22023", "item \(ids.label(itemId)) is not in model \"\(m.name)\"",
                       hint: "The item has no interactions in the data the model was trained on (or is new since training).")
    }
    var h = History()
    h.add(item: itemId, weight: 1)
    var opt = RecommendOptions(k: Int(k), diversity: diversity)
    opt.reranker = m.reranker
    opt.poolMinimum = m.candidatePool
    opt.interrupt = PG.interrupt
    opt.scratch = ModelCache.scratch(m.name, for: im)
    let recs = try im.recommend(h, opt)
    let out = Sink(handle: sink)
    for (n, r) in recs.enumerated() {
        try out.row([.int4(Int32(n + 1)), ids.out(r.itemId), .float8(r.score), .int4(Int32(clamping: r.relevanceRank)), .bool(r.forVariety)])
    }
}

@_cdecl("rec_swift_explain")
public func rec_swift_explain(_ userId: Int64, _ itemId: Int64, _ model: UnsafePointer<CChar>?,
                              _ sink: OpaquePointer?) -> Int32 {
    guarded {
        let m = try Catalog.resolve(modelName(model))
        _ = try Catalog.requireTrained(m)
        let sql = try Catalog.sql(m)
        try requireIntegerIds(m, sql, user: true, item: true, function: "explain")
        let history = try Catalog.history(sql, model: m, user: userId)
        let im = try Catalog.model(m)
        let ids = try callIds(m, sql, im, textOut: false)
        try serveExplain(m, sql, im, history, userLabel: String(userId), itemId: itemId, ids: ids, sink: sink)
    }
}

func serveExplain(_ m: ModelRow, _ sql: ModelSQL, _ im: ItemModel, _ history: History, userLabel: String, itemId: Int64,
                  ids: CallIds, sink: OpaquePointer?) throws {
    let e = try im.explain(history, item: itemId, interrupt: PG.interrupt)
    var idList = [itemId]
    idList.append(contentsOf: e.parts.map(\.itemId))
    idList.append(contentsOf: e.unknownHistory)
    let titles = try CallKeys.titles(sql, model: m, items: idList, ids: ids)
    let out = Sink(handle: sink)
    let item = ids.label(itemId)
    let seqHalfLife = im.sequenceWeight > 0 ? try trainedSequenceHalfLife(m, im) : SequenceModel.halfLife
    let follows = e.status == .recommendable ? try followedBy(m, im, target: itemId, items: e.parts.map(\.itemId)) : [:]
    let verdict: String
    switch e.status {
    case .recommendable:
        var how: String
        if e.contentBlend >= 1 {
            how = "; the item had no interactions when the model was trained, so it is scored by content similarity (title, description, categories or embedding) to the user's own items below"
        } else if e.contentBlend > 0 {
            how = "; the score blends co-occurrence (\(formatNumber(100 * (1 - e.contentBlend)))%) and content similarity (\(formatNumber(100 * e.contentBlend))%) with the user's own items below"
        } else {
            how = "; the score is the sum of the contributions of the user's own items below"
        }
        how += sequenceNote(im, halfLife: seqHalfLife)
        verdict = "recommendable: rank \(e.rank ?? 0) of \(e.candidates) items user \(userLabel) can be recommended" + how
    case .inHistory:
        verdict = "not recommendable: item \(item) is already in the history of user \(userLabel) (recommend() leaves such items out)"
    case .coldUser:
        if let r = e.rank {
            verdict = "user \(userLabel) has no history the model knows: recommendations fall back to popularity, where this item ranks \(r) of \(e.candidates); the score is its popularity"
        } else {
            verdict = "user \(userLabel) has no history the model knows: recommendations fall back to popularity"
        }
    case .notInModel:
        verdict = "not recommendable: item \(item) is not in model \"\(m.name)\" (version \(im.version)): it is unknown, or had no interactions when the model was trained"
    }
    try out.row([.text("score"), ids.out(itemId), .optionalText(titles[itemId]),
                 e.score.map { .float8($0) } ?? .null(Int32(REC_FLOAT8)),
                 e.score == nil ? .null(Int32(REC_FLOAT8)) : .float8(1), .text(verdict)])
    for p in e.parts {
        let events = history.eventCounts[p.itemId] ?? 0
        var detail = "in the user's history: \(events) event\(events == 1 ? "" : "s"), weight \(formatNumber(p.value))"
        detail += recencyDetail(p, lastTime: history.lastTime[p.itemId] ?? nil, halfLife: history.recencyHalfLife, floor: history.recencyFloor)
        if let f = follows[p.itemId] { detail += followerDetail(f, window: SequenceModel.window(forHalfLife: seqHalfLife)) }
        if p.contentContribution != 0 {
            let about = titles[itemId].map { "\"\($0)\"" } ?? "item \(item)"
            let with = titles[p.itemId].map { "\"\($0)\"" } ?? "this item"
            if abs(p.contentContribution) >= abs(p.contribution - p.contentContribution) {
                detail += "; \(about) is similar in description to \(with) (content similarity drove this part)"
            } else {
                detail += "; content similarity adds \(formatNumber(p.contentContribution)) of this part"
            }
        }
        try out.row([.text("because"), ids.out(p.itemId), .optionalText(titles[p.itemId]), .float8(p.contribution),
                     p.share.map { .float8($0) } ?? .null(Int32(REC_FLOAT8)), .text(detail)])
    }
    for id in e.unknownHistory {
        try out.row([.text("because"), ids.out(id), .optionalText(titles[id]), .float8(0), .float8(0),
                     .text("in the user's history, but not in the model (new since training): contributes nothing until the next training")])
    }
}

@_cdecl("rec_swift_reset_cache")
public func rec_swift_reset_cache() {
    Backend.reset()
    SharedModels.cleanupAll()
}

func formatNumber(_ x: Double) -> String {
    guard x.isFinite else { return "\(x)" }
    let r = (x * 1000).rounded() / 1000
    return (r == r.rounded() && abs(r) < 1e15) ? String(Int64(r)) : String(r)
}
