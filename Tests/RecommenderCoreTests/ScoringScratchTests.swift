import XCTest
@testable import RecommenderCore

/// recommend() with the backend's reused ScoringScratch (ScoringScratch.swift, ReachedServing.swift)
/// against the same call without one (fresh arrays, the whole-catalog path where it applies) and
/// against the same weights served as a dense model: same lists, same scores, same ranks, whatever
/// the previous calls on the scratch were.
final class ScoringScratchTests: XCTestCase {
    func randomData(items: Int, users: Int, seed: UInt64) throws -> SparseMatrix {
        var rng = LCG(seed)
        var b = InteractionMatrixBuilder()
        for u in 0..<users {
            for item in 0..<items where rng.next() % UInt64(2 + item / 3) == 0 {
                try b.add(user: Int64(u), item: Int64(item), weight: Double(1 + rng.next() % 5), time: nil)
            }
            try b.add(user: Int64(u), item: Int64(rng.next() % UInt64(items)), weight: 1, time: nil)
        }
        return b.build(weighting: .sum)
    }

    /// A sparse model and the same weights as a dense one; categories (1 or 2 of 5 per item)
    /// for the per-category cap and the coverage re-ranker.
    func models(items n: Int, density: Double, seed: UInt64) throws -> (sparse: ItemModel, dense: ItemModel) {
        let x = try randomData(items: n, users: 4 * n, seed: seed)
        let w = try SANSA.fit(gram: SparseGram.build(x), lambda: 6, density: density).weights
        var cats: [[Int32]] = []
        for i in 0..<n {
            let a = Int32(i % 5), b = Int32((i / 5) % 5)
            cats.append(i % 3 == 0 && a != b ? [min(a, b), max(a, b)] : [a])
        }
        func make(_ sparse: SparseItemWeights?, _ dense: [Float]) throws -> ItemModel {
            try ItemModel(version: 1, itemIds: (0..<n).map { Int64(100 + $0) }, weights: dense,
                          popularity: (0..<n).map { Double(n - $0) }, categories: cats, similarityDims: 0, similarityVectors: [],
                          weighting: .sum, sparse: sparse)
        }
        return (try make(w, []), try make(nil, w.dense()))
    }

    func randomHistory(_ rng: inout LCG, items n: Int, maxLength: Int) -> History {
        var h = History()
        for _ in 0..<(1 + Int(rng.next() % UInt64(maxLength))) {
            h.add(item: Int64(100 + Int(rng.next() % UInt64(n))), weight: Double(1 + rng.next() % 3))
        }
        return h
    }

