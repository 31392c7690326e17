import XCTest
@testable import RecommenderCore

final class RecommendTests: XCTestCase {
    // Item ids deliberately not in index order, so that id-based tie-breaking is visible.
    static let ids: [Int64] = [10, 20, 60, 40, 50, 30]
    // Row i: contributions of history item i. Rows 2...5 hold large values so that a scorer
    // summing the wrong rows (or columns) is caught.
    static let rows: [[Float]] = [
        [0.0, 0.1, 0.5, 0.25, 0.9, -0.3],
        [0.4, 0.0, 0.3, 0.6, -0.2, 0.05],
        [7, 7, 0, 7, 7, 7],
        [-5, 9, 3, 0, 1, 2],
        [8, -8, 8, -8, 0, 8],
        [3, 1, 4, 1, 5, 0],
    ]
    static let popularity: [Double] = [5, 1, 3, 3, 0.5, 2]

    func model(_ w: Weighting = .binary) throws -> ItemModel {
        try makeModel(ids: Self.ids, rows: Self.rows, popularity: Self.popularity, weighting: w)
    }

    /// Independent score: sum over history entries of value * weight, in Double.
    func expectedScore(_ values: [(row: Int, value: Double)], _ j: Int) -> Double {
        values.reduce(0.0) { $0 + $1.value * Double(Self.rows[$1.row][j]) }
    }

    func testScoresAreSumOfHistoryRows() throws {
        let m = try model(.sum)
        let h = m.prepare(history([(10, 2.0), (20, 0.5), (20, 1.0)]))   // item 20 sums to 1.5
        XCTAssertEqual(h.entries.map(\.index), [0, 1])
        XCTAssertEqual(h.entries.map(\.value), [2.0, 1.5])
        XCTAssertEqual(h.seen, [0, 1])
        let s = m.scores(h)
        for j in 0..<6 {
            let e = expectedScore([(0, 2.0), (1, 1.5)], j)
            XCTAssertEqual(Double(s[j]), e, accuracy: 1e-6, "item index \(j)")
            XCTAssertEqual(m.exactScore(h, j), e, accuracy: 1e-12, "exact, item index \(j)")
        }
        XCTAssertEqual(m.exactScore(h, -1), 0)
        XCTAssertEqual(m.exactScore(h, 6), 0)
    }

    func testPrepareAppliesWeightingAndSeparatesUnknownItems() throws {
        let m = try model(.log)
        let h = m.prepare(history([(60, 3.0), (999, 1.0), (40, 0.0)]))
        XCTAssertEqual(h.entries.count, 1)
        XCTAssertEqual(h.entries[0].itemId, 60)
        XCTAssertEqual(h.entries[0].value, log1p(3.0), accuracy: 1e-15)
        XCTAssertEqual(h.unknownItems, [999])
        XCTAssertEqual(h.seen, [2, 3])   // the zero-weight known item is still "seen"
    }

    func testRecommendExcludesSeenAndReturnsKBestInOrder() throws {
        let m = try model()
        // History 10, 20 (binary): scores idx2 0.8, idx3 0.85, idx4 0.7, idx5 -0.25
        let recs = try m.recommend(history([10, 20]), RecommendOptions(k: 3, diversity: 0))
        XCTAssertEqual(recs.map(\.itemId), [40, 60, 50])
        XCTAssertEqual(recs.map(\.relevanceRank), [1, 2, 3])
        XCTAssertEqual(recs.map(\.forVariety), [false, false, false])
        XCTAssertEqual(Set(recs.map(\.source)), ["model"])
        let h = m.prepare(history([10, 20]))
        for r in recs {
            let j = Int(m.index[r.itemId]!)
            XCTAssertEqual(r.score, m.exactScore(h, j))                                  // same sum, exactly
            XCTAssertEqual(r.score, expectedScore([(0, 1), (1, 1)], j), accuracy: 1e-12) // and independently
        }
    }

    func testRecommendScoresWithSumAndLogWeighting() throws {
        for w in [Weighting.sum, .log] {
            let m = try model(w)
            let recs = try m.recommend(history([(10, 3.0), (20, 0.25)]), RecommendOptions(k: 4, diversity: 0))
            let v0 = w.apply(3), v1 = w.apply(0.25)
            let expected = (2..<6).map { j in (Self.ids[j], expectedScore([(0, v0), (1, v1)], j)) }
                .sorted { $0.1 > $1.1 }
            XCTAssertEqual(recs.map(\.itemId), expected.map(\.0), "\(w)")
            for (r, e) in zip(recs, expected) { XCTAssertEqual(r.score, e.1, accuracy: 1e-12) }
        }
    }

    func testKLargerThanCandidatesReturnsAllUnseen() throws {
        let m = try model()
        let recs = try m.recommend(history([10, 20]), RecommendOptions(k: 50, diversity: 0))
        XCTAssertEqual(recs.map(\.itemId), [40, 60, 50, 30])
        XCTAssertEqual(recs.map(\.relevanceRank), [1, 2, 3, 4])
    }

    func testExcludeSeenFalseKeepsHistoryItems() throws {
        let m = try model()
        var opt = RecommendOptions(k: 6, diversity: 0)
        opt.excludeSeen = false
        let recs = try m.recommend(history([10, 20]), opt)
        XCTAssertEqual(Set(recs.map(\.itemId)), Set(Self.ids))
        // idx0: 0.4, idx1: 0.1 slot between 0.7 and -0.25
        XCTAssertEqual(recs.map(\.itemId), [40, 60, 50, 10, 20, 30])
    }

