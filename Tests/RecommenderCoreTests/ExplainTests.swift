import XCTest
@testable import RecommenderCore

final class ExplainTests: XCTestCase {
    func randomModel(_ rng: inout LCG, n: Int, weighting: Weighting) throws -> ItemModel {
        let ids = (0..<n).map { Int64(3 * $0 + 11) }
        let rows = (0..<n).map { _ in (0..<n).map { _ in Float(rng.signed()) } }
        let pop = (0..<n).map { _ in Double(rng.next() % 50) }
        return try makeModel(ids: ids, rows: rows, popularity: pop, weighting: weighting)
    }

    func testContributionsAddUpAndMatchRecommend() throws {
        var rng = LCG(2024)
        for trial in 0..<25 {
            let n = 6 + trial
            let w = Weighting.allCases[trial % 3]
            let m = try randomModel(&rng, n: n, weighting: w)
            var events: [(Int64, Double)] = []
            for i in 0..<n where rng.next() % 3 == 0 { events.append((m.itemIds[i], Double(1 + rng.next() % 4))) }
            if events.isEmpty { events.append((m.itemIds[n - 1], 2)) }
            events.append((m.itemIds[0], 0.5))   // a repeated or extra event
            events.append((424242, 1))           // unknown to the model
            let hist = history(events)
            let h = m.prepare(hist)
            let recs = try m.recommend(hist, RecommendOptions(k: maxK, diversity: 0))
            XCTAssertEqual(recs.count, n - h.seen.count)
            let recScore = Dictionary(uniqueKeysWithValues: recs.map { ($0.itemId, $0.score) })
            let recPos = Dictionary(uniqueKeysWithValues: recs.enumerated().map { ($1.itemId, $0 + 1) })

            for (j, id) in m.itemIds.enumerated() {
                let e = m.explain(hist, item: id)
                let ctx = "trial \(trial) item \(id)"
                XCTAssertEqual(e.itemId, id)
                XCTAssertEqual(e.unknownHistory, [424242], ctx)
                XCTAssertEqual(e.candidates, n - h.seen.count, ctx)
                XCTAssertEqual(e.parts.count, h.entries.count, ctx)
                let score = try XCTUnwrap(e.score, ctx)
                let sum = e.parts.reduce(0.0) { $0 + $1.contribution }
                XCTAssertLessThan(abs(sum - score), 1e-9 * max(abs(score), 1e-300) + 1e-300, ctx)
                // Independent sum of value * weight.
                var independent = 0.0
                for (hid, total) in hist.totals {
                    guard let i = m.index[hid] else { continue }
                    independent += w.apply(total) * Double(m.weights[Int(i) * n + j])
                }
                XCTAssertEqual(score, independent, accuracy: 1e-9, ctx)
                // Each part: value is the weighted history value, contribution value * B_ij.
                for p in e.parts {
                    let i = Int(m.index[p.itemId]!)
                    XCTAssertEqual(p.value, w.apply(hist.totals[p.itemId]!), ctx)
                    XCTAssertEqual(p.contribution, p.value * Double(m.weights[i * n + j]), ctx)
                }
                // Parts ordered by |contribution|, largest first.
                for (a, b) in zip(e.parts, e.parts.dropFirst()) {
                    XCTAssertGreaterThanOrEqual(abs(a.contribution), abs(b.contribution), ctx)
                }
                if score != 0 {
                    let shares = e.parts.map { $0.share! }
                    let scale = max(1, shares.reduce(0) { $0 + abs($1) })
                    XCTAssertEqual(shares.reduce(0, +), 1, accuracy: 1e-12 * scale, ctx)
                }
                if h.seen.contains(Int32(j)) {
                    XCTAssertEqual(e.status, .inHistory, ctx)
                    XCTAssertNil(e.rank, ctx)
                    XCTAssertNil(recScore[id], ctx)
                } else {
                    XCTAssertEqual(e.status, .recommendable, ctx)
                    XCTAssertEqual(score, recScore[id], ctx)               // exactly the same number
                    XCTAssertEqual(e.rank, recPos[id], ctx)
                }
            }
        }
    }

