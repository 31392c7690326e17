import XCTest
@testable import RecommenderCore

/// Issue 8, items 1, 4, 5 and 6: sizing before allocation, validation of a trained model before
/// its version is stored, and k rows for histories without any relevance signal.
final class MemoryBudgetTests: XCTestCase {
    func testByteArithmeticReportsOverflowInsteadOfTrapping() {
        XCTAssertEqual(Bytes.matrix(1000, 1000, 8).value, 8_000_000)
        XCTAssertNil(Bytes.matrix(Int.max / 2, 4, 8).value)
        XCTAssertNil((Bytes(Int.max) + Bytes(1)).value)
        XCTAssertNil(Bytes.elements(-1, 8).value)
        XCTAssertTrue(Bytes(5) < Bytes(nil))          // an overflowed figure exceeds every limit
        XCTAssertEqual(Bytes.max(Bytes(nil), Bytes(3)).value, nil)
        // an absurd shape never traps: it is "too much"
        XCTAssertNil(MemoryBudget.training(TrainingShape(items: Int.max / 4, similarityDims: 48)).value)
    }

    func testTrainingPeakIsTheSolvePhase() throws {
        // G (8 n^2) and B (4 n^2) are alive together in the solve: 12 n^2 plus O(n) terms, and
        // no copy of G (the old peak: G + a copy for keep_gram + a copy for similarity vectors).
        for n in [1000, 10_000, 30_000] {
            let peak = try XCTUnwrap(MemoryBudget.training(TrainingShape(items: n, nonZeros: 20 * n, users: 3 * n,
                                                                         similarityDims: 48, contentDims: 256)).value)
            let n2 = n * n
            XCTAssertGreaterThanOrEqual(peak, 12 * n2, "n = \(n)")
            XCTAssertLessThan(peak, 12 * n2 + (128 << 20) + n * 6000, "n = \(n)")
        }
        // 30,000 items: about 10 GB, not the 7.2 GB copy on top of G that killed the server
        let big = MemoryBudget.training(TrainingShape(items: 30_000, similarityDims: 48)).value ?? 0
        XCTAssertEqual(Double(big) / 1e9, 10.8, accuracy: 0.2)
    }

    func testSequentialComponentRaisesThePeakTo24NSquared() throws {
        // With sequence_weight > 0, G, SᵀS and SᵀT (8 n^2 each) are alive together before the
        // joint solve: 24 n^2, more than the 12 n^2 of the plain solve.
        for n in [1000, 10_000] {
            let plain = try XCTUnwrap(MemoryBudget.training(TrainingShape(items: n, nonZeros: 20 * n, users: 3 * n)).value)
            let seq = try XCTUnwrap(MemoryBudget.training(TrainingShape(items: n, nonZeros: 20 * n, users: 3 * n, sequence: true)).value)
            XCTAssertGreaterThanOrEqual(seq, 24 * n * n, "n = \(n)")
            XCTAssertGreaterThanOrEqual(seq - plain, 12 * n * n, "n = \(n)")
        }
    }

    func testServedModelSize() {
        let b = MemoryBudget.model(items: 991, catalogItems: 991, similarityDims: 0, contentDims: 0, categories: true).value
        XCTAssertEqual(b, 4 * 991 * 991 + 120 * 991)
        let c = MemoryBudget.model(items: 100, catalogItems: 150, similarityDims: 48, contentDims: 256, categories: false).value
        XCTAssertEqual(c, 4 * 100 * 100 + 4 * 150 * 48 + 4 * 150 * 256 + 80 * 150)
    }

    func testCheckNamesTheLimitAndTheFigure() {
        do {
            try MemoryBudget.check(Bytes(3 << 30), what: "training of model \"m\"", limit: 1 << 30,
                                   setting: "recommender.max_training_memory", available: nil, hint: "lower max_items.")
            XCTFail("no error")
        } catch let e as RecError {
            XCTAssertEqual(e.sqlstate, "54000")
            XCTAssertTrue(e.message.contains("3 GB"), e.message)
            XCTAssertTrue(e.message.contains("recommender.max_training_memory (1 GB)"), e.message)
            XCTAssertTrue(e.hint?.contains("Raise recommender.max_training_memory") ?? false)
            XCTAssertTrue(e.hint?.contains("max_items") ?? false)
        } catch { XCTFail("\(error)") }
        // what the machine has: 53200
        assertRecError("53200", try MemoryBudget.check(Bytes(3 << 30), what: "x", limit: 4 << 30, setting: "s",
                                                       available: 2 << 30, hint: "h"))
        // an overflowed figure: 54000, never a trap
        assertRecError("54000", try MemoryBudget.check(Bytes(nil), what: "x", limit: nil, setting: "s", available: nil, hint: "h"))
        XCTAssertNoThrow(try MemoryBudget.check(Bytes(1 << 30), what: "x", limit: 1 << 30, setting: "s", available: 2 << 30, hint: "h"))
    }

    func testFormatBytes() {
        XCTAssertEqual(formatBytes(512), "512 bytes")
        XCTAssertEqual(formatBytes(1536), "1.5 kB")
        XCTAssertEqual(formatBytes(1 << 30), "1 GB")
        XCTAssertEqual(formatBytes(7_200_000_032), "6.7 GB")
    }