    func assertSame(_ a: [Recommendation], _ b: [Recommendation], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.map(\.itemId), b.map(\.itemId), what, file: file, line: line)
        XCTAssertEqual(a.map(\.score.bitPattern), b.map(\.score.bitPattern), what, file: file, line: line)
        XCTAssertEqual(a.map(\.relevanceRank), b.map(\.relevanceRank), what, file: file, line: line)
        XCTAssertEqual(a.map(\.forVariety), b.map(\.forVariety), what, file: file, line: line)
        XCTAssertEqual(a.map(\.source), b.map(\.source), what, file: file, line: line)
    }

    func testReusedScratchGivesTheListsOfFreshArraysAndOfTheDenseModel() throws {
        try checkReusedScratch()
    }

    /// The same with the reached items' table hashed (as for catalogs past ReachedTable.directLimit).
    func testReusedScratchWithAHashedTableGivesTheSameLists() throws {
        let saved = ReachedTable.directLimit
        ReachedTable.directLimit = 0
        defer { ReachedTable.directLimit = saved }
        try checkReusedScratch()
        try testTwoCallsInARowWithDifferentHistoriesAreIndependent()
    }

    func checkReusedScratch() throws {
        let n = 80
        let (sm, dm) = try models(items: n, density: 0.12, seed: 7)
        let scratch = sm.makeScratch(), denseScratch = dm.makeScratch()
        XCTAssertEqual(scratch.items, n)
        XCTAssertEqual(scratch.bytes, n * 4, "the scores up front; the reached items' table grows with the calls")
        XCTAssertEqual(denseScratch.bytes, n * 4)
        var rng = LCG(17)
        var reachedLists = 0, capContinued = 0
        for trial in 0..<240 {
            let h = randomHistory(&rng, items: n, maxLength: trial % 11 == 0 ? 1 : 7)
            var opt = RecommendOptions(k: [1, 5, 10, 30][trial % 4], diversity: trial % 3 == 0 ? 0.4 : 0)
            opt.poolMinimum = 15
            opt.reranker = [Reranker.coverage, .mmr, .dpp][(trial / 3) % 3]
            if trial % 5 == 0 { opt.allowed = (0..<n).map { ($0 + trial) % 4 != 0 } }
            if trial % 7 == 0 { opt.excludeSeen = false }
            if trial % 6 == 1 { opt.maxPerCategory = 1 + trial % 3 }
            let fresh = try sm.recommend(h, opt)
            let dense = try dm.recommend(h, opt)
            var withScratch = opt
            withScratch.scratch = scratch
            let reused = try sm.recommend(h, withScratch)
            withScratch.scratch = denseScratch
            let denseReused = try dm.recommend(h, withScratch)
            assertSame(reused, fresh, "trial \(trial): reused scratch against fresh arrays")
            assertSame(dense, fresh, "trial \(trial): the dense model")
            assertSame(denseReused, dense, "trial \(trial): the dense model with its scratch")
            // the reached-items path itself: when it answers, it is the general path's answer
            var o = opt
            o.scratch = scratch
            if let direct = try sm.recommendReached(sm.prepare(h), o, scratch: scratch) {
                reachedLists += 1
                let poolSize = opt.diversity > 0 ? max(opt.k, max(15, 5 * opt.k)) : opt.k
                if direct.contains(where: { $0.relevanceRank > poolSize }) { capContinued += 1 }  // placed past the pool: the cap's continuation
                assertSame(direct, fresh, "trial \(trial): reached-items path")
            }
        }
        XCTAssertGreaterThan(reachedLists, 120, "the reached items should answer most calls")
        XCTAssertGreaterThan(capContinued, 0, "some lists should continue past the pool under the category cap")
    }

    func testTwoCallsInARowWithDifferentHistoriesAreIndependent() throws {
        let n = 60
        let (sm, _) = try models(items: n, density: 0.15, seed: 3)
        var a = History(), b = History()
        for (i, w) in [(101, 2.0), (107, 1.0), (115, 3.0), (130, 1.0)] { a.add(item: Int64(i), weight: w) }
        for (i, w) in [(140, 1.0), (102, 2.0)] { b.add(item: Int64(i), weight: w) }
        var opt = RecommendOptions(k: 10, diversity: 0)
        let shared = sm.makeScratch()
        opt.scratch = shared
        let a1 = try sm.recommend(a, opt), b1 = try sm.recommend(b, opt), a2 = try sm.recommend(a, opt)
        for (h, got) in [(a, a1), (b, b1), (a, a2)] {
            var fresh = RecommendOptions(k: 10, diversity: 0)
            fresh.scratch = sm.makeScratch()
            assertSame(got, try sm.recommend(h, fresh), "against a new scratch")
            assertSame(got, try sm.recommend(h, RecommendOptions(k: 10, diversity: 0)), "against no scratch")
        }
        XCTAssertNotEqual(a1.map(\.itemId), b1.map(\.itemId), "different histories, different lists")
        // the seen items of one call are not excluded in the next (marks are per call)
        var withB = opt
        withB.excludeSeen = true
        let bSeen = Set(b.order)
        let again = try sm.recommend(a, withB)
        XCTAssertTrue(again.allSatisfy { !Set(a.order).contains($0.itemId) })
        XCTAssertEqual(again.map(\.itemId), a1.map(\.itemId))
        XCTAssertFalse(bSeen.isEmpty)
        // a call that reaches every item (the table grows past its first size), then small ones
        var all = History()
        for i in 0..<n { all.add(item: Int64(100 + i), weight: Double(1 + i % 3)) }
        var fresh = RecommendOptions(k: 10, diversity: 0)
        fresh.excludeSeen = false
        var big = opt
        big.excludeSeen = false
        assertSame(try sm.recommend(all, big), try sm.recommend(all, fresh), "a call reaching the whole catalog")
        XCTAssertGreaterThanOrEqual(shared.table.capacity, n)
        for _ in 0..<3 {
            assertSame(try sm.recommend(a, opt), a1, "after the big call")
            assertSame(try sm.recommend(b, opt), b1, "after the big call")
        }
    }

    func testAnInterruptedCallLeavesTheScratchUsable() throws {
        let n = 70
        let (sm, _) = try models(items: n, density: 0.15, seed: 5)
        var h = History()
        for i in 0..<70 { h.add(item: Int64(100 + i), weight: 1) }   // 70 entries: a poll inside the scoring loop
        var small = History()
        for i in [101, 120, 133] { small.add(item: Int64(i), weight: 1) }
        let scratch = sm.makeScratch()
        var opt = RecommendOptions(k: 5, diversity: 0)
        opt.excludeSeen = false
        opt.scratch = scratch
        let expected = try sm.recommend(small, RecommendOptions(k: 5, diversity: 0))
        for stopAt in 1...4 {
            var polls = 0
            var stopping = opt
            stopping.interrupt = { polls += 1; if polls >= stopAt { throw RecError.interrupted } }
            assertRecError("57014", try sm.recommend(h, stopping))
            var o = opt
            o.excludeSeen = true
            assertSame(try sm.recommend(small, o), expected, "after an interrupt at poll \(stopAt)")
        }
    }

    func testAScratchOfAnotherModelSizeIsNotUsedAndContentOnlyItemsStayCandidates() throws {
        let (sm, _) = try models(items: 50, density: 0.2, seed: 9)
        let (other, _) = try models(items: 64, density: 0.2, seed: 9)
        var h = History()
        for i in [101, 104, 120] { h.add(item: Int64(i), weight: 1) }
        var opt = RecommendOptions(k: 10, diversity: 0)
        let expected = try sm.recommend(h, opt)
        // a model swapped for one of another size: the old scratch is ignored (the glue makes a
        // new one for the new model), the list is that of fresh arrays
        opt.scratch = other.makeScratch()
        assertSame(try sm.recommend(h, opt), expected, "a scratch of another size")
        XCTAssertNil(try sm.recommendReached(sm.prepare(h), opt, scratch: opt.scratch!))
        opt.scratch = sm.makeScratch()
        assertSame(try sm.recommend(h, opt), expected, "a scratch of the model's size")

        // content-only items (new since training), without a prior: all candidates of the
        // reached-items path, the same lists as fresh arrays and as the dense model
        let x = try randomData(items: 40, users: 160, seed: 11)
        let n = x.cols, total = n + 5, dims = 4
        let w = try SANSA.fit(gram: SparseGram.build(x), lambda: 6, density: 0.2).weights
        var rng = LCG(3)
        var vec = [Float](repeating: 0, count: total * dims)
        let present = (0..<total).map { $0 % 4 != 1 }
        for i in 0..<total where present[i] {
            var norm: Float = 0
            for t in 0..<dims { let v = Float(Int(rng.next() % 200) - 100) / 100; vec[i * dims + t] = v; norm += v * v }
            for t in 0..<dims { vec[i * dims + t] /= max(norm.squareRoot(), 1e-3) }
        }
        func withContent(_ sparse: SparseItemWeights?, _ dense: [Float], beta: Double) throws -> ItemModel {
            try ItemModel(version: 1, itemIds: (0..<total).map { Int64(100 + $0) }, weights: dense,
                          popularity: (0..<total).map { Double(total - $0) }, categories: nil, similarityDims: 0, similarityVectors: [],
                          weighting: .sum, cfCount: n,
                          content: ContentVectors(dims: dims, vectors: vec, present: present, beta: beta, prior: 0,
                                                  users: (0..<total).map { $0 < n ? 1 : 0 }),
                          sparse: sparse)
        }
        for beta in [0.05, 5.0] {
            let cs = try withContent(w, [], beta: beta), cd = try withContent(nil, w.dense(), beta: beta)
            let scratch = cs.makeScratch()
            var answered = 0
            for trial in 0..<30 {
                let hh = randomHistory(&rng, items: total, maxLength: 5)
                var o = RecommendOptions(k: [3, 10][trial % 2], diversity: trial % 4 == 3 ? 0.5 : 0)
                o.poolMinimum = 8
                let fresh = try cs.recommend(hh, o)
                assertSame(try cd.recommend(hh, o), fresh, "beta \(beta) trial \(trial): dense")
                o.scratch = scratch
                assertSame(try cs.recommend(hh, o), fresh, "beta \(beta) trial \(trial): scratch")
                if let r = try cs.recommendReached(cs.prepare(hh), o, scratch: scratch) {
                    answered += 1
                    assertSame(r, fresh, "beta \(beta) trial \(trial): reached-items path")
                }
            }
            XCTAssertGreaterThan(answered, 5)
        }
    }

    func testNoSignalAndColdStartWithTheScratch() throws {
        let (sm, dm) = try models(items: 40, density: 0.2, seed: 13)
        let scratch = sm.makeScratch()
        var opt = RecommendOptions(k: 6, diversity: 0)
        opt.allowed = (0..<40).map { $0 % 2 == 0 }
        // unknown items only: the popularity fallback, within the filter, without the unknown ids
        var cold = History()
        cold.add(item: 9_999, weight: 1)
        let fresh = try sm.recommend(cold, opt)
        var o = opt
        o.scratch = scratch
        assertSame(try sm.recommend(cold, o), fresh, "cold start")
        o.scratch = dm.makeScratch()
        assertSame(try dm.recommend(cold, o), fresh, "cold start, dense")
        XCTAssertTrue(fresh.allSatisfy { $0.source == "popular" && ($0.itemId - 100) % 2 == 0 })
        // a history whose only reached items are filtered out: no signal, the popularity order
        var h = History()
        h.add(item: 103, weight: 1)
        var only = RecommendOptions(k: 4, diversity: 0)
        let reached = Set((sm.sparse!.range(3)).map { Int(sm.sparse!.cols[$0]) })
        only.allowed = (0..<40).map { !reached.contains($0) }
        let f2 = try sm.recommend(h, only)
        only.scratch = scratch
        assertSame(try sm.recommend(h, only), f2, "no signal among the eligible items")
        XCTAssertTrue(f2.allSatisfy { $0.source == "popular" })
    }

    func testExactScoresByMergeAreExactScoreBitForBitAndADamagedRowFallsBack() throws {
        let (sm, _) = try models(items: 90, density: 0.15, seed: 21)
        var rng = LCG(4)
        for _ in 0..<30 {
            let h = sm.prepare(randomHistory(&rng, items: 90, maxLength: 9))
            var items = Set<Int32>()
            for _ in 0..<(5 + Int(rng.next() % 80)) { items.insert(Int32(rng.next() % 90)) }
            var exact: [Int32: Double] = [:]
            try sm.exactScores(h, Array(items), into: &exact, interrupt: {})
            XCTAssertEqual(exact.count, items.count)
            for i in items { XCTAssertEqual(exact[i]?.bitPattern, sm.exactScore(h, Int(i)).bitPattern, "item \(i)") }
        }
        // a row whose targets are not increasing (as a damaged image could hold): the binary
        // search of exactScore (and explain) decides, not the merge
        let n = 40
        var starts = [Int](repeating: 3, count: n + 1)
        starts[0] = 0
        let sw = SparseItemWeights(n: n, rowStart: starts, cols: [5, 2, 6], vals: [1, 2, 4])
        let m = try ItemModel(version: 1, itemIds: (0..<n).map { Int64(100 + $0) }, weights: [], popularity: (0..<n).map { Double(n - $0) },
                              categories: nil, similarityDims: 0, similarityVectors: [], weighting: .sum, sparse: sw)
        var hist = History()
        hist.add(item: 100, weight: 1)
        let h = m.prepare(hist)
        var exact: [Int32: Double] = [:]
        let all = (1..<n).map { Int32($0) }     // 39 items: the merge is tried
        try m.exactScores(h, all, into: &exact, interrupt: {})
        for i in all { XCTAssertEqual(exact[i], m.exactScore(h, Int(i)), "item \(i)") }
        XCTAssertEqual(exact[2], m.exactScore(h, 2))
    }
}
