import XCTest
@testable import RecommenderCore

final class SelectionTests: XCTestCase {
    /// The first k after selectBest are the set the first k of a sort would be, for every k,
    /// with ties in magnitude (broken by the index, as the sparse training does), sorted and
    /// reversed inputs (the median-of-three's bad cases) and a constant run.
    func testSelectsTheSetASortWouldPutFirst() {
        var rng = SplitMix(seed: 42)
        let better: ((Int32, Double), (Int32, Double)) -> Bool = { abs($0.1) != abs($1.1) ? abs($0.1) > abs($1.1) : $0.0 < $1.0 }
        var inputs: [[(Int32, Double)]] = []
        for n in [1, 2, 3, 5, 17, 100, 1000] {
            inputs.append((0..<n).map { (Int32($0), Double(Int(rng.next() % 7)) - 3) })            // many ties, signs
            inputs.append((0..<n).map { (Int32($0), Double(rng.next() % 1_000_000) / 7) })
            inputs.append((0..<n).map { (Int32($0), Double($0)) })                                 // increasing
            inputs.append((0..<n).map { (Int32($0), Double(n - $0)) })                             // decreasing
            inputs.append((0..<n).map { (Int32($0), 1.0) })                                        // all tied
        }
        for input in inputs {
            let sorted = input.sorted(by: better)
            for k in [0, 1, 2, input.count / 2, input.count - 1, input.count, input.count + 3] {
                var a = input.shuffled(using: &rng)
                a.withUnsafeMutableBufferPointer { Selection.selectBest($0, k, by: better) }
                let m = min(max(k, 0), input.count)
                XCTAssertEqual(Set(a[..<m].map { $0.0 }), Set(sorted[..<m].map { $0.0 }), "n \(input.count) k \(k)")
                XCTAssertEqual(Set(a.map { $0.0 }).count, input.count, "a permutation")
            }
        }
    }
}

/// A small deterministic generator for the tests (SplitMix64).
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}
