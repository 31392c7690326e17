/// Exact explanations: because a score is s_j = sum_i x_i B_ij over the user's own history items
/// i, each history item's contribution x_i B_ij is reported, and the contributions add up to the
/// score (up to float rounding of the summation order, far below 1e-6 relative).
public struct Explanation: Equatable {
    public enum Status: String {
        /// scored by the model from the user's history
        case recommendable
        /// the item is already in the user's history (left out of recommendations by default)
        case inHistory = "in_history"
        /// the user has no history the model knows: the popularity fallback applies
        case coldUser = "cold_user"
        /// the item id is not in the trained model (unknown, or new since training)
        case notInModel = "not_in_model"
    }
    public struct Part: Equatable {
        public var itemId: Int64
        public var contribution: Double
        public var share: Double?
        public var value: Double
        /// The part of the contribution that comes from content similarity (0 when the item is
        /// scored collaboratively only).
        public var contentContribution: Double = 0
        /// The recency factor the item's value was multiplied by (1 without recency weighting),
        /// and its age rank (0 = the user's most recent item; nil without recency weighting).
        public var recency: Double = 1
        public var ageRank: Int? = nil
        public init(itemId: Int64, contribution: Double, share: Double?, value: Double, contentContribution: Double = 0) {
            self.itemId = itemId; self.contribution = contribution; self.share = share; self.value = value
            self.contentContribution = contentContribution
        }
    }
    /// How much of the score comes from content similarity (0: none; 1: all).
    public var contentBlend: Double = 0
    public var itemId: Int64
    public var status: Status
    public var score: Double?
    /// Position among the items the user could be recommended (1 = first), pure relevance.
    public var rank: Int?
    public var candidates: Int
    public var parts: [Part]
    /// History items the model does not know (bought after training, or never trained on).
    public var unknownHistory: [Int64]
}

extension ItemModel {
    public func explain(_ history: History, item: Int64) -> Explanation { explain(history, item: item, interrupt: {}) }

    /// As `explain(_:item:)`, polling `interrupt` in the loops over the catalog and the history.
    public func explain(_ history: History, item: Int64, interrupt: InterruptCheck) rethrows -> Explanation {
        let h = prepare(history)
        guard let j32 = index[item] else {
            return Explanation(itemId: item, status: .notInModel, score: nil, rank: nil, candidates: count - h.seen.count,
                               parts: [], unknownHistory: h.unknownItems)
        }
        let j = Int(j32)
        // a history whose scores are all zero gets the popularity fallback too (as in recommend(),
        // which leaves out the items such a history cannot reach: NaN scores)
        var unreachable: [Float] = []
        var noSignal = false
        if hasUsableEntries(h) {
            let s = scores(h)
            noSignal = !hasSignal(s, eligible: (0..<count).map { !h.seen.contains(Int32($0)) }) && !s[j].isNaN
            if noSignal { unreachable = s }
        }
        if !hasUsableEntries(h) || noSignal {
            // cold user: rank in the popularity fallback
            var rank = 0
            var found = false
            for i in popularOrder {
                if h.seen.contains(i) || (Int(i) < unreachable.count && unreachable[Int(i)].isNaN) { continue }
                rank += 1
                if i == j32 { found = true; break }
            }
            let inHistory = h.seen.contains(j32)
            return Explanation(itemId: item, status: inHistory ? .inHistory : .coldUser, score: popularity[j],
                               rank: (found && !inHistory) ? rank : nil, candidates: count - h.seen.count, parts: [], unknownHistory: h.unknownItems)
        }
        let n = count
        let a = contentBlend(j)
        if j >= cfCount && (a == 0 || !reachable(h, j)) {
            // an item of the catalog with neither interactions at training nor content
            return Explanation(itemId: item, status: h.seen.contains(j32) ? .inHistory : .notInModel, score: nil, rank: nil,
                               candidates: n - h.seen.count, parts: [], unknownHistory: h.unknownItems)
        }
        var parts: [Explanation.Part] = []
        var total = 0.0
        for e in h.entries {
            // the same terms, order and precision as exactScore(), which recommend() reports
            let c: Double, ct: Double
            if a == 0 {
                c = Int(e.index) < cfCount ? e.value * Double(cfWeight(Int(e.index), j)) : 0
                ct = 0
            } else {
                let r = contribution(e, j, blend: a)
                c = r.total; ct = r.content
            }
            total += c
            var part = Explanation.Part(itemId: e.itemId, contribution: c, share: nil, value: e.value, contentContribution: ct)
            if let r = h.recency[e.itemId] { part.recency = r.factor; part.ageRank = r.rank }
            parts.append(part)
        }
        for p in parts.indices { parts[p].share = total != 0 ? parts[p].contribution / total : nil }
        parts.sort { abs($0.contribution) != abs($1.contribution) ? abs($0.contribution) > abs($1.contribution) : $0.itemId < $1.itemId }
        let inHistory = h.seen.contains(j32)
        var rank: Int? = nil
        if !inHistory {
            // rank with the same scores recommend() uses (Float), ties broken by index as topIndices does
            // Rank as recommend() orders its list, by the exact double sums. The Float scores of
            // one saxpy pass settle every item whose Float score is farther from this one's than
            // the worst-case Float summation error; only the near-ties are summed exactly.
            let s = try scores(h, interrupt: interrupt)
            let bound = floatErrorBound(h)
            let sj = Double(s[j])
            var better = 0
            var exactSums = 0
            for i in 0..<n where i != j && !h.seen.contains(Int32(i)) {
                let si = Double(s[i])
                if si.isNaN { continue }      // unreachable: no interactions and no content
                if si > sj + bound { better += 1; continue }
                if si < sj - bound { continue }
                exactSums += 1
                if exactSums % 256 == 0 { try interrupt() }
                let ei = exactScore(h, i)
                if ei > total || (ei == total && i < j) { better += 1 }
            }
            rank = better + 1
        }
        var out = Explanation(itemId: item, status: inHistory ? .inHistory : .recommendable, score: total, rank: rank,
                              candidates: n - h.seen.count, parts: parts, unknownHistory: h.unknownItems)
        out.contentBlend = a
        return out
    }
}
