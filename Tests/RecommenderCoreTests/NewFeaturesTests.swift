import Foundation
import XCTest
@testable import RecommenderCore

// Tests for: EDLAE dropout, power weighting / ValueTransform / row normalisation, the coverage
// re-ranker, the shop rules in RecommendOptions (allowed, excludeSeen, maxPerCategory),
// topIndices with a mask, weight validation in ItemModel.init, and explain()'s rank shortcut.

// MARK: - independent helpers

/// EDLAE (Steck, NeurIPS 2020), computed without the code under test:
/// P = (G + diag(lambda + p / (1 - p) * G_ii))^-1, B_ij = -P_ij / P_jj, B_ii = 0.
func referenceEDLAE(gram g: [Double], n: Int, lambda: Double, dropout p: Double) -> [Double] {
    var m = g
    for i in 0..<n { m[i * n + i] += lambda + p / (1 - p) * g[i * n + i] }
    let inv = gaussJordanInverse(m, n: n)!
    var b = [Double](repeating: 0, count: n * n)
    for i in 0..<n { for j in 0..<n where i != j { b[i * n + j] = -inv[i * n + j] / inv[j * n + j] } }
    return b
}

/// Exact relevance of every item for (row index, value) history entries, summed in history
/// order in Double (as the model documents), and the order best first, ties by lower index.
func nfExactScores(rows: [[Float]], entries: [(Int, Double)]) -> [Double] {
    let n = rows.count
    return (0..<n).map { j in entries.reduce(0.0) { $0 + $1.1 * Double(rows[$1.0][j]) } }
}

func nfOrder(_ s: [Double], eligible: (Int) -> Bool) -> [Int] {
    (0..<s.count).filter(eligible).sorted { s[$0] != s[$1] ? s[$0] > s[$1] : $0 < $1 }
}

/// Jaccard similarity via Set operations (independent of the core's merge-based `jaccard`).
func nfJaccard(_ a: [Int32], _ b: [Int32]) -> Double {
    let x = Set(a), y = Set(b)
    if x.isEmpty || y.isEmpty { return 0 }
    return Double(x.intersection(y).count) / Double(x.union(y).count)
}

/// Per-category counts of a list.
func nfCategoryCounts(_ m: ItemModel, _ ids: [Int64]) -> [Int32: Int] {
    var c: [Int32: Int] = [:]
    for id in ids { for g in m.categories![Int(m.index[id]!)] { c[g, default: 0] += 1 } }
    return c
}

final class NewFeaturesTests: XCTestCase {

    // MARK: - 1. EDLAE dropout

    func testEDLAEMatchesNumpyAndIndependentInverse() throws {
        let n = 4, lambda = 0.5, p = 0.25
        var g = EASETests.handGram
        let b = try EASE.fit(gram: &g, n: n, lambda: lambda, dropout: p)
        let ref = referenceEDLAE(gram: EASETests.handGram, n: n, lambda: lambda, dropout: p)
        // Pasted from numpy 2.4.6:
        //   G = np.array([[3,2,1,1],[2,3,2,0],[1,2,3,1],[1,0,1,2]], float); p = 0.25; lam = 0.5
        //   P = np.linalg.inv(G + np.diag(lam + p/(1-p)*np.diag(G))); B = -P/np.diag(P); np.fill_diagonal(B, 0)
        let numpy: [Double] = [
            0.0,             0.410810810811, -0.062111801242,  0.268656716418,
            0.472049689441,  0.0,             0.472049689441, -0.238805970149,
            -0.062111801242, 0.410810810811,  0.0,             0.268656716418,
            0.335403726708, -0.259459459459,  0.335403726708,  0.0,
        ]
        XCTAssertEqual(b.count, n * n)
        for t in 0..<(n * n) {
            XCTAssertEqual(ref[t], numpy[t], accuracy: 1e-9, "reference vs numpy at \(t)")
            XCTAssertEqual(Double(b[t]), ref[t], accuracy: 1e-5, "B[\(t / n)][\(t % n)]")
        }
        for i in 0..<n { XCTAssertEqual(b[i * n + i], 0) }
        // And it is not plain EASE: the emphasis changes the weights.
        let ease = referenceEASE(gram: EASETests.handGram, n: n, lambda: lambda)
        XCTAssertGreaterThan(zip(b, ease).map { abs(Double($0) - $1) }.max()!, 0.05)
    }

    func testEDLAEOnLargerRandomGram() throws {
        // Distinct item frequencies make the per-item penalty p/(1-p) * G_ii visibly non-uniform.
        var rng = LCG(77)
        var builder = InteractionMatrixBuilder()
        for u in 0..<50 {
            for item in 0..<6 where rng.next() % UInt64(2 + item) == 0 {
                try builder.add(user: Int64(u), item: Int64(item), weight: Double(1 + rng.next() % 3), time: nil)
            }
        }
        let n = builder.itemCount
        XCTAssertEqual(n, 6)
        let g0 = try EASE.gram(builder.build(weighting: .sum))
        for (lambda, p) in [(2.0, 0.5), (10.0, 0.1), (0.5, 0.9)] {
            var g = g0
            let b = try EASE.fit(gram: &g, n: n, lambda: lambda, dropout: p)
            let ref = referenceEDLAE(gram: g0, n: n, lambda: lambda, dropout: p)
            for t in 0..<(n * n) {
                XCTAssertEqual(Double(b[t]), ref[t], accuracy: 1e-5 * max(1, abs(ref[t])),
                               "lambda \(lambda) p \(p) B[\(t / n)][\(t % n)]")
            }
        }
    }

    func testDropoutZeroIsPlainEASE() throws {
        var g1 = EASETests.handGram, g2 = EASETests.handGram
        let a = try EASE.fit(gram: &g1, n: 4, lambda: 0.5, dropout: 0)
        let b = try EASE.fit(gram: &g2, n: 4, lambda: 0.5)
        XCTAssertEqual(a, b)
        let ref = referenceEASE(gram: EASETests.handGram, n: 4, lambda: 0.5)
        for t in 0..<16 { XCTAssertEqual(Double(a[t]), ref[t], accuracy: 1e-5) }
    }

    func testDropoutOutOfRangeThrows22023() {
        for p in [Double.nan, -0.01, -1, 1, 1.5, .infinity, -.infinity] {
            var g = EASETests.handGram
            assertRecError("22023", try EASE.fit(gram: &g, n: 4, lambda: 0.5, dropout: p), "dropout \(p)")
        }
        var g = EASETests.handGram
        XCTAssertNoThrow(try EASE.fit(gram: &g, n: 4, lambda: 0.5, dropout: 0.999))
    }

    // MARK: - 2. Power weighting, ValueTransform, row normalisation

