import XCTest
@testable import RecommenderCore

final class DiversityTests: XCTestCase {
    // History: item 100 (index 0). Candidates 101...105 with relevance 0.9, 0.8, 0.7, 0.3, 0.2.
    // The three most relevant share category 1; 104 is category 2, 105 category 3.
    static let ids: [Int64] = [100, 101, 102, 103, 104, 105]
    static let cats: [[Int32]] = [[9], [1], [1], [1], [2], [3]]
    static func rows() -> [[Float]] {
        var r = [[Float]](repeating: [Float](repeating: 0, count: 6), count: 6)
        r[0] = [0, 0.9, 0.8, 0.7, 0.3, 0.2]
        return r
    }

    func model() throws -> ItemModel {
        try makeModel(ids: Self.ids, rows: Self.rows(), categories: Self.cats)
    }

    func categoryCount(_ m: ItemModel, _ recs: [Recommendation]) -> Int {
        Set(recs.flatMap { m.categories![Int(m.index[$0.itemId]!)] }).count
    }

    /// forVariety must be true exactly when the pick is not the most relevant item still
    /// unpicked. `ranked` is the candidate pool in relevance order.
    func assertVarietyFlags(_ recs: [Recommendation], ranked: [Int64], file: StaticString = #filePath, line: UInt = #line) {
        var remaining = ranked
        for (t, r) in recs.enumerated() {
            guard let pos = remaining.firstIndex(of: r.itemId) else {
                XCTFail("\(r.itemId) is not a remaining candidate", file: file, line: line); return
            }
            XCTAssertEqual(r.forVariety, pos != 0, "position \(t), item \(r.itemId)", file: file, line: line)
            XCTAssertEqual(r.relevanceRank, ranked.firstIndex(of: r.itemId)! + 1, file: file, line: line)
            remaining.remove(at: pos)
        }
    }

    func testJaccard() {
        XCTAssertEqual(jaccard([1, 2, 3], [2, 3, 4]), 0.5)
        XCTAssertEqual(jaccard([1, 2], [1, 2, 3]), 2.0 / 3.0, accuracy: 1e-15)
        XCTAssertEqual(jaccard([1], [1]), 1)
        XCTAssertEqual(jaccard([1, 5], [2, 6]), 0)
        XCTAssertEqual(jaccard([], [1]), 0)
        XCTAssertEqual(jaccard([1], []), 0)
        XCTAssertEqual(jaccard([], []), 0)
        XCTAssertEqual(jaccard([1, 3, 5, 7], [3, 7]), 0.5)
        XCTAssertEqual(jaccard([2, 4, 6], [1, 2, 3, 4, 5, 6]), 0.5)
    }

    func testSimilarityWithCategories() throws {
        let m = try makeModel(ids: [1, 2, 3, 4], rows: [[Float]](repeating: [0, 0, 0, 0], count: 4),
                              categories: [[1, 2], [2, 3], [], []])
        XCTAssertEqual(m.similarity(0, 1), 1.0 / 3.0, accuracy: 1e-15)
        XCTAssertEqual(m.similarity(1, 0), 1.0 / 3.0, accuracy: 1e-15)
        XCTAssertEqual(m.similarity(0, 2), 0)
        XCTAssertEqual(m.similarity(2, 3), 0)   // two uncategorised items are unrelated...
        XCTAssertEqual(m.similarity(2, 2), 1)   // ...but an item is identical to itself
    }

    func testSimilarityViaVectorsWhenNoCategories() throws {
        // Unit vectors in 2-D: cos(0,1) = 0.6, cos(0,2) = -1 -> clamped to 0, cos(1,3) = 0.8.
        let vectors: [Float] = [1, 0,   0.6, 0.8,   -1, 0,   0, 1]
        let m = try makeModel(ids: [1, 2, 3, 4], rows: [[Float]](repeating: [0, 0, 0, 0], count: 4),
                              categories: nil, dims: 2, vectors: vectors)
        XCTAssertEqual(m.similarity(0, 1), 0.6, accuracy: 1e-6)
        XCTAssertEqual(m.similarity(1, 0), 0.6, accuracy: 1e-6)
        XCTAssertEqual(m.similarity(0, 2), 0)
        XCTAssertEqual(m.similarity(1, 3), 0.8, accuracy: 1e-6)
        XCTAssertEqual(m.similarity(0, 3), 0, accuracy: 1e-7)
        XCTAssertEqual(m.similarity(2, 2), 1)
        // Non-normalised vectors with a dot product above 1 are clamped to 1.
        let big = try makeModel(ids: [1, 2], rows: [[0, 0], [0, 0]], categories: nil, dims: 1, vectors: [2, 3])
        XCTAssertEqual(big.similarity(0, 1), 1)
        // No categories and no vectors: everything is unrelated.
        let none = try makeModel(ids: [1, 2], rows: [[0, 0], [0, 0]], categories: nil)
        XCTAssertEqual(none.similarity(0, 1), 0)
    }