    func testParameterValidation() throws {
        let m = try model()
        let h = history([10])
        for k in [0, -1, Int.min, maxK + 1, Int.max] {
            assertRecError("22023", try m.recommend(h, RecommendOptions(k: k, diversity: 0)), "k = \(k)")
            assertRecError("22023", try m.recommend(History(), RecommendOptions(k: k, diversity: 0)), "cold, k = \(k)")
        }
        for d in [Double.nan, -0.01, -.infinity, 1.0001, .infinity] {
            assertRecError("22023", try m.recommend(h, RecommendOptions(k: 3, diversity: d)), "diversity \(d)")
            assertRecError("22023", try m.recommend(History(), RecommendOptions(k: 3, diversity: d)), "cold, diversity \(d)")
        }
        XCTAssertNoThrow(try m.recommend(h, RecommendOptions(k: maxK, diversity: 1)))
        XCTAssertNoThrow(try m.recommend(h, RecommendOptions(k: 1, diversity: 0)))
    }

    func testEmptyHistoryFallsBackToPopularity() throws {
        let m = try model()
        let recs = try m.recommend(History(), RecommendOptions(k: 4, diversity: 0))
        // popularity [5, 1, 3, 3, 0.5, 2]; the tie 3/3 (ids 60 and 40) goes to the lower id.
        XCTAssertEqual(recs.map(\.itemId), [10, 40, 60, 30])
        XCTAssertEqual(recs.map(\.score), [5, 3, 3, 2])
        XCTAssertEqual(recs.map(\.relevanceRank), [1, 2, 3, 4])
        XCTAssertEqual(Set(recs.map(\.source)), ["popular"])
        XCTAssertEqual(recs.map(\.forVariety), [false, false, false, false])
        // diversity does not matter for the fallback, and k beyond the catalog returns everything.
        let all = try m.recommend(History(), RecommendOptions(k: 100, diversity: 0.7))
        XCTAssertEqual(all.map(\.itemId), [10, 40, 60, 30, 20, 50])
    }

    func testHistoryOfOnlyUnknownItemsFallsBack() throws {
        let m = try model()
        let recs = try m.recommend(history([999, 998]), RecommendOptions(k: 3, diversity: 0))
        XCTAssertEqual(recs.map(\.itemId), [10, 40, 60])
        XCTAssertEqual(Set(recs.map(\.source)), ["popular"])
    }

    func testFallbackExcludesHistoryItemsWithoutUsableWeight() throws {
        // Items 10 and 40 are in the history with zero weight: no entries, so the fallback
        // applies, but they are still excluded; the unknown item 999 is ignored.
        let m = try model()
        let h = history([(10, 0.0), (40, 0.0), (999, 1.0)])
        let recs = try m.recommend(h, RecommendOptions(k: 10, diversity: 0))
        XCTAssertEqual(recs.map(\.itemId), [60, 30, 20, 50])
        XCTAssertEqual(recs.map(\.relevanceRank), [1, 2, 3, 4])
        XCTAssertEqual(Set(recs.map(\.source)), ["popular"])
        var opt = RecommendOptions(k: 10, diversity: 0)
        opt.excludeSeen = false
        XCTAssertEqual(try m.recommend(h, opt).map(\.itemId), [10, 40, 60, 30, 20, 50])
    }

    func testPopularExcludeIds() throws {
        let m = try model()
        let recs = m.popular(k: 3, exclude: [0], excludeIds: [40])
        XCTAssertEqual(recs.map(\.itemId), [60, 30, 20])
        XCTAssertEqual(recs.map(\.relevanceRank), [1, 2, 3])
    }

    func testRecommendMatchesBruteForceOnRandomModels() throws {
        var rng = LCG(7)
        for trial in 0..<20 {
            let n = 5 + trial
            let ids = (0..<n).map { Int64(1000 + 7 * $0) }
            let rows = (0..<n).map { _ in (0..<n).map { _ in Float(rng.signed()) } }
            let m = try makeModel(ids: ids, rows: rows, weighting: .sum)
            var hist: [(Int64, Double)] = []
            for i in 0..<n where rng.next() % 4 == 0 { hist.append((ids[i], Double(1 + rng.next() % 3))) }
            if hist.isEmpty { hist.append((ids[0], 1)) }
            let seen = Set(hist.map(\.0))
            let k = 1 + Int(rng.next() % UInt64(n))
            let recs = try m.recommend(history(hist), RecommendOptions(k: k, diversity: 0))
            var brute: [(Int64, Double)] = []
            for j in 0..<n where !seen.contains(ids[j]) {
                var s = 0.0
                for (id, v) in hist { s += v * Double(rows[Int(m.index[id]!)][j]) }
                brute.append((ids[j], s))
            }
            brute.sort { $0.1 > $1.1 }
            XCTAssertEqual(recs.count, min(k, brute.count), "trial \(trial)")
            XCTAssertEqual(recs.map(\.itemId), Array(brute.prefix(k).map(\.0)), "trial \(trial)")
            for (r, b) in zip(recs, brute) { XCTAssertEqual(r.score, b.1, accuracy: 1e-9) }
        }
    }
}
