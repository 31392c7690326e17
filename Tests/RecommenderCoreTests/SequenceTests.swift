import XCTest
@testable import RecommenderCore

/// Recency weighting at scoring and the sequential component, against hand-computed small cases.
final class RecencyTests: XCTestCase {
    func testWeight() {
        XCTAssertEqual(Recency.weight(ageRank: 0, halfLife: 5), 1)
        XCTAssertEqual(Recency.weight(ageRank: 5, halfLife: 5), 0.5, accuracy: 1e-15)
        XCTAssertEqual(Recency.weight(ageRank: 10, halfLife: 5), 0.25, accuracy: 1e-15)
        XCTAssertEqual(Recency.weight(ageRank: 3, halfLife: 1), 0.125, accuracy: 1e-15)
        XCTAssertEqual(Recency.weight(ageRank: 7, halfLife: 0), 1, "half-life 0 turns recency off")
        XCTAssertEqual(Recency.weight(ageRank: 7, halfLife: .nan), 1)
    }

    func testAgeRanksShareTiesAndPutUntimedLast() {
        let r = Recency.ageRanks([1: 10, 2: 20, 3: 20, 4: nil, 5: 5])
        XCTAssertEqual(r[2], 0); XCTAssertEqual(r[3], 0)      // the newest two share rank 0
        XCTAssertEqual(r[1], 2)                               // two items are newer
        XCTAssertEqual(r[5], 3)
        XCTAssertEqual(r[4], 4)                               // no time: behind every timed item
        XCTAssertEqual(Recency.ageRanks([1: nil, 2: nil]), [1: 0, 2: 0], "without times nothing is decayed")
    }

    func testHistoryKeepsLatestTime() {
        var h = History()
        h.add(item: 7, weight: 1, time: 100)
        h.add(item: 7, weight: 2, time: 50)
        h.add(item: 7, weight: 1, time: 300)
        h.add(item: 8, weight: 1)
        XCTAssertEqual(h.lastTime[7] ?? nil, 300)
        XCTAssertEqual(h.lastTime[8] ?? nil, nil)
        XCTAssertEqual(h.totals[7], 4)
    }

    /// Items 0, 1, 2 with B = [[0, 2, 4], [1, 0, 8], [3, 5, 0]] (binary weighting). History: item
    /// 0 at t = 1, item 1 at t = 2; half-life 1: r_1 = 1 (newest), r_0 = 0.5.
    /// Score of item 2 = 0.5 * 4 + 1 * 8 = 10 (without recency: 12).
    func testScoresAndExplanationWithRecency() throws {
        let m = try ItemModel(version: 1, itemIds: [10, 11, 12], weights: [0, 2, 4, 1, 0, 8, 3, 5, 0],
                              popularity: [3, 2, 1], categories: nil, similarityDims: 0, similarityVectors: [],
                              weighting: .binary)
        var h = History()
        h.add(item: 10, weight: 1, time: 1)
        h.add(item: 11, weight: 1, time: 2)
        XCTAssertEqual(try m.recommend(h, RecommendOptions(k: 1, diversity: 0)).first?.score, 12)
        h.recencyHalfLife = 1
        let rec = try m.recommend(h, RecommendOptions(k: 1, diversity: 0))
        XCTAssertEqual(rec.first?.itemId, 12)
        XCTAssertEqual(rec.first?.score ?? 0, 10, accuracy: 1e-12)
        let e = m.explain(h, item: 12)
        XCTAssertEqual(e.score ?? 0, 10, accuracy: 1e-12)
        XCTAssertEqual(e.parts.map(\.contribution).reduce(0, +), e.score ?? .nan, accuracy: 1e-12)
        let p0 = try XCTUnwrap(e.parts.first { $0.itemId == 10 })
        let p1 = try XCTUnwrap(e.parts.first { $0.itemId == 11 })
        XCTAssertEqual(p0.recency, 0.5); XCTAssertEqual(p0.ageRank, 1); XCTAssertEqual(p0.contribution, 2, accuracy: 1e-12)
        XCTAssertEqual(p1.recency, 1); XCTAssertEqual(p1.ageRank, 0); XCTAssertEqual(p1.contribution, 8, accuracy: 1e-12)
    }