    func testDiversityZeroKeepsTheSharedCategory() throws {
        let m = try model()
        let recs = try m.recommend(history([100]), RecommendOptions(k: 3, diversity: 0))
        XCTAssertEqual(recs.map(\.itemId), [101, 102, 103])
        XCTAssertEqual(categoryCount(m, recs), 1)
    }

    func testMMRPicksMostRelevantFirstAndAddsVariety() throws {
        let m = try model()
        let base = try m.recommend(history([100]), RecommendOptions(k: 3, diversity: 0))
        let recs = try m.recommend(history([100]), RecommendOptions(k: 3, diversity: 0.5))
        XCTAssertEqual(recs.count, 3)
        XCTAssertEqual(recs.first?.itemId, 101)
        XCTAssertEqual(recs.first?.forVariety, false)
        XCTAssertGreaterThan(categoryCount(m, recs), categoryCount(m, base))
        // Hand-computed MMR with relevance scaled over the pool (0.2...0.9):
        //   step 2: 102: 0.5*6/7 - 0.5 < 104: 0.5*1/7 - 0 ; step 3: 105: 0 > 102: 0.5*6/7 - 0.5
        XCTAssertEqual(recs.map(\.itemId), [101, 104, 105])
        XCTAssertEqual(recs.map(\.relevanceRank), [1, 4, 5])
        // Scores stay the relevance scores of the items.
        XCTAssertEqual(recs.map(\.score), [0.9, 0.3, 0.2].map { Double(Float($0)) })
    }

    func testMMRVarietyFlagsWhenReturningToRelevance() throws {
        let m = try model()
        let recs = try m.recommend(history([100]), RecommendOptions(k: 5, diversity: 0.5))
        XCTAssertEqual(recs.map(\.itemId), [101, 104, 105, 102, 103])
        XCTAssertEqual(recs.map(\.forVariety), [false, true, true, false, false])
        assertVarietyFlags(recs, ranked: [101, 102, 103, 104, 105])
    }

    func testSmallDiversityKeepsRelevanceOrder() throws {
        let m = try model()
        let recs = try m.recommend(history([100]), RecommendOptions(k: 3, diversity: 0.05))
        // 0.95*6/7 - 0.05 = 0.764 > 0.95*1/7 = 0.136: relevance wins, no variety picks.
        XCTAssertEqual(recs.map(\.itemId), [101, 102, 103])
        XCTAssertEqual(recs.map(\.forVariety), [false, false, false])
    }

    /// A catalog larger than the candidate pool: the top 6 items by relevance (the pool) share one
    /// category, every item outside the pool has a category of its own. Full diversity must still
    /// pick from the pool only.
    func poolModel() throws -> (ItemModel, RecommendOptions) {
        let n = 30
        let ids = (0..<n).map { Int64(500 + $0) }
        var rows = [[Float]](repeating: [Float](repeating: 0, count: n), count: n)
        for j in 1..<n { rows[0][j] = 1 - Float(j) * 0.01 }
        var cats: [[Int32]] = (0..<n).map { [Int32(100 + $0)] }
        for j in 1...6 { cats[j] = [1] }
        let m = try makeModel(ids: ids, rows: rows, categories: cats)
        var opt = RecommendOptions(k: 3, diversity: 1)
        opt.poolMinimum = 4
        opt.poolFactor = 2     // pool = max(k, max(4, 2k)) = 6
        return (m, opt)
    }

    func testFullDiversityStaysInCandidatePool() throws {
        for reranker in [Reranker.mmr, .dpp] {
            var (m, opt) = try poolModel()
            opt.reranker = reranker
            let recs = try m.recommend(history([500]), opt)
            XCTAssertEqual(recs.count, 3, "\(reranker)")
            XCTAssertEqual(recs.first?.itemId, 501, "\(reranker): first pick is the most relevant")
            for r in recs {
                XCTAssertTrue((501...506).contains(r.itemId), "\(reranker): \(r.itemId) is outside the pool")
                XCTAssertLessThanOrEqual(r.relevanceRank, 6)
            }
            XCTAssertEqual(Set(recs.map(\.itemId)).count, 3, "\(reranker): duplicates")
            assertVarietyFlags(recs, ranked: (501...506).map { $0 })
        }
    }

    func testFullDiversityPrefersUnrelatedItems() throws {
        // Pool = every candidate; diversity 1 ignores relevance after the first pick.
        for reranker in [Reranker.mmr, .dpp] {
            let m = try model()
            var opt = RecommendOptions(k: 3, diversity: 1)
            opt.reranker = reranker
            let recs = try m.recommend(history([100]), opt)
            XCTAssertEqual(recs.first?.itemId, 101, "\(reranker)")
            XCTAssertEqual(categoryCount(m, recs), 3, "\(reranker): \(recs.map(\.itemId))")
        }
    }