    func testPowerWeightingApply() {
        XCTAssertEqual(Weighting.power.apply(3, power: 2, scale: 5), 0.36, accuracy: 1e-15)
        XCTAssertEqual(ValueTransform(.power, power: 2, scale: 5).apply(3), 0.36, accuracy: 1e-15)
        XCTAssertEqual(ValueTransform(.power, power: 2, scale: 5).apply(5), 1, accuracy: 1e-15)
        XCTAssertEqual(ValueTransform(.power, power: 2, scale: 5).apply(10), 4, accuracy: 1e-15)
        XCTAssertEqual(ValueTransform(.power, power: 0.5, scale: 4).apply(9), 1.5, accuracy: 1e-15)
        XCTAssertEqual(ValueTransform(.power, power: 3, scale: 2).apply(1), 0.125, accuracy: 1e-15)
        for bad: Double in [0.0, -1, -5, -.infinity] {
            XCTAssertEqual(ValueTransform(.power, power: 2, scale: 5).apply(bad), 0, "total \(bad)")
            XCTAssertEqual(Weighting.power.apply(bad, power: 0.5, scale: 1), 0, "total \(bad)")
        }
        // Defaults: power 1, scale 1, i.e. the plain sum.
        XCTAssertEqual(Weighting.power.apply(4.5), 4.5)
        XCTAssertEqual(ValueTransform(.power), ValueTransform(.power, power: 1, scale: 1))
        // The other weightings ignore power and scale.
        XCTAssertEqual(ValueTransform(.sum, power: 2, scale: 5).apply(3), 3)
        XCTAssertEqual(ValueTransform(.binary, power: 2, scale: 5).apply(3), 1)
        XCTAssertEqual(ValueTransform(.log, power: 2, scale: 5).apply(3), log(4.0), accuracy: 1e-15)
    }

    /// user 1: one item (rating 3). user 2: four items, summed weights 5, 4, 2 (1 + 1), 1.
    func ratingsBuilder() throws -> InteractionMatrixBuilder {
        var b = InteractionMatrixBuilder()
        try b.add(user: 1, item: 10, weight: 3, time: nil)
        try b.add(user: 2, item: 10, weight: 5, time: nil)
        try b.add(user: 2, item: 20, weight: 4, time: nil)
        try b.add(user: 2, item: 30, weight: 1, time: nil)
        try b.add(user: 2, item: 30, weight: 1, time: nil)
        try b.add(user: 2, item: 40, weight: 1, time: nil)
        return b
    }

    func entry(_ x: SparseMatrix, _ b: InteractionMatrixBuilder, user: Int64, item: Int64) -> Double? {
        guard let u = b.userIndex[user], let i = b.itemIndex[item] else { return nil }
        for t in x.rowStart[Int(u)]..<x.rowStart[Int(u) + 1] where x.colIndex[t] == i { return x.values[t] }
        return nil
    }

    func testMaxTotal() throws {
        XCTAssertEqual(InteractionMatrixBuilder().maxTotal(), 0)
        XCTAssertEqual(try ratingsBuilder().maxTotal(), 5)
        var b = InteractionMatrixBuilder()
        try b.add(user: 1, item: 1, weight: 2, time: nil)
        try b.add(user: 2, item: 1, weight: 1.5, time: nil)
        try b.add(user: 2, item: 1, weight: 1.5, time: nil)   // repeated: 3 in total, the largest
        try b.add(user: 2, item: 2, weight: 2.5, time: nil)
        XCTAssertEqual(b.maxTotal(), 3)
    }

    func testBuildWithTransformAndRowNorm() throws {
        let b = try ratingsBuilder()
        let tr = ValueTransform(.power, power: 2, scale: b.maxTotal())
        // (rating / 5)^2 for user 2's items 10, 20, 30, 40 with totals 5, 4, 2, 1.
        let base: [Int64: Double] = [10: 1, 20: 0.64, 30: 0.16, 40: 0.04]
        // rowNorm r scales user 2's row (4 items) by 4^-r; user 1 (1 item) keeps factor 1.
        for (r, factor) in [(0.25, 1 / 2.0.squareRoot()), (0.0, 1.0), (0.5, 0.5)] {
            let x = b.build(transform: tr, rowNorm: r)
            XCTAssertEqual(x.rows, 2)
            XCTAssertEqual(x.cols, 4)
            XCTAssertEqual(x.nonZeros, 5)
            XCTAssertEqual(entry(x, b, user: 1, item: 10)!, 0.36, accuracy: 1e-15, "rowNorm \(r)")
            for (item, v) in base {
                XCTAssertEqual(entry(x, b, user: 2, item: item)!, v * factor, accuracy: 1e-15, "rowNorm \(r) item \(item)")
            }
        }
        // rowNorm with the sum transform: 4^-0.5 = 0.5 on user 2, raw totals otherwise.
        let s = b.build(transform: ValueTransform(.sum), rowNorm: 0.5)
        XCTAssertEqual(entry(s, b, user: 1, item: 10), 3)
        XCTAssertEqual(entry(s, b, user: 2, item: 30), 1)
        XCTAssertEqual(entry(s, b, user: 2, item: 20), 2)
        // build(weighting:) is the plain transform without row scaling.
        let plain = b.build(weighting: .sum)
        XCTAssertEqual(plain.values, b.build(transform: ValueTransform(.sum), rowNorm: 0).values)
        XCTAssertEqual(entry(plain, b, user: 2, item: 20), 4)
        // Row normalisation reaches the Gram matrix: G_10,10 = 0.36^2 + (1 * 0.5)^2.
        let g = try EASE.gram(b.build(transform: tr, rowNorm: 0.5))
        XCTAssertEqual(g[0], 0.36 * 0.36 + 0.25, accuracy: 1e-15)
        XCTAssertEqual(g[1], 0.5 * 0.64 * 0.5, accuracy: 1e-15)   // items 10 and 20, user 2 only
    }

