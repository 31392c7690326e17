import Foundation
import XCTest
@testable import RecommenderCore

final class InteractionTests: XCTestCase {
    /// The value of (user, item) in a built matrix, or nil when the entry is absent.
    func entry(_ x: SparseMatrix, _ b: InteractionMatrixBuilder, user: Int64, item: Int64) -> Double? {
        guard let u = b.userIndex[user], let i = b.itemIndex[item] else { return nil }
        for t in x.rowStart[Int(u)]..<x.rowStart[Int(u) + 1] where x.colIndex[t] == i { return x.values[t] }
        return nil
    }

    func makeBuilder() throws -> InteractionMatrixBuilder {
        var b = InteractionMatrixBuilder()
        try b.add(user: 7, item: 100, weight: 2, time: nil)
        try b.add(user: 7, item: 100, weight: 3, time: nil)   // repeated: 5 in total
        try b.add(user: 7, item: 200, weight: 0.5, time: nil)
        try b.add(user: 8, item: 200, weight: 1, time: nil)
        try b.add(user: 8, item: 200, weight: 1, time: nil)
        try b.add(user: 8, item: 200, weight: 1, time: nil)   // 3 in total
        return b
    }

    func testRepeatedEventsSumUnderSumWeighting() throws {
        let b = try makeBuilder()
        let x = b.build(weighting: .sum)
        XCTAssertEqual(x.nonZeros, 3)
        XCTAssertEqual(entry(x, b, user: 7, item: 100), 5)
        XCTAssertEqual(entry(x, b, user: 7, item: 200), 0.5)
        XCTAssertEqual(entry(x, b, user: 8, item: 200), 3)
        XCTAssertNil(entry(x, b, user: 8, item: 100))
        XCTAssertEqual(b.events, 6)
    }

    func testBinaryWeighting() throws {
        let b = try makeBuilder()
        let x = b.build(weighting: .binary)
        XCTAssertEqual(entry(x, b, user: 7, item: 100), 1)
        XCTAssertEqual(entry(x, b, user: 7, item: 200), 1)
        XCTAssertEqual(entry(x, b, user: 8, item: 200), 1)
    }

    func testLogWeightingIsLog1pOfSum() throws {
        let b = try makeBuilder()
        let x = b.build(weighting: .log)
        XCTAssertEqual(entry(x, b, user: 7, item: 100)!, log(6.0), accuracy: 1e-12)
        XCTAssertEqual(entry(x, b, user: 7, item: 200)!, log(1.5), accuracy: 1e-12)
        XCTAssertEqual(entry(x, b, user: 8, item: 200)!, log(4.0), accuracy: 1e-12)
    }

    func testWeightingApply() {
        XCTAssertEqual(Weighting.binary.apply(0), 0)
        XCTAssertEqual(Weighting.binary.apply(0.01), 1)
        XCTAssertEqual(Weighting.binary.apply(42), 1)
        XCTAssertEqual(Weighting.sum.apply(2.5), 2.5)
        XCTAssertEqual(Weighting.log.apply(0), 0)
        XCTAssertEqual(Weighting.log.apply(exp(2.0) - 1), 2, accuracy: 1e-12)
        XCTAssertEqual(Set(Weighting.allCases.map(\.rawValue)), ["binary", "sum", "log", "power"])
    }

    func testRowsAreSortedByColumn() throws {
        var b = InteractionMatrixBuilder()
        for item in [5, 3, 9, 1] as [Int64] { try b.add(user: 1, item: item, weight: 1, time: nil) }
        try b.add(user: 2, item: 1, weight: 1, time: nil)
        try b.add(user: 1, item: 1, weight: 1, time: nil)
        let x = b.build(weighting: .sum)
        XCTAssertEqual(x.rowStart, [0, 4, 5])
        XCTAssertEqual(Array(x.colIndex[0..<4]), [0, 1, 2, 3])   // dense indices in first-seen order
        XCTAssertEqual(Array(x.values[0..<4]), [1, 1, 1, 2])     // item 1 (index 3) got two events
        XCTAssertEqual(b.itemUserCounts(), [1, 1, 1, 2])
    }