    func testHandCheckedExplanation() throws {
        // History 1 (sum weighting, total 2) and 2 (total 1); target 3: 2*0.5 + 1*(-0.25) = 0.75.
        let m = try makeModel(ids: [1, 2, 3, 4],
                              rows: [[0, 0.1, 0.5, 0.2],
                                     [0.3, 0, -0.25, 0.1],
                                     [9, 9, 0, 9],
                                     [9, 9, 9, 0]], weighting: .sum)
        let e = m.explain(history([(1, 1.5), (2, 1), (1, 0.5)]), item: 3)
        XCTAssertEqual(e.status, .recommendable)
        XCTAssertEqual(e.score!, 0.75, accuracy: 1e-12)
        XCTAssertEqual(e.parts.map(\.itemId), [1, 2])
        XCTAssertEqual(e.parts.map(\.value), [2, 1])
        XCTAssertEqual(e.parts[0].contribution, 1.0, accuracy: 1e-12)
        XCTAssertEqual(e.parts[1].contribution, -0.25, accuracy: 1e-12)
        XCTAssertEqual(e.parts[0].share!, 4.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(e.parts[1].share!, -1.0 / 3.0, accuracy: 1e-12)
        // item 4 scores 2*0.2 + 0.1 = 0.5 < 0.75: item 3 is first, item 4 second.
        XCTAssertEqual(e.rank, 1)
        XCTAssertEqual(m.explain(history([(1, 2), (2, 1)]), item: 4).rank, 2)
        XCTAssertEqual(e.candidates, 2)
    }

    func testZeroScoreHasNoShares() throws {
        // item 3 gives the history a signal; item 2's score is zero
        let m = try makeModel(ids: [1, 2, 3], rows: [[0, 0, 1], [0, 0, 0], [0, 0, 0]])
        let e = m.explain(history([1]), item: 2)
        XCTAssertEqual(e.score, 0)
        XCTAssertEqual(e.parts.count, 1)
        XCTAssertNil(e.parts.first?.share)
        // without any signal (every score zero) the popularity fallback explains it, as
        // recommend() lists it (issue 8, item 6)
        let z = try makeModel(ids: [1, 2], rows: [[0, 0], [0, 0]])
        XCTAssertEqual(z.explain(history([1]), item: 2).status, .coldUser)
        XCTAssertEqual(try z.recommend(history([1]), RecommendOptions(k: 1, diversity: 0)).first?.source, "popular")
    }

    func testNotInModel() throws {
        let m = try makeModel(ids: [1, 2, 3], rows: [[0, 1, 2], [1, 0, 1], [2, 1, 0]])
        let e = m.explain(history([1, 77]), item: 55)
        XCTAssertEqual(e.status, .notInModel)
        XCTAssertNil(e.score)
        XCTAssertNil(e.rank)
        XCTAssertEqual(e.parts, [])
        XCTAssertEqual(e.unknownHistory, [77])
        XCTAssertEqual(e.candidates, 2)
        XCTAssertEqual(Explanation.Status.notInModel.rawValue, "not_in_model")
    }

    func testColdUserRankFollowsPopularityFallback() throws {
        let ids: [Int64] = [5, 6, 7, 8, 9]
        let pop: [Double] = [1, 9, 4, 4, 7]   // fallback order: 6, 9, 7, 8, 5
        let m = try makeModel(ids: ids, rows: [[Float]](repeating: [1, 1, 1, 1, 1], count: 5), popularity: pop)
        for hist in [History(), history([123]), history([(9, 0.0), (123, 1.0)])] {
            let recs = try m.recommend(hist, RecommendOptions(k: 10, diversity: 0))
            XCTAssertTrue(recs.allSatisfy { $0.source == "popular" })
            let pos = Dictionary(uniqueKeysWithValues: recs.enumerated().map { ($1.itemId, $0 + 1) })
            for (j, id) in ids.enumerated() {
                let e = m.explain(hist, item: id)
                if hist.totals[id] != nil {
                    XCTAssertEqual(e.status, .inHistory)
                    XCTAssertNil(e.rank)
                } else {
                    XCTAssertEqual(e.status, .coldUser)
                    XCTAssertEqual(e.rank, pos[id], "item \(id)")
                }
                XCTAssertEqual(e.score, pop[j])
                XCTAssertEqual(e.parts, [])
            }
        }
        XCTAssertEqual(m.explain(History(), item: 7).rank, 3)
        XCTAssertEqual(m.explain(history([(9, 0.0)]), item: 7).rank, 2)
        XCTAssertEqual(m.explain(History(), item: 7).candidates, 5)
        XCTAssertEqual(m.explain(history([(9, 0.0)]), item: 7).candidates, 4)
    }

    func testInHistoryWithUsableHistory() throws {
        let m = try makeModel(ids: [1, 2, 3], rows: [[0, 1, 2], [1, 0, 1], [2, 1, 0]])
        let e = m.explain(history([1, 2]), item: 2)
        XCTAssertEqual(e.status, .inHistory)
        XCTAssertNil(e.rank)
        XCTAssertEqual(e.score!, 1, accuracy: 1e-12)   // row 1 -> item 2: 1, row 2 -> itself: 0
        XCTAssertEqual(e.candidates, 1)
    }

    func testRankTiesBrokenByIndexLikeRecommend() throws {
        // Items 2, 3 and 4 tie exactly; recommend orders ties by index, so must explain.
        let m = try makeModel(ids: [1, 40, 30, 20], rows: [[0, 0.5, 0.5, 0.5], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
        let recs = try m.recommend(history([1]), RecommendOptions(k: 10, diversity: 0))
        XCTAssertEqual(recs.map(\.itemId), [40, 30, 20])
        XCTAssertEqual(m.explain(history([1]), item: 40).rank, 1)
        XCTAssertEqual(m.explain(history([1]), item: 30).rank, 2)
        XCTAssertEqual(m.explain(history([1]), item: 20).rank, 3)
    }

    /// BUG PROBE (see report): explain() ranks with Float scores and a tolerance relative to the
    /// score itself, while recommend() orders by the exact double sums. When a score is the result
    /// of cancellation, the Float sum's rounding error (relative to the size of the terms) exceeds
    /// that tolerance, and the two disagree.
    func testRegressionExplainRankAgreesWithRecommendUnderCancellation() throws {
        // History items 0, 1, 2 (binary). Target A (index 3): 1 + 1e-8 - 1, which Float sums to 0
        // but is ~1e-8 exactly. Target B (index 4): 5e-9 from one term, exact in Float.
        let m = try makeModel(ids: [1, 2, 3, 100, 200],
                              rows: [[0, 0, 0, 1, 5e-9],
                                     [0, 0, 0, 1e-8, 0],
                                     [0, 0, 0, -1, 0],
                                     [0, 0, 0, 0, 0],
                                     [0, 0, 0, 0, 0]])
        let hist = history([1, 2, 3])
        let recs = try m.recommend(hist, RecommendOptions(k: 10, diversity: 0))
        XCTAssertEqual(recs.map(\.itemId), [100, 200])   // exact: ~1e-8 > 5e-9
        XCTAssertEqual(m.explain(hist, item: 100).rank, 1, "explain must rank item 100 where recommend() lists it")
        XCTAssertEqual(m.explain(hist, item: 200).rank, 2, "explain must rank item 200 where recommend() lists it")
    }
}