    func testModelUsesTransformAtServing() throws {
        let rows: [[Float]] = [[0, 0.5, -0.25, 0.75],
                               [0.3, 0, 1, -0.5],
                               [2, 2, 0, 2],
                               [4, 4, 4, 0]]
        let tr = ValueTransform(.power, power: 2, scale: 5)
        let m = try ItemModel(version: 1, itemIds: [1, 2, 3, 4], weights: rows.flatMap { $0 },
                              popularity: [1, 1, 1, 1], categories: nil, similarityDims: 0, similarityVectors: [],
                              weighting: .power, transform: tr)
        XCTAssertEqual(m.transform, tr)
        XCTAssertEqual(m.weighting, .power)
        // A history of item 1 with summed weight 3 (two events) contributes 0.36 * row 0.
        let hist = history([(1, 1.0), (1, 2.0)])
        let h = m.prepare(hist)
        XCTAssertEqual(h.entries.count, 1)
        XCTAssertEqual(h.entries[0].value, 0.36, accuracy: 1e-15)
        let s = m.scores(h)
        for j in 0..<4 { XCTAssertEqual(Double(s[j]), 0.36 * Double(rows[0][j]), accuracy: 1e-7, "item \(j)") }
        let recs = try m.recommend(hist, RecommendOptions(k: 3, diversity: 0))
        XCTAssertEqual(recs.map(\.itemId), [4, 2, 3])
        XCTAssertEqual(recs.map(\.score)[0], 0.36 * 0.75, accuracy: 1e-12)
        XCTAssertEqual(recs.map(\.score)[2], 0.36 * -0.25, accuracy: 1e-12)
        // Two items: totals 3 -> 0.36 and 5 -> 1. Item 3: 0.36 * -0.25 + 1 * 1 = 0.91; item 4:
        // 0.36 * 0.75 - 0.5 = -0.23. (With the raw sums it would be 4.25 and -0.25.)
        let two = history([(1, 3.0), (2, 5.0)])
        let r2 = try m.recommend(two, RecommendOptions(k: 2, diversity: 0))
        XCTAssertEqual(r2.map(\.itemId), [3, 4])
        XCTAssertEqual(r2[0].score, 0.91, accuracy: 1e-12)
        XCTAssertEqual(r2[1].score, -0.23, accuracy: 1e-12)
        let e = m.explain(two, item: 3)
        XCTAssertEqual(e.parts.first { $0.itemId == 1 }!.value, 0.36, accuracy: 1e-15)
        XCTAssertEqual(e.parts.first { $0.itemId == 2 }!.value, 1, accuracy: 1e-15)
        // Without an explicit transform the model uses the plain weighting.
        let plain = try makeModel(ids: [1, 2], rows: [[0, 1], [1, 0]], weighting: .log)
        XCTAssertEqual(plain.transform, ValueTransform(.log))
        XCTAssertEqual(plain.prepare(history([(1, 3.0)])).entries[0].value, log(4.0), accuracy: 1e-15)
    }

    // MARK: - 3. The coverage re-ranker

    /// forVariety is true exactly when the pick is not the most relevant candidate still unpicked.
    func assertFlags(_ recs: [Recommendation], ranked: [Int64], _ ctx: String = "",
                     file: StaticString = #filePath, line: UInt = #line) {
        var remaining = ranked
        for (t, r) in recs.enumerated() {
            guard let pos = remaining.firstIndex(of: r.itemId) else {
                XCTFail("\(ctx): \(r.itemId) is not a remaining candidate", file: file, line: line); return
            }
            XCTAssertEqual(r.forVariety, pos != 0, "\(ctx): position \(t), item \(r.itemId)", file: file, line: line)
            XCTAssertEqual(r.relevanceRank, ranked.firstIndex(of: r.itemId)! + 1, ctx, file: file, line: line)
            remaining.remove(at: pos)
        }
    }

    /// The documented objective, written out from the doc comment:
    /// (1 - t) / log2(p + 2) + t * (gain / 2 + (1 - meanSim) / 2), t = 0.6 d.
    func objective(d: Double, pos p: Int, gain: Double, meanSim: Double) -> Double {
        let t = 0.6 * d
        return (1 - t) / log2(Double(p) + 2) + t * (gain / 2 + (1 - meanSim) / 2)
    }

    /// Asserts `expected` is the strict argmax (by a clear margin) of the hand-computed values.
    func assertArgmax(_ values: [Int64: Double], _ expected: Int64, _ ctx: String,
                      file: StaticString = #filePath, line: UInt = #line) {
        let best = values.max { $0.value < $1.value }!
        XCTAssertEqual(best.key, expected, "\(ctx): hand values \(values)", file: file, line: line)
        for (k, v) in values where k != expected {
            XCTAssertLessThan(v, values[expected]! - 0.01, "\(ctx): margin vs \(k)", file: file, line: line)
        }
    }