    func testZeroWeightsAreIgnored() throws {
        var b = InteractionMatrixBuilder()
        try b.add(user: 1, item: 10, weight: 0, time: 100)     // creates neither user nor item
        XCTAssertEqual(b.userCount, 0)
        XCTAssertEqual(b.itemCount, 0)
        XCTAssertEqual(b.maxTime, -.infinity)
        try b.add(user: 1, item: 20, weight: 1, time: 50)
        try b.add(user: 2, item: 20, weight: 0, time: 500)     // known item, zero weight: no new user
        XCTAssertEqual(b.userCount, 1)
        XCTAssertEqual(b.itemIds, [20])
        XCTAssertEqual(b.maxTime, 50)
        XCTAssertEqual(b.itemLastSeen, [50])
        XCTAssertEqual(b.events, 3)                             // still counted as read events
        let x = b.build(weighting: .sum)
        XCTAssertEqual(x.nonZeros, 1)
        XCTAssertEqual(x.cols, 1)
    }

    func testMaxItemsLimitThrows54000() throws {
        var b = InteractionMatrixBuilder(maxItems: 2)
        try b.add(user: 1, item: 10, weight: 1, time: nil)
        try b.add(user: 1, item: 20, weight: 1, time: nil)
        try b.add(user: 2, item: 20, weight: 1, time: nil)     // known item: fine
        assertRecError("54000", try b.add(user: 1, item: 30, weight: 1, time: nil))
        XCTAssertEqual(b.itemCount, 2)
        // Zero-weight events for new items never count against the limit.
        XCTAssertNoThrow(try b.add(user: 1, item: 40, weight: 0, time: nil))
    }

    func testValidateWeight() {
        XCTAssertNoThrow(try validateWeight(0, "w"))
        XCTAssertNoThrow(try validateWeight(3.5, "w"))
        XCTAssertNoThrow(try validateWeight(.greatestFiniteMagnitude, "w"))
        for bad in [Double.nan, .infinity, -.infinity, -1, -1e-300] {
            assertRecError("22003", try validateWeight(bad, "w"), "weight \(bad)")
        }
        do { try validateWeight(-2, "amount"); XCTFail() } catch let e as RecError {
            XCTAssertTrue(e.message.contains("amount"), e.message)
            XCTAssertNotNil(e.hint)
        } catch { XCTFail("\(error)") }
    }

    func testDecayedPopularityHalvesWithOneHalfLife() throws {
        let day = 86_400.0
        let t0 = 1_700_000_000.0
        var b = InteractionMatrixBuilder()
        try b.add(user: 1, item: 1, weight: 1, time: t0)               // newest event
        try b.add(user: 2, item: 2, weight: 1, time: t0 - 7 * day)     // one half-life old
        try b.add(user: 3, item: 3, weight: 1, time: t0 - 14 * day)    // two half-lives old
        try b.add(user: 4, item: 4, weight: 3, time: t0 - 7 * day)     // weight 3, one half-life
        try b.add(user: 5, item: 5, weight: 1, time: nil)              // no time at all
        let p = b.decayedPopularity(halfLife: 7 * day)
        XCTAssertEqual(p.count, 5)
        XCTAssertEqual(p[0], 1, accuracy: 1e-12)
        XCTAssertEqual(p[1], 0.5, accuracy: 1e-12)
        XCTAssertEqual(p[2], 0.25, accuracy: 1e-12)
        XCTAssertEqual(p[3], 1.5, accuracy: 1e-12)
        XCTAssertGreaterThan(p[4], 0)                                   // untimed items still count...
        XCTAssertLessThan(p[4], p[2])                                   // ...below every timed one
        XCTAssertEqual(b.itemLastSeen[1], t0 - 7 * day)
    }

    func testDecayedPopularityWithoutTimesCountsDistinctUsers() throws {
        var b = InteractionMatrixBuilder()
        try b.add(user: 1, item: 1, weight: 5, time: nil)
        try b.add(user: 1, item: 1, weight: 5, time: nil)
        try b.add(user: 2, item: 1, weight: 1, time: nil)
        try b.add(user: 2, item: 2, weight: 1, time: .nan)   // non-finite time is ignored
        XCTAssertEqual(b.maxTime, -.infinity)
        XCTAssertEqual(b.decayedPopularity(halfLife: 100), [2, 1])
        XCTAssertEqual(b.decayedPopularity(halfLife: 0), [2, 1])
    }
}