    // Items 4 and 5: a trained model is validated before its version is stored.
    func testNonFiniteGramAndWeightsAreRejected() {
        assertRecError("22003", try ModelValidation.checkGram([1, 0, 0, .infinity], n: 2, model: "m", weighting: .sum))
        XCTAssertNoThrow(try ModelValidation.checkGram([1, 0.5, 0.5, 1e300], n: 2, model: "m", weighting: .sum))
        assertRecError("22003", try ModelValidation.checkWeights([0, .nan, 1, 0], model: "m", weighting: .sum))
        assertRecError("22003", try ModelValidation.checkWeights([0, -.infinity], model: "m", weighting: .sum))
        XCTAssertNoThrow(try ModelValidation.checkWeights([0, -1, 3e38], model: "m", weighting: .sum))
    }

    func testSumOfHugeWeightsOverflowsIntoAClearError() throws {
        // 'sum' with 1e300: X^T X overflows; detected on the Gram diagonal before the solve
        var b = InteractionMatrixBuilder()
        try b.add(user: 1, item: 10, weight: 1e300, time: nil)
        try b.add(user: 1, item: 11, weight: 1, time: nil)
        let g = try EASE.gram(b.build(weighting: .sum))
        assertRecError("22003", try ModelValidation.checkGram(g, n: 2, model: "m", weighting: .sum))
        // 'power' with two 1e308 on one pair: the sum (the power scale) overflows at add()
        var p = InteractionMatrixBuilder()
        try p.add(user: 1, item: 10, weight: 1e308, time: nil)
        assertRecError("22003", try p.add(user: 1, item: 10, weight: 1e308, time: nil))
        XCTAssertTrue(p.maxTotal().isFinite)
    }

    func testDerivedValuesAndLimitsShareTheLoadingConstants() {
        assertRecError("22003", try ModelValidation.number(.infinity, "weight_scale", model: "m"))
        assertRecError("22003", try ModelValidation.number(.nan, "content_beta", model: "m"))
        XCTAssertEqual(try ModelValidation.number(0.5, "x", model: "m"), "0.5")
        assertRecError("54000", try ModelValidation.checkContentDims(9000, model: "m"))
        XCTAssertNoThrow(try ModelValidation.checkContentDims(ModelLimits.maxContentDims, model: "m"))
    }

    func testInfiniteTimesAreRejectedWithTheColumn() {
        do {
            try ModelValidation.checkTime(.infinity, user: 43, item: 1, model: "m", column: { "occurred_at" })
            XCTFail("no error")
        } catch let e as RecError {
            XCTAssertEqual(e.sqlstate, "22003")
            XCTAssertTrue(e.message.contains("occurred_at"), e.message)
        } catch { XCTFail("\(error)") }
        assertRecError("22003", try ModelValidation.checkTime(-.infinity, user: 1, item: 1, model: "m", column: { "t" }))
        assertRecError("22003", try ModelValidation.checkTime(.nan, user: 1, item: 1, model: "m", column: { "t" }))
        XCTAssertNoThrow(try ModelValidation.checkTime(nil, user: 1, item: 1, model: "m", column: { "t" }))
        XCTAssertNoThrow(try ModelValidation.checkTime(1.7e9, user: 1, item: 1, model: "m", column: { "t" }))
    }

    // Item 6: subnormal weights must still give k rows.
    func testSubnormalHistoryStillGivesKRowsByPopularity() throws {
        // weights are exactly zero (a Gram matrix of subnormal values underflows to 0)
        let ids: [Int64] = [1, 2, 3, 4, 5, 6]
        let m = try makeModel(ids: ids, rows: [[Float]](repeating: [Float](repeating: 0, count: 6), count: 6),
                              popularity: [5, 1, 4, 2, 6, 3], weighting: .sum)
        let h = history([(1, 4.9e-324)])
        // the float scale stays finite (it overflowed to infinity: every score NaN, no rows)
        XCTAssertTrue(m.floatScale(m.prepare(h)).isFinite)
        let recs = try m.recommend(h, RecommendOptions(k: 4, diversity: 0))
        XCTAssertEqual(recs.map(\.itemId), [5, 3, 6, 4])           // popularity order, item 1 (seen) left out
        XCTAssertEqual(Set(recs.map(\.source)), ["popular"])
        XCTAssertEqual(try m.recommend(h, RecommendOptions(k: 10, diversity: 0.5)).count, 5)
        // explain agrees: the popularity fallback
        XCTAssertEqual(m.explain(h, item: 5).status, .coldUser)
        XCTAssertEqual(m.explain(h, item: 5).rank, 1)
    }

    func testSignalKeepsModelScores() throws {
        let m = try makeModel(ids: [1, 2, 3], rows: [[0, 1e-30, 0], [0, 0, 0], [0, 0, 0]], popularity: [1, 1, 9], weighting: .sum)
        let recs = try m.recommend(history([(1, 1.0)]), RecommendOptions(k: 2, diversity: 0))
        XCTAssertEqual(recs.first?.itemId, 2)
        XCTAssertEqual(recs.first?.source, "model")
    }
}
