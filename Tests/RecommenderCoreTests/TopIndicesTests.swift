import XCTest
@testable import RecommenderCore

final class TopIndicesTests: XCTestCase {
    func testOrderBestFirst() {
        let s: [Float] = [0.1, 0.9, -2, 0.5, 0.7]
        XCTAssertEqual(topIndices(s, count: 3, exclude: []), [1, 4, 3])
        XCTAssertEqual(topIndices(s, count: 1, exclude: []), [1])
    }

    func testTiesGoToLowerIndex() {
        let s: [Float] = [1, 3, 3, 2, 3, 1]
        XCTAssertEqual(topIndices(s, count: 2, exclude: []), [1, 2])
        XCTAssertEqual(topIndices(s, count: 4, exclude: []), [1, 2, 4, 3])
        XCTAssertEqual(topIndices(s, count: 6, exclude: []), [1, 2, 4, 3, 0, 5])
        XCTAssertEqual(topIndices([Float](repeating: 0, count: 8), count: 3, exclude: []), [0, 1, 2])
    }

    func testExclusion() {
        let s: [Float] = [5, 4, 3, 2, 1]
        XCTAssertEqual(topIndices(s, count: 2, exclude: [0, 2]), [1, 3])
        XCTAssertEqual(topIndices(s, count: 10, exclude: [0, 1, 2, 3, 4]), [])
        XCTAssertEqual(topIndices(s, count: 10, exclude: [99]), [0, 1, 2, 3, 4])
    }

    func testNaNSkippedInfinitiesKept() {
        let s: [Float] = [.nan, 1, .nan, -.infinity, .infinity, 0]
        XCTAssertEqual(topIndices(s, count: 10, exclude: []), [4, 1, 5, 3])
        XCTAssertEqual(topIndices(s, count: 2, exclude: []), [4, 1])
        XCTAssertEqual(topIndices([.nan, .nan], count: 3, exclude: []), [])
    }

    func testCountLargerThanNAndDegenerateCounts() {
        let s: [Float] = [2, 1, 3]
        XCTAssertEqual(topIndices(s, count: 100, exclude: []), [2, 0, 1])
        XCTAssertEqual(topIndices(s, count: 0, exclude: []), [])
        XCTAssertEqual(topIndices(s, count: -5, exclude: []), [])
        XCTAssertEqual(topIndices([], count: 5, exclude: []), [])
        XCTAssertEqual(topIndices(s, count: Int.max, exclude: []), [2, 0, 1])
    }

    func testMatchesSortOnRandomInput() {
        var rng = LCG(5)
        for trial in 0..<200 {
            let n = Int(rng.next() % 60)
            // few distinct values so that ties are common
            var s: [Float] = []
            for _ in 0..<n { let r: UInt64 = rng.next() % 7; s.append(Float(r) - 3) }
            let exclude = Set((0..<n).filter { _ in rng.next() % 5 == 0 }.map { Int32($0) })
            let count = Int(rng.next() % 70)
            let kept: [Int] = (0..<n).filter { !exclude.contains(Int32($0)) }
            let sorted: [Int] = kept.sorted { (a: Int, b: Int) -> Bool in s[a] != s[b] ? s[a] > s[b] : a < b }
            let expected: [Int32] = sorted.prefix(count).map { Int32($0) }
            XCTAssertEqual(topIndices(s, count: count, exclude: exclude), Array(expected), "trial \(trial)")
        }
    }
}