    func testCoverageHandComputedCaseHalfDiversity() throws {
        // History 200. Candidates by relevance (pool positions 0...5):
        //   A 201 [1], B 202 [1], C 203 [1,2], D 204 [2], E 205 [3], F 206 [2,3]
        let ids: [Int64] = [200, 201, 202, 203, 204, 205, 206]
        let cats: [[Int32]] = [[9], [1], [1], [1, 2], [2], [3], [2, 3]]
        var rows = [[Float]](repeating: [Float](repeating: 0, count: 7), count: 7)
        rows[0] = [0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
        let m = try makeModel(ids: ids, rows: rows, categories: cats)
        let d = 0.5
        func v(_ p: Int, _ gain: Double, _ sim: Double) -> Double { objective(d: d, pos: p, gain: gain, meanSim: sim) }
        // Slot 2, list {A}: category 1 fully shown (1 - 1 = 0).
        assertArgmax([202: v(1, 0, 1),                   // B: same category as A
                      203: v(2, 0.5 * 0 + 0.5 * 1, 0.5), // C: J([1,2],[1]) = 1/2
                      204: v(3, 1, 0),
                      205: v(4, 1, 0),
                      206: v(5, 0.5 + 0.5, 0)], 204, "slot 2")
        // Slot 3, list {A, D}: categories 1 and 2 shown.
        assertArgmax([202: v(1, 0, (1 + 0) / 2),
                      203: v(2, 0, (0.5 + 0.5) / 2),     // J([1,2],[2]) = 1/2
                      205: v(4, 1, 0),
                      206: v(5, 0.5 * 0 + 0.5 * 1, (0 + 0.5) / 2)], 205, "slot 3")
        // Slot 4, list {A, D, E}: every category shown, the mean similarity decides with relevance.
        assertArgmax([202: v(1, 0, 1.0 / 3),
                      203: v(2, 0, 1.0 / 3),
                      206: v(5, 0, 1.0 / 3)], 202, "slot 4")
        // Slot 5, list {A, D, E, B}.
        assertArgmax([203: v(2, 0, (0.5 + 0.5 + 0 + 0.5) / 4),
                      206: v(5, 0, (0 + 0.5 + 0.5 + 0) / 4)], 203, "slot 5")

        let recs = try m.recommend(history([200]), RecommendOptions(k: 6, diversity: d))
        XCTAssertEqual(recs.map(\.itemId), [201, 204, 205, 202, 203, 206])
        XCTAssertEqual(recs.map(\.forVariety), [false, true, true, false, false, false])
        XCTAssertEqual(recs.map(\.relevanceRank), [1, 4, 5, 2, 3, 6])
        assertFlags(recs, ranked: Array(ids.dropFirst()))
        // Scores are the relevance scores, whatever the order.
        XCTAssertEqual(recs.map(\.score), [0.9, 0.6, 0.5, 0.8, 0.7, 0.4].map { Double(Float($0)) })
        // The default re-ranker is coverage: asking for it explicitly gives the same list.
        var opt = RecommendOptions(k: 6, diversity: d)
        XCTAssertEqual(opt.reranker, .coverage)
        opt.reranker = .coverage
        XCTAssertEqual(try m.recommend(history([200]), opt), recs)
        // Shorter lists are prefixes of the greedy sequence.
        let three = try m.recommend(history([200]), RecommendOptions(k: 3, diversity: d))
        XCTAssertEqual(three.map(\.itemId), [201, 204, 205])
    }

    func testCoverageHandComputedCasePartialCategoryShares() throws {
        // The first item has two categories, so each keeps (1 - 1/2) = 1/2 of its gain.
        //   A 301 [1,2], B 302 [1], C 303 [2,3], D 304 [4], E 305 [1,4]
        let ids: [Int64] = [300, 301, 302, 303, 304, 305]
        let cats: [[Int32]] = [[9], [1, 2], [1], [2, 3], [4], [1, 4]]
        var rows = [[Float]](repeating: [Float](repeating: 0, count: 6), count: 6)
        rows[0] = [0, 5, 4, 3, 2, 1]
        let m = try makeModel(ids: ids, rows: rows, categories: cats)
        func v(_ p: Int, _ gain: Double, _ sim: Double) -> Double { objective(d: 1, pos: p, gain: gain, meanSim: sim) }
        // Slot 2, list {A}: shown 1 -> 1/2, 2 -> 1/2.
        assertArgmax([302: v(1, 0.5, 0.5),                           // J([1],[1,2]) = 1/2
                      303: v(2, 0.5 * 0.5 + 0.5 * 1, 1.0 / 3),       // J([2,3],[1,2]) = 1/3
                      304: v(3, 1, 0),
                      305: v(4, 0.5 * 0.5 + 0.5 * 1, 1.0 / 3)], 304, "slot 2")
        // Slot 3, list {A, D}: shown 1 -> 1/2, 2 -> 1/2, 4 -> 0.
        assertArgmax([302: v(1, 0.5, (0.5 + 0) / 2),
                      303: v(2, 0.5 * 0.5 + 0.5 * 1, (1.0 / 3 + 0) / 2),
                      305: v(4, 0.5 * 0.5 + 0.5 * 0, (1.0 / 3 + 0.5) / 2)], 303, "slot 3")
        // Slot 4, list {A, D, C}: shown 1 -> 1/2, 2 -> 1/4, 3 -> 0, 4 -> 0.
        assertArgmax([302: v(1, 0.5, (0.5 + 0 + 0) / 3),
                      305: v(4, 0.5 * 0.5, (1.0 / 3 + 0.5 + 0) / 3)], 302, "slot 4")
        let recs = try m.recommend(history([300]), RecommendOptions(k: 5, diversity: 1))
        XCTAssertEqual(recs.map(\.itemId), [301, 304, 303, 302, 305])
        XCTAssertEqual(recs.map(\.forVariety), [false, true, true, false, false])
        assertFlags(recs, ranked: Array(ids.dropFirst()))
    }

    func testCoverageWithoutCategoriesUsesSimilarityVectors() throws {
        // No categories: gain is 0 and the similarity is the cosine of the vectors.
        //   A 401 (1,0), B 402 (1,0) (a duplicate of A), C 403 (0,1), D 404 (0.6,0.8)
        let ids: [Int64] = [400, 401, 402, 403, 404]
        var rows = [[Float]](repeating: [Float](repeating: 0, count: 5), count: 5)
        rows[0] = [0, 4, 3, 2, 1]
        let vectors: [Float] = [0, 0,  1, 0,  1, 0,  0, 1,  0.6, 0.8]
        let m = try makeModel(ids: ids, rows: rows, categories: nil, dims: 2, vectors: vectors)
        func v(_ p: Int, _ sim: Double) -> Double { objective(d: 1, pos: p, gain: 0, meanSim: sim) }
        assertArgmax([402: v(1, 1), 403: v(2, 0), 404: v(3, 0.6)], 403, "slot 2")
        assertArgmax([402: v(1, (1 + 0) / 2), 404: v(3, (0.6 + 0.8) / 2)], 402, "slot 3")
        let recs = try m.recommend(history([400]), RecommendOptions(k: 4, diversity: 1))
        XCTAssertEqual(recs.map(\.itemId), [401, 403, 402, 404])
        XCTAssertEqual(recs.map(\.forVariety), [false, true, false, false])
        assertFlags(recs, ranked: [401, 402, 403, 404])
    }

    func testCoverageDiversityZeroIsRelevanceOrder() throws {
        let ids: [Int64] = [200, 201, 202, 203, 204, 205, 206]
        let cats: [[Int32]] = [[9], [1], [1], [1, 2], [2], [3], [2, 3]]
        var rows = [[Float]](repeating: [Float](repeating: 0, count: 7), count: 7)
        rows[0] = [0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
        let m = try makeModel(ids: ids, rows: rows, categories: cats)
        let recs = try m.recommend(history([200]), RecommendOptions(k: 6, diversity: 0))
        XCTAssertEqual(recs.map(\.itemId), [201, 202, 203, 204, 205, 206])
        XCTAssertEqual(recs.map(\.forVariety), [Bool](repeating: false, count: 6))
        XCTAssertEqual(recs.map(\.relevanceRank), [1, 2, 3, 4, 5, 6])
        // A very small diversity keeps the relevance order too: 0.994 / log2(3) - 0.994 / log2(7)
        // is far above the largest possible diversity term 0.006.
        let tiny = try m.recommend(history([200]), RecommendOptions(k: 6, diversity: 0.01))
        XCTAssertEqual(tiny.map(\.itemId), [201, 202, 203, 204, 205, 206])
    }

    func testCoverageMoreCategoriesAsDiversityGrows() throws {
        // The 5 most relevant candidates share category 1; the next 5 have one category each.
        let n = 11
        let ids = (0..<n).map { Int64(600 + $0) }
        var rows = [[Float]](repeating: [Float](repeating: 0, count: n), count: n)
        for j in 1..<n { rows[0][j] = 1 - Float(j) * 0.05 }
        var cats: [[Int32]] = [[99]]
        for j in 1..<n { cats.append(j <= 5 ? [1] : [Int32(j)]) }
        let m = try makeModel(ids: ids, rows: rows, categories: cats)
        var counts: [Int] = []
        for d in [0.0, 0.25, 0.5, 0.75, 1.0] {
            let recs = try m.recommend(history([600]), RecommendOptions(k: 5, diversity: d))
            XCTAssertEqual(recs.count, 5)
            XCTAssertEqual(recs.first?.itemId, 601, "d \(d)")
            XCTAssertEqual(recs.first?.forVariety, false, "d \(d)")
            assertFlags(recs, ranked: Array(ids.dropFirst()), "d \(d)")
            counts.append(nfCategoryCounts(m, recs.map(\.itemId)).count)
        }
        for (a, b) in zip(counts, counts.dropFirst()) { XCTAssertLessThanOrEqual(a, b, "counts \(counts)") }
        XCTAssertEqual(counts.first, 1)
        // d = 1 at slot 2: same category 0.4 / log2(3) = 0.25 vs new category 0.4 / log2(7) + 0.6 = 0.74.
        XCTAssertEqual(counts.last, 5)
    }

    func testCoverageStaysInPoolWithoutCategories() throws {
        // The pool (6 most relevant) all point the same way; every item outside the pool has an
        // orthogonal vector of its own, i.e. would be the most "diverse" choice.
        let n = 30
        let ids = (0..<n).map { Int64(500 + $0) }
        var rows = [[Float]](repeating: [Float](repeating: 0, count: n), count: n)
        for j in 1..<n { rows[0][j] = 1 - Float(j) * 0.01 }
        var vecs = [Float](repeating: 0, count: n * n)
        for i in 0..<n { vecs[i * n + (i <= 6 ? 0 : i)] = 1 }
        let m = try makeModel(ids: ids, rows: rows, categories: nil, dims: n, vectors: vecs)
        for d in [0.3, 1.0] {
            var opt = RecommendOptions(k: 3, diversity: d)
            opt.poolMinimum = 4
            opt.poolFactor = 2    // pool = 6
            let recs = try m.recommend(history([500]), opt)
            XCTAssertEqual(recs.count, 3)
            XCTAssertEqual(Set(recs.map(\.itemId)).count, 3)
            for r in recs {
                XCTAssertTrue((501...506).contains(r.itemId), "d \(d): \(r.itemId) is outside the pool")
                XCTAssertLessThanOrEqual(r.relevanceRank, 6)
            }
            // Within the pool every item is equally similar: relevance decides.
            XCTAssertEqual(recs.map(\.itemId), [501, 502, 503], "d \(d)")
            XCTAssertEqual(recs.map(\.forVariety), [false, false, false])
        }
        // With a pool covering the catalog, the orthogonal items win at d = 1.
        let wide = try m.recommend(history([500]), RecommendOptions(k: 3, diversity: 1))
        XCTAssertEqual(wide.first?.itemId, 501)
        XCTAssertTrue(wide.dropFirst().allSatisfy { $0.itemId >= 507 }, "\(wide.map(\.itemId))")
    }

    /// An independent greedy implementation of the documented objective, compared with the code on
    /// random catalogs (trials with a near-tie between the two best candidates are skipped).
    func testCoverageMatchesReferenceGreedyOnRandomCatalogs() throws {
        var rng = LCG(4242)
        var compared = 0
        for trial in 0..<40 {
            let n = 8 + trial % 10
            let ids = (0..<n).map { Int64(7 * $0 + 1) }
            let rows = (0..<n).map { _ in (0..<n).map { _ in Float(rng.signed()) } }
            let cats: [[Int32]] = (0..<n).map { _ in
                Array(Set((0..<Int(rng.next() % 4)).map { _ in Int32(rng.next() % 5) })).sorted() }
            let m = try makeModel(ids: ids, rows: rows, categories: cats)
            let hist = [0, 1 + Int(rng.next() % UInt64(n - 1))]
            let s = nfExactScores(rows: rows, entries: hist.map { ($0, 1.0) })
            let ranked = nfOrder(s) { !hist.contains($0) }
            let d = [0.2, 0.5, 0.8, 1.0][trial % 4]
            let k = 2 + Int(rng.next() % UInt64(ranked.count - 1))
            // Reference greedy.
            var listed: [Int] = []          // pool positions
            var nearTie = false
            while listed.count < min(k, ranked.count) {
                if listed.isEmpty { listed.append(0); continue }
                var vals: [(Int, Double)] = []
                for p in ranked.indices where !listed.contains(p) {
                    let j = ranked[p]
                    var gain = 0.0
                    for g in cats[j] {
                        var prod = 1.0
                        for q in listed where cats[ranked[q]].contains(g) { prod *= 1 - 1 / Double(cats[ranked[q]].count) }
                        gain += prod / Double(cats[j].count)
                    }
                    let meanSim = listed.map { nfJaccard(cats[j], cats[ranked[$0]]) }.reduce(0, +) / Double(listed.count)
                    vals.append((p, objective(d: d, pos: p, gain: gain, meanSim: meanSim)))
                }
                vals.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
                if vals.count > 1 && vals[0].1 - vals[1].1 < 1e-9 { nearTie = true }
                listed.append(vals[0].0)
            }
            if nearTie { continue }
            compared += 1
            let recs = try m.recommend(history(hist.map { ids[$0] }), RecommendOptions(k: k, diversity: d))
            let ctx = "trial \(trial) d \(d) k \(k)"
            XCTAssertEqual(recs.map(\.itemId), listed.map { ids[ranked[$0]] }, ctx)
            XCTAssertEqual(recs.map(\.relevanceRank), listed.map { $0 + 1 }, ctx)
            assertFlags(recs, ranked: ranked.map { ids[$0] }, ctx)
        }
        XCTAssertGreaterThan(compared, 30)
    }

    // MARK: - 4. Shop rules

    /// A random model (categories on request) and a 3-item history.
    func randomShop(_ rng: inout LCG, n: Int, categories: Bool) throws -> (ItemModel, [[Float]], [Int]) {
        let ids = (0..<n).map { Int64(100 + 3 * $0) }
        let rows = (0..<n).map { _ in (0..<n).map { _ in Float(rng.signed()) } }
        let cats: [[Int32]]? = categories ? (0..<n).map { _ in
            Array(Set((0..<Int(1 + rng.next() % 2)).map { _ in Int32(rng.next() % 4) })).sorted() } : nil
        let pop = (0..<n).map { _ in Double(rng.next() % 1000) }
        let m = try makeModel(ids: ids, rows: rows, popularity: pop, categories: cats)
        var hist: [Int] = []
        while hist.count < 3 { let i = Int(rng.next() % UInt64(n)); if !hist.contains(i) { hist.append(i) } }
        return (m, rows, hist)
    }

    func testAllowedFilterKeepsRelevanceOrder() throws {
        var rng = LCG(31)
        for trial in 0..<10 {
            let n = 15
            let (m, rows, hist) = try randomShop(&rng, n: n, categories: trial % 2 == 0)
            let allowed = (0..<n).map { _ in rng.next() % 3 != 0 }
            let s = nfExactScores(rows: rows, entries: hist.map { ($0, 1.0) })
            let expected = nfOrder(s) { allowed[$0] && !hist.contains($0) }.map { m.itemIds[$0] }
            var opt = RecommendOptions(k: n, diversity: 0)
            opt.allowed = allowed
            let recs = try m.recommend(history(hist.map { m.itemIds[$0] }), opt)
            XCTAssertEqual(recs.map(\.itemId), expected, "trial \(trial)")
            XCTAssertEqual(recs.map(\.relevanceRank), expected.indices.map { $0 + 1 }, "trial \(trial)")
            opt.k = 3
            XCTAssertEqual(try m.recommend(history(hist.map { m.itemIds[$0] }), opt).map(\.itemId), Array(expected.prefix(3)))
            for reranker in [Reranker.coverage, .mmr, .dpp] {
                for d in [0.5, 1.0] {
                    var o = RecommendOptions(k: 5, diversity: d)
                    o.allowed = allowed
                    o.reranker = reranker
                    let r = try m.recommend(history(hist.map { m.itemIds[$0] }), o)
                    XCTAssertEqual(r.count, min(5, expected.count), "trial \(trial) \(reranker) d \(d)")
                    XCTAssertTrue(r.allSatisfy { allowed[Int(m.index[$0.itemId]!)] }, "trial \(trial) \(reranker) d \(d)")
                    XCTAssertEqual(r.first?.itemId, expected.first, "trial \(trial) \(reranker) d \(d)")
                }
            }
        }
    }

    func testAllowedFilterInPopularityFallback() throws {
        let ids: [Int64] = [1, 2, 3, 4, 5, 6]
        let pop: [Double] = [10, 60, 30, 50, 20, 40]      // order: 2, 4, 6, 3, 5, 1
        let m = try makeModel(ids: ids, rows: [[Float]](repeating: [Float](repeating: 0, count: 6), count: 6), popularity: pop)
        var opt = RecommendOptions(k: 3, diversity: 0)
        opt.allowed = [true, false, true, true, false, true]   // 2 and 5 not allowed
        let recs = try m.recommend(History(), opt)
        XCTAssertEqual(recs.map(\.itemId), [4, 6, 3])
        XCTAssertEqual(recs.map(\.relevanceRank), [1, 2, 3])
        XCTAssertEqual(Set(recs.map(\.source)), ["popular"])
        opt.k = 10
        XCTAssertEqual(try m.recommend(History(), opt).map(\.itemId), [4, 6, 3, 1])
        // A history of unknown or weightless items also falls back, and still filters.
        XCTAssertEqual(try m.recommend(history([(999, 1.0), (4, 0.0)]), opt).map(\.itemId), [6, 3, 1])
        opt.excludeSeen = false
        XCTAssertEqual(try m.recommend(history([(999, 1.0), (4, 0.0)]), opt).map(\.itemId), [4, 6, 3, 1])
        opt.allowed = [Bool](repeating: false, count: 6)
        XCTAssertEqual(try m.recommend(History(), opt), [])
    }

    func testExcludeSeenFalseWithRerankersAndFilter() throws {
        var rng = LCG(8)
        let (m, rows, hist) = try randomShop(&rng, n: 12, categories: true)
        let hid = hist.map { m.itemIds[$0] }
        let s = nfExactScores(rows: rows, entries: hist.map { ($0, 1.0) })
        var opt = RecommendOptions(k: 12, diversity: 0)
        opt.excludeSeen = false
        let all = try m.recommend(history(hid), opt)
        XCTAssertEqual(all.map(\.itemId), nfOrder(s) { _ in true }.map { m.itemIds[$0] })
        for reranker in [Reranker.coverage, .mmr, .dpp] {
            opt.reranker = reranker
            opt.diversity = 0.7
            let r = try m.recommend(history(hid), opt)
            XCTAssertEqual(Set(r.map(\.itemId)), Set(m.itemIds), "\(reranker): history items may appear")
            // Combined with a filter that removes one history item.
            var o = opt
            o.allowed = (0..<12).map { $0 != hist[0] }
            let f = try m.recommend(history(hid), o)
            XCTAssertEqual(Set(f.map(\.itemId)), Set(m.itemIds).subtracting([hid[0]]), "\(reranker)")
        }
    }

    /// History 700. Candidates 701...708 by relevance with categories
    ///   701 [1], 702 [1], 703 [1], 704 [1,2], 705 [2], 706 [2,3], 707 [3], 708 [4]
    func capModel() throws -> ItemModel {
        let ids: [Int64] = (700...708).map { $0 }
        let cats: [[Int32]] = [[9], [1], [1], [1], [1, 2], [2], [2, 3], [3], [4]]
        var rows = [[Float]](repeating: [Float](repeating: 0, count: 9), count: 9)
        rows[0] = [0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]
        return try makeModel(ids: ids, rows: rows, popularity: [0, 8, 7, 6, 5, 4, 3, 2, 1], categories: cats)
    }

    func testMaxPerCategoryContinuesBeyondPool() throws {
        let m = try capModel()
        for reranker in [Reranker.coverage, .mmr, .dpp] {
            for d in [0.0, 0.5, 1.0] {
                var opt = RecommendOptions(k: 4, diversity: d)
                opt.reranker = reranker
                opt.poolMinimum = 3
                opt.poolFactor = 1      // pool = top 4 = 701...704, all of category 1
                opt.maxPerCategory = 1
                let recs = try m.recommend(history([700]), opt)
                let ctx = "\(reranker) d \(d)"
                // 701 takes category 1; 702...704 are blocked (704 through category 1 although 2 is
                // free); beyond the pool 705 takes 2, 706 [2,3] is blocked by 2, 707, 708.
                XCTAssertEqual(recs.map(\.itemId), [701, 705, 707, 708], ctx)
                XCTAssertEqual(recs.map(\.relevanceRank), [1, 5, 7, 8], ctx)
                XCTAssertEqual(recs.map(\.score), [0.9, 0.5, 0.3, 0.2].map { Double(Float($0)) }, ctx)
                XCTAssertTrue(nfCategoryCounts(m, recs.map(\.itemId)).values.allSatisfy { $0 <= 1 }, ctx)
                opt.maxPerCategory = 2
                let two = try m.recommend(history([700]), opt)
                XCTAssertEqual(two.count, 4, ctx)
                XCTAssertEqual(two.first?.itemId, 701, ctx)
                XCTAssertTrue(nfCategoryCounts(m, two.map(\.itemId)).values.allSatisfy { $0 <= 2 }, ctx)
                if d == 0 {
                    // 701, 702 fill category 1; 705 [2], 706 [2,3] fill category 2.
                    XCTAssertEqual(two.map(\.itemId), [701, 702, 705, 706], ctx)
                } else if reranker == .coverage {
                    // Slot 2 (t = 0.6 d): 704 [1,2] (gain 1/2, similarity 1/2) beats 702 (gain 0,
                    // similarity 1) at d = 0.5: 0.7/log2(5) + 0.3 * 0.5 = 0.45 > 0.7/log2(3) = 0.44.
                    // Category 1 is then full; beyond the pool 705 fills category 2, 706 is blocked.
                    XCTAssertEqual(two.map(\.itemId), [701, 704, 705, 707], ctx)
                }
            }
        }
        // Cap 1, k larger than what the cap allows: 701, 705, 707, 708 is everything.
        var opt = RecommendOptions(k: 8, diversity: 0)
        opt.maxPerCategory = 1
        XCTAssertEqual(try m.recommend(history([700]), opt).map(\.itemId), [701, 705, 707, 708])
    }

    func testMaxPerCategoryOnRandomCatalogs() throws {
        var rng = LCG(1234)
        for trial in 0..<16 {
            let n = 20
            let (m, rows, hist) = try randomShop(&rng, n: n, categories: true)
            let cap = 1 + trial % 2
            let allowed = (0..<n).map { _ in rng.next() % 5 != 0 }
            let s = nfExactScores(rows: rows, entries: hist.map { ($0, 1.0) })
            let ranked = nfOrder(s) { allowed[$0] && !hist.contains($0) }
            let cats = m.categories!
            // Reference for diversity 0: walk the relevance order, take what the cap allows.
            let k = 3 + Int(rng.next() % 6)
            var counts: [Int32: Int] = [:]
            var expected: [Int] = []
            for j in ranked where expected.count < k {
                if cats[j].contains(where: { counts[$0, default: 0] >= cap }) { continue }
                for g in cats[j] { counts[g, default: 0] += 1 }
                expected.append(j)
            }
            for reranker in [Reranker.coverage, .mmr, .dpp] {
                for d in [0.0, 0.4, 1.0] {
                    var opt = RecommendOptions(k: k, diversity: d)
                    opt.reranker = reranker
                    opt.maxPerCategory = cap
                    opt.allowed = allowed
                    opt.poolMinimum = 3
                    opt.poolFactor = 1
                    let recs = try m.recommend(history(hist.map { m.itemIds[$0] }), opt)
                    let ctx = "trial \(trial) \(reranker) d \(d) cap \(cap) k \(k)"
                    let got = recs.map { Int(m.index[$0.itemId]!) }
                    let c = nfCategoryCounts(m, recs.map(\.itemId))
                    XCTAssertTrue(c.values.allSatisfy { $0 <= cap }, "\(ctx): \(c)")
                    XCTAssertEqual(Set(got).count, got.count, ctx)
                    XCTAssertTrue(got.allSatisfy { allowed[$0] && !hist.contains($0) }, ctx)
                    XCTAssertLessThanOrEqual(recs.count, k, ctx)
                    XCTAssertEqual(got.first, expected.first, ctx)
                    // The list is as long as the cap allows: a short list leaves no item that fits.
                    if recs.count < k {
                        for j in ranked where !got.contains(j) {
                            XCTAssertTrue(cats[j].contains { c[$0, default: 0] >= cap }, "\(ctx): \(m.itemIds[j]) would fit")
                        }
                    }
                    for r in recs {
                        XCTAssertEqual(r.relevanceRank, ranked.firstIndex(of: Int(m.index[r.itemId]!))! + 1, ctx)
                        XCTAssertEqual(r.score, s[Int(m.index[r.itemId]!)], accuracy: 1e-12, ctx)
                    }
                    if d == 0 {
                        XCTAssertEqual(got, expected, ctx)
                        XCTAssertEqual(recs.map(\.forVariety), [Bool](repeating: false, count: recs.count), ctx)
                    }
                }
            }
        }
    }

    func testMaxPerCategoryInPopularityFallback() throws {
        let m = try capModel()
        // Popularity order: 701 ... 708 (700 is least popular).
        var opt = RecommendOptions(k: 4, diversity: 0.5)
        opt.maxPerCategory = 1
        let recs = try m.recommend(History(), opt)
        XCTAssertEqual(recs.map(\.itemId), [701, 705, 707, 708])
        XCTAssertEqual(Set(recs.map(\.source)), ["popular"])
        XCTAssertEqual(recs.map(\.relevanceRank), [1, 5, 7, 8])
        opt.maxPerCategory = 2
        XCTAssertEqual(try m.recommend(History(), opt).map(\.itemId), [701, 702, 705, 706])
        // With a filter: 701 not allowed -> 702 takes category 1.
        opt.maxPerCategory = 1
        opt.allowed = [true, false, true, true, true, true, true, true, true]
        XCTAssertEqual(try m.recommend(History(), opt).map(\.itemId), [702, 705, 707, 708])
    }

    func testMaxPerCategoryMustBePositive() throws {
        let m = try capModel()
        for cap in [0, -1, Int.min] {
            var opt = RecommendOptions(k: 3, diversity: 0)
            opt.maxPerCategory = cap
            assertRecError("22023", try m.recommend(history([700]), opt), "cap \(cap)")
            assertRecError("22023", try m.recommend(History(), opt), "cold, cap \(cap)")
            opt.diversity = 0.5
            assertRecError("22023", try m.recommend(history([700]), opt), "d 0.5, cap \(cap)")
        }
    }

    func testMaxPerCategoryWithoutCategoriesHasNoEffect() throws {
        var rng = LCG(3)
        let (m, _, hist) = try randomShop(&rng, n: 10, categories: false)
        let h = history(hist.map { m.itemIds[$0] })
        for d in [0.0, 0.6] {
            var opt = RecommendOptions(k: 5, diversity: d)
            let plain = try m.recommend(h, opt)
            opt.maxPerCategory = 1
            XCTAssertEqual(try m.recommend(h, opt), plain, "d \(d)")
        }
    }

    // MARK: - 5. topIndices with a mask

    func testTopIndicesHonoursMask() {
        let s: [Float] = [5, 9, 1, 9, 7, 3]
        XCTAssertEqual(topIndices(s, count: 3, eligible: [true, true, true, true, true, true]), [1, 3, 4])
        XCTAssertEqual(topIndices(s, count: 3, eligible: [true, false, true, true, false, true]), [3, 0, 5])
        XCTAssertEqual(topIndices(s, count: 10, eligible: [false, false, true, false, false, false]), [2])
        XCTAssertEqual(topIndices(s, count: 10, eligible: [Bool](repeating: false, count: 6)), [])
        XCTAssertEqual(topIndices(s, count: 0, eligible: [Bool](repeating: true, count: 6)), [])
        var rng = LCG(55)
        for trial in 0..<150 {
            let n = Int(rng.next() % 50)
            let vals: [Float] = (0..<n).map { _ in Float(Int(rng.next() % 6)) - 2 }
            let mask: [Bool] = (0..<n).map { _ in rng.next() % 3 != 0 }
            let count = Int(rng.next() % 60)
            let kept: [Int] = (0..<n).filter { mask[$0] }
            let sorted: [Int] = kept.sorted { (a: Int, b: Int) -> Bool in vals[a] != vals[b] ? vals[a] > vals[b] : a < b }
            let expected: [Int32] = sorted.prefix(count).map { Int32($0) }
            XCTAssertEqual(topIndices(vals, count: count, eligible: mask), expected, "trial \(trial)")
            // The Set overload gives the same result for the complementary exclusion set.
            let exclude = Set((0..<n).filter { !mask[$0] }.map { Int32($0) })
            XCTAssertEqual(topIndices(vals, count: count, exclude: exclude), expected, "trial \(trial), Set")
        }
    }

    // MARK: - 6. Weight validation and maxAbsWeight

    func testInitRejectsNonFiniteWeights() {
        for bad in [Float.nan, .infinity, -.infinity] {
            for pos in [0, 1, 3] {
                var w: [Float] = [0, 1, -2, 0]
                w[pos] = bad
                assertRecError("XX000", try ItemModel(version: 1, itemIds: [1, 2], weights: w, popularity: [1, 1],
                                                      categories: nil, similarityDims: 0, similarityVectors: [],
                                                      weighting: .binary), "weight \(bad) at \(pos)")
            }
        }
    }

    func testMaxAbsWeight() throws {
        XCTAssertEqual(try makeModel(ids: [1, 2], rows: [[0, 1.5], [-2.75, 0]]).maxAbsWeight, 2.75)
        XCTAssertEqual(try makeModel(ids: [1, 2], rows: [[0, 1.5], [0.25, 0]]).maxAbsWeight, 1.5)
        XCTAssertEqual(try makeModel(ids: [1, 2], rows: [[0, 0], [0, 0]]).maxAbsWeight, 0)
        XCTAssertEqual(try makeModel(ids: [1, 2, 3], rows: [[0, 1, 2], [3, 0, -1e30], [5, 6, 0]]).maxAbsWeight, 1e30)
        var rng = LCG(17)
        let n = 9
        let w = (0..<(n * n)).map { _ in Float(rng.signed() * 3) }
        let m = try ItemModel(version: 1, itemIds: (0..<n).map { Int64($0) }, weights: w,
                              popularity: [Double](repeating: 0, count: n), categories: nil, similarityDims: 0,
                              similarityVectors: [], weighting: .sum)
        XCTAssertEqual(m.maxAbsWeight, w.map { abs($0) }.max()!)
    }

    // MARK: - 7. explain() rank under near-cancellation

    func testExplainRankMatchesRecommendWithNearCancellingContributions() throws {
        var rng = LCG(90210)
        for trial in 0..<24 {
            let n = 10 + trial % 12
            let ids = (0..<n).map { Int64(1000 + 13 * $0) }
            // History: 4 items with distinct (sum) values, mixed magnitudes.
            var hist: [Int] = []
            while hist.count < 4 { let i = Int(rng.next() % UInt64(n)); if !hist.contains(i) { hist.append(i) } }
            let values = hist.map { _ in [1.0, 2.5, 0.3, 7.0, 1.75][Int(rng.next() % 5)] }
            var rows = (0..<n).map { _ in (0..<n).map { _ in Float(rng.signed()) } }
            // For most targets: a large pair that cancels up to a residual of 1e-9...1e-6, far below
            // the Float rounding of the large terms (~1e-7 of |big| * value), so many targets are
            // near-ties in Float whose exact order differs.
            for j in 0..<n where rng.next() % 4 != 0 {
                let a = hist[0], b = hist[1]
                let big = rng.signed() * 4
                let residual = rng.signed() * pow(10, -Double(6 + rng.next() % 4))
                rows[a][j] = Float(big)
                rows[b][j] = Float((residual - values[0] * Double(rows[a][j])) / values[1])
                rows[hist[2]][j] = Float(rng.signed() * 1e-7)
                rows[hist[3]][j] = trial % 2 == 0 ? 0 : Float(-rng.signed() * 1e-8)
            }
            let m = try makeModel(ids: ids, rows: rows, weighting: .sum)
            let events = zip(hist, values).map { (ids[$0], $1) }
            let hh = history(events)
            let recs = try m.recommend(hh, RecommendOptions(k: maxK, diversity: 0))
            // Independent exact order (same summation order as documented: history order).
            let s = nfExactScores(rows: rows, entries: Array(zip(hist, values)))
            let expected = nfOrder(s) { !hist.contains($0) }
            XCTAssertEqual(recs.map(\.itemId), expected.map { ids[$0] }, "trial \(trial)")
            for (pos, r) in recs.enumerated() {
                let e = m.explain(hh, item: r.itemId)
                XCTAssertEqual(e.rank, pos + 1, "trial \(trial) item \(r.itemId)")
                XCTAssertEqual(e.score, r.score, "trial \(trial) item \(r.itemId)")
            }
        }
    }

    // MARK: - bugs

    /// BUG: recommend() picks the candidate pool by the Float scores (topIndices on `scores(h)`)
    /// and only then orders it by the exact sums. With k (or the pool) smaller than the catalog,
    /// an item whose Float score lost a near-cancelling comparison is left out although its exact
    /// score is higher: recommend(k: 1) is not the first item of recommend(k: maxK), and explain()
    /// ranks the returned item 2.
    func testRegressionTopKIsPrefixOfFullRankingUnderCancellation() throws {
        // Target 100: 1 + 1e-8 - 1 (Float sum 0, exact ~1e-8). Target 200: 5e-9 (exact in Float).
        let m = try makeModel(ids: [1, 2, 3, 100, 200],
                              rows: [[0, 0, 0, 1, 5e-9],
                                     [0, 0, 0, 1e-8, 0],
                                     [0, 0, 0, -1, 0],
                                     [0, 0, 0, 0, 0],
                                     [0, 0, 0, 0, 0]])
        let hist = history([1, 2, 3])
        let full = try m.recommend(hist, RecommendOptions(k: maxK, diversity: 0))
        XCTAssertEqual(full.map(\.itemId), [100, 200])
        let one = try m.recommend(hist, RecommendOptions(k: 1, diversity: 0))
        XCTAssertEqual(one.map(\.itemId), [100], "the top-1 list must be the first item of the full ranking")
        XCTAssertEqual(m.explain(hist, item: one[0].itemId).rank, 1, "explain must rank the top-1 item first")
    }

    /// BUG: explain()'s Float shortcut bound is purely relative (terms * 1.2e-7 * ...). For tiny
    /// weights the Float products are subnormal, where rounding is absolute (up to half of
    /// Float.leastNonzeroMagnitude per operation), so two items whose Float scores differ by one
    /// subnormal step are "settled" in the wrong order.
    func testRegressionExplainRankWithSubnormalFloatProducts() throws {
        let u = Float.leastNonzeroMagnitude
        // History values (sum weighting): item 1 -> 0.45, item 2 -> 0.1.
        // Target 100: 0.45u + 0.4u = 0.85u exactly, Float: round(0.45u) + round(0.4u) = 0.
        // Target 200: 0.6u exactly, Float: round(0.6u) = u.
        let m = try makeModel(ids: [1, 2, 100, 200],
                              rows: [[0, 0, u, 0],
                                     [0, 0, 4 * u, 6 * u],
                                     [0, 0, 0, 0],
                                     [0, 0, 0, 0]], weighting: .sum)
        let hist = history([(1, 0.45), (2, 0.1)])
        let recs = try m.recommend(hist, RecommendOptions(k: maxK, diversity: 0))
        XCTAssertEqual(recs.map(\.itemId), [100, 200])
        XCTAssertEqual(m.explain(hist, item: 100).rank, 1)
        XCTAssertEqual(m.explain(hist, item: 200).rank, 2)
    }

    /// BUG: scores() converts each history value to Float; a finite value above Float.max (e.g.
    /// .sum weighting of a large amount) becomes inf, and inf * 0 = NaN for every item the history
    /// item has a zero weight to. topIndices skips NaN scores, so those items disappear from
    /// recommend() although their exact score (0 here) is finite.
    func testRegressionHugeHistoryValueDropsItems() throws {
        let m = try makeModel(ids: [1, 2, 3], rows: [[0, 0.5, 0], [0, 0, 0], [0, 0, 0]], weighting: .sum)
        let hist = history([(1, 1e39)])
        let recs = try m.recommend(hist, RecommendOptions(k: 10, diversity: 0))
        XCTAssertEqual(recs.map(\.itemId), [2, 3], "item 3 (exact score 0) must still be listed")
        XCTAssertEqual(m.explain(hist, item: 3).rank, 2)
    }
}