    func testDPPBasicProperties() throws {
        let m = try model()
        let base = try m.recommend(history([100]), RecommendOptions(k: 3, diversity: 0))
        var opt = RecommendOptions(k: 5, diversity: 0.5)
        opt.reranker = .dpp
        let recs = try m.recommend(history([100]), opt)
        XCTAssertEqual(recs.count, 5)
        XCTAssertEqual(recs.first?.itemId, 101)
        XCTAssertEqual(recs.first?.forVariety, false)
        XCTAssertEqual(Set(recs.map(\.itemId)), [101, 102, 103, 104, 105])
        opt.k = 3
        let three = try m.recommend(history([100]), opt)
        XCTAssertGreaterThan(categoryCount(m, three), categoryCount(m, base))
        // Hand-computed: alpha = 0.5, q = exp(0.5 (rel - 1)); after 101 the kernel of 102 and 103
        // (same category as 101) is exhausted, so 104 then 105, then the rest by relevance.
        XCTAssertEqual(recs.map(\.itemId), [101, 104, 105, 102, 103])
        XCTAssertEqual(recs.map(\.forVariety), [false, true, true, false, false])
        assertVarietyFlags(recs, ranked: [101, 102, 103, 104, 105])
        for r in recs { XCTAssertEqual(r.source, "model") }
    }

    func testDiversityTradeOffWithPartialOverlap() throws {
        // 101, 102, 103 overlap pairwise with Jaccard 1/3; 104 and 105 are unrelated to all.
        let cats: [[Int32]] = [[9], [1, 2], [1, 3], [1, 4], [5], [6]]
        let m = try makeModel(ids: Self.ids, rows: Self.rows(), categories: cats)
        for reranker in [Reranker.mmr, .dpp] {
            var low = RecommendOptions(k: 3, diversity: 0.1)
            low.reranker = reranker
            // Low diversity: the relevance gap (0.8 vs 0.3) outweighs a 1/3 overlap.
            //   DPP: alpha = 0.9 / 0.2 = 4.5; residual quality of 102 ~0.25 vs 104 ~4e-4.
            let a = try m.recommend(history([100]), low)
            XCTAssertEqual(a.map(\.itemId), [101, 102, 103], "\(reranker)")
            XCTAssertEqual(a.map(\.forVariety), [false, false, false], "\(reranker)")
            var high = RecommendOptions(k: 3, diversity: 0.9)
            high.reranker = reranker
            // High diversity: the unrelated 104 beats the overlapping 102.
            //   DPP: alpha = 0.1 / 1.8; residual of 102 ~0.87 vs 104 ~0.91.
            let b = try m.recommend(history([100]), high)
            XCTAssertEqual(Array(b.map(\.itemId).prefix(2)), [101, 104], "\(reranker)")
            XCTAssertEqual(b[1].forVariety, true, "\(reranker)")
        }
    }

    func testRerankersOnRandomCatalogs() throws {
        // Structural invariants on random data: no duplicates, no seen items, k results, first
        // pick is the most relevant, flags consistent, scores are the exact relevance scores.
        var rng = LCG(99)
        for trial in 0..<30 {
            let n = 8 + trial % 13
            let ids = (0..<n).map { Int64(10 * $0 + 3) }
            let rows = (0..<n).map { _ in (0..<n).map { _ in Float(rng.signed()) } }
            let useCats = trial % 2 == 0
            let cats: [[Int32]]? = useCats ? (0..<n).map { _ in
                Array(Set((0..<Int(rng.next() % 3)).map { _ in Int32(rng.next() % 4) })).sorted() } : nil
            let dims = useCats ? 0 : 3
            var vecs: [Float] = []
            if !useCats {
                for _ in 0..<n {
                    let v = (0..<dims).map { _ in rng.signed() }
                    let norm = max(1e-9, v.reduce(0) { $0 + $1 * $1 }.squareRoot())
                    vecs += v.map { Float($0 / norm) }
                }
            }
            let m = try makeModel(ids: ids, rows: rows, categories: cats, dims: dims, vectors: vecs)
            let hist = [ids[0], ids[1 + Int(rng.next() % UInt64(n - 1))]]
            let h = m.prepare(history(hist))
            let ranked = try m.recommend(history(hist), RecommendOptions(k: n, diversity: 0)).map(\.itemId)
            for reranker in [Reranker.mmr, .dpp] {
                for d in [0.2, 0.7, 1.0] {
                    let k = 1 + Int(rng.next() % UInt64(n))
                    var opt = RecommendOptions(k: k, diversity: d)
                    opt.reranker = reranker
                    let recs = try m.recommend(history(hist), opt)
                    let ctx = "trial \(trial) \(reranker) d=\(d) k=\(k)"
                    XCTAssertEqual(recs.count, min(k, ranked.count), ctx)
                    XCTAssertEqual(Set(recs.map(\.itemId)).count, recs.count, ctx)
                    XCTAssertTrue(Set(recs.map(\.itemId)).isDisjoint(with: hist), ctx)
                    XCTAssertEqual(recs.first?.itemId, ranked.first, ctx)
                    assertVarietyFlags(recs, ranked: ranked)
                    for r in recs { XCTAssertEqual(r.score, m.exactScore(h, Int(m.index[r.itemId]!)), ctx) }
                }
            }
        }
    }
}
