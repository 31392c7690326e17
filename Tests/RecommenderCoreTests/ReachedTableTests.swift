import XCTest
@testable import RecommenderCore

/// The reached items' hash table (ReachedTable.swift) against a dictionary: inserts, scatters,
/// growth, emptying between calls, damaged indices.
final class ReachedTableTests: XCTestCase {
    func testItKeepsWhatADictionaryKeepsAcrossCallsAndGrowth() {
        var rng = LCG(23)
        var t = ReachedTable()
        for call in 0..<60 {
            let universe = [50, 1000, 200_000][call % 3]
            t.reset(expecting: call % 4 == 0 ? 0 : 100, items: universe)
            var want: [Int32: (Float, UInt8)] = [:]
            var order: [Int32] = []
            // a few seen items first
            for _ in 0..<(call % 5) {
                let j = Int32(rng.next() % UInt64(universe))
                t.flags[t.insert(j)] |= ReachedTable.seen
                if want[j] == nil { order.append(j); want[j] = (0, 0) }
                want[j]!.1 |= ReachedTable.seen
            }
            // rows scattered in
            for _ in 0..<(1 + call % 9) {
                let len = Int(rng.next() % 400)
                let cols = (0..<len).map { _ in rng.next() % 17 == 0 ? Int32(-3) : Int32(rng.next() % UInt64(universe + 5)) }
                let vals = (0..<len).map { _ in Float(Int(rng.next() % 200) - 100) / 37 }
                let x = Float(1 + rng.next() % 3)
                cols.withUnsafeBufferPointer { c in vals.withUnsafeBufferPointer { v in
                    t.scatter(c, v, 0..<len, times: x, limit: universe)
                } }
                for k in 0..<len where cols[k] >= 0 && Int(cols[k]) < universe {
                    let j = cols[k]
                    if want[j] == nil { order.append(j); want[j] = (0, 0) }
                    if want[j]!.1 & ReachedTable.reached == 0 { want[j]!.1 |= ReachedTable.reached; want[j]!.0 = 0 }
                    want[j]!.0 += x * vals[k]
                }
            }
            XCTAssertEqual(t.count, want.count, "call \(call)")
            if universe <= ReachedTable.directLimit {
                XCTAssertTrue(t.direct, "a small catalog: one slot per item")
                XCTAssertGreaterThanOrEqual(t.capacity, universe)
            } else {
                XCTAssertFalse(t.direct)
                XCTAssertLessThanOrEqual(2 * t.count, t.capacity, "at most half full")
            }
            XCTAssertEqual(t.order.map { t.keys[Int($0)] }, order, "call \(call): first-insertion order")
            for (j, (v, f)) in want {
                let s = t.find(j)
                XCTAssertGreaterThanOrEqual(s, 0)
                XCTAssertEqual(t.flags[s], f)
                XCTAssertEqual(t.scores[s].bitPattern, v.bitPattern, "call \(call) item \(j): the same sum in the same order")
                XCTAssertEqual(t.flags(of: j), f)
            }
            for _ in 0..<50 {
                let j = Int32(rng.next() % UInt64(universe))
                if want[j] == nil { XCTAssertEqual(t.find(j), -1); XCTAssertEqual(t.flags(of: j), 0) }
            }
        }
        // after a huge call, a small one gives the memory back
        t.reset(expecting: 1 << 20, items: 1 << 24)
        XCTAssertGreaterThanOrEqual(t.capacity, 1 << 21)
        t.reset(expecting: 10, items: 1 << 24)
        XCTAssertEqual(t.capacity, 64)
        t.reset(expecting: 10, items: 1000)
        XCTAssertTrue(t.direct)
        XCTAssertEqual(t.capacity, 1024)
        XCTAssertEqual(ReachedTable.size(for: 0), 64)
        XCTAssertEqual(ReachedTable.size(for: 33), 128)
        XCTAssertEqual(ReachedTable.size(for: 1000), 2048)
    }
}