    func testWeightWithFloor() {
        // 0.2 + 0.8 x 0.5^(rank / h)
        XCTAssertEqual(Recency.weight(ageRank: 0, halfLife: 5, floor: 0.2), 1)
        XCTAssertEqual(Recency.weight(ageRank: 5, halfLife: 5, floor: 0.2), 0.6, accuracy: 1e-15)
        XCTAssertEqual(Recency.weight(ageRank: 10, halfLife: 5, floor: 0.2), 0.4, accuracy: 1e-15)
        XCTAssertEqual(Recency.weight(ageRank: 1000, halfLife: 1, floor: 0.1), 0.1, accuracy: 1e-15, "an old item keeps the floor")
        XCTAssertEqual(Recency.weight(ageRank: 3, halfLife: 1, floor: 1), 1, "floor 1 weighs every item fully")
        XCTAssertEqual(Recency.weight(ageRank: 7, halfLife: 0, floor: 0.5), 1, "half-life 0 turns recency off, floor or not")
        // a floor out of range or not a number counts as 0 (the table's CHECK keeps it in range)
        XCTAssertEqual(Recency.weight(ageRank: 5, halfLife: 5, floor: -1), 0.5, accuracy: 1e-15)
        XCTAssertEqual(Recency.weight(ageRank: 5, halfLife: 5, floor: 2), 0.5, accuracy: 1e-15)
        XCTAssertEqual(Recency.weight(ageRank: 5, halfLife: 5, floor: .nan), 0.5, accuracy: 1e-15)
    }

    /// The model of testScoresAndExplanationWithRecency with half-life 1 and floor 0.5: item 0's
    /// weight is 0.5 + 0.5 x 0.5 = 0.75, item 1's 1. Score of item 2 = 0.75 * 4 + 1 * 8 = 11.
    func testScoresAndExplanationWithRecencyFloor() throws {
        let m = try ItemModel(version: 1, itemIds: [10, 11, 12], weights: [0, 2, 4, 1, 0, 8, 3, 5, 0],
                              popularity: [3, 2, 1], categories: nil, similarityDims: 0, similarityVectors: [],
                              weighting: .binary)
        var h = History()
        h.add(item: 10, weight: 1, time: 1)
        h.add(item: 11, weight: 1, time: 2)
        h.recencyHalfLife = 1
        h.recencyFloor = 0.5
        let rec = try m.recommend(h, RecommendOptions(k: 1, diversity: 0))
        XCTAssertEqual(rec.first?.itemId, 12)
        XCTAssertEqual(rec.first?.score ?? 0, 11, accuracy: 1e-12)
        let e = m.explain(h, item: 12)
        XCTAssertEqual(e.parts.map(\.contribution).reduce(0, +), 11, accuracy: 1e-12)
        let p0 = try XCTUnwrap(e.parts.first { $0.itemId == 10 })
        XCTAssertEqual(p0.recency, 0.75); XCTAssertEqual(p0.contribution, 3, accuracy: 1e-12)
    }
}

final class SequenceModelTests: XCTestCase {
    /// One sequence a, b, c (values 1), window 8, half-life 2: s = 0.5^(1/2).
    /// t = 0: input {a: 1}, target {b: 1, c: s}.  t = 1: input {b: 1, a: s}, target {c: 1}.
    /// SᵀS: aa = 1 + s² = 1.5, bb = 1, ab = ba = s.  SᵀT: a→b = 1, a→c = s + s = 2s, b→c = 1.
    func testGramsByHand() throws {
        let s = 0.5.squareRoot()
        let (ss, st) = try SequenceModel.grams(sequences: [[(0, 1), (1, 1), (2, 1)]], n: 3, window: 8, halfLife: 2)
        let wantSS: [Double] = [1.5, s, 0, s, 1, 0, 0, 0, 0]
        let wantST: [Double] = [0, 1, 2 * s, 0, 0, 1, 0, 0, 0]
        for t in 0..<9 {
            XCTAssertEqual(ss[t], wantSS[t], accuracy: 1e-12, "SᵀS[\(t)]")
            XCTAssertEqual(st[t], wantST[t], accuracy: 1e-12, "SᵀT[\(t)]")
        }
    }

    /// sequence_half_life h sets the window to 4 h positions (2 to 32): h = 2 is the former window 8.
    func testWindowForHalfLife() {
        XCTAssertEqual(SequenceModel.window(forHalfLife: 2), 8)
        XCTAssertEqual(SequenceModel.window(forHalfLife: 4), 16)
        XCTAssertEqual(SequenceModel.window(forHalfLife: 1), 4)
        XCTAssertEqual(SequenceModel.window(forHalfLife: 0.5), 2)
        XCTAssertEqual(SequenceModel.window(forHalfLife: 8), 32)
        XCTAssertEqual(SequenceModel.window(forHalfLife: 0.1), 2)
        XCTAssertEqual(SequenceModel.window(forHalfLife: 100), 32)
        XCTAssertEqual(SequenceModel.window(forHalfLife: .nan), SequenceModel.window)
        XCTAssertTrue(SequenceModel.halfLifeRange.contains(SequenceModel.halfLife))
    }

    /// a, b, c, d (values 1) with h = 0.5, so window 2 and decay 0.5^(d / 0.5) = 0.25 at d = 1:
    /// t = 0: {a: 1} -> {b: 1, c: .25};  t = 1: {b: 1, a: .25} -> {c: 1, d: .25};  t = 2: {c: 1, b: .25} -> {d: 1}.
    /// SᵀS: aa = 1 + .0625, ab = .25, bb = 1 + .0625, bc = .25, cc = 1.
    /// SᵀT: a→b 1, a→c .25 + .25 = .5, a→d .0625, b→c 1, b→d .25 + .25 = .5, c→d 1.
    func testShortHalfLifeByHand() throws {
        let h = 0.5
        let (ss, st) = try SequenceModel.grams(sequences: [[(0, 1), (1, 1), (2, 1), (3, 1)]], n: 4,
                                               window: SequenceModel.window(forHalfLife: h), halfLife: h)
        let wantSS: [Double] = [1.0625, 0.25, 0, 0,  0.25, 1.0625, 0.25, 0,  0, 0.25, 1, 0,  0, 0, 0, 0]
        let wantST: [Double] = [0, 1, 0.5, 0.0625,  0, 0, 1, 0.5,  0, 0, 0, 1,  0, 0, 0, 0]
        for t in 0..<16 {
            XCTAssertEqual(ss[t], wantSS[t], accuracy: 1e-12, "SᵀS[\(t)]")
            XCTAssertEqual(st[t], wantST[t], accuracy: 1e-12, "SᵀT[\(t)]")
        }
    }

    func testWindowLimitsTheContext() throws {
        // window 1: only the item right before the split and the one right after
        let (ss, st) = try SequenceModel.grams(sequences: [[(0, 1), (1, 1), (2, 1)]], n: 3, window: 1, halfLife: 2)
        XCTAssertEqual(ss, [1, 0, 0, 0, 1, 0, 0, 0, 0])
        XCTAssertEqual(st, [0, 1, 0, 0, 0, 1, 0, 0, 0])
    }

    func testValuesAndRowScale() throws {
        let (ss, st) = try SequenceModel.grams(sequences: [[(0, 2), (1, 3)]], rowScale: [0.5], n: 2, window: 1, halfLife: 2)
        XCTAssertEqual(ss, [2, 0, 0, 0])     // 2 * 2 * 0.5
        XCTAssertEqual(st, [0, 3, 0, 0])     // 2 * 3 * 0.5
    }

    func testCollectorOrdersByFirstTimeThenId() throws {
        var b = InteractionMatrixBuilder()
        var c = SequenceCollector()
        let events: [(Int64, Int64, Double)] = [(1, 30, 5), (1, 20, 1), (1, 10, 5), (1, 30, 0), (1, 40, 9)]
        for (u, i, t) in events {
            try b.add(user: u, item: i, weight: 1, time: t)
            c.add(user: u, item: i, weight: 1, time: t)
        }
        let seq = c.sequences(b, transform: ValueTransform(.binary))
        // first times: 30 -> 0 (its second event), 20 -> 1, 10 -> 5, 40 -> 9
        XCTAssertEqual(seq[0].map { b.itemIds[Int($0.0)] }, [30, 20, 10, 40])
    }
}
