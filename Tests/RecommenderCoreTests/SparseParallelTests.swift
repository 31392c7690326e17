import XCTest
@testable import RecommenderCore

/// The sparse model's threaded stages (ParallelBlocks, SparseInverseFactor, SparseRowsOfB): the
/// result does not depend on the number of threads, and every share runs exactly once.
final class SparseParallelTests: XCTestCase {
    func testRunCallsEveryIndexOnceAndWaitsForAll() {
        for count in [1, 2, 3, 5] {
            var hits = [Int](repeating: 0, count: count)
            hits.withUnsafeMutableBufferPointer { h in
                ParallelBlocks.run(count) { t in
                    var s = 0
                    for i in 0..<200_000 { s &+= i ^ t }   // some work, so that the threads overlap
                    h[t] += 1 + (s == -1 ? 1 : 0)
                }
            }
            XCTAssertEqual(hits, [Int](repeating: 1, count: count), "count \(count)")
        }
    }

    func fit(_ x: SparseMatrix, density: Double, threads: Int, flops: Double) throws -> SANSA.Result {
        let savedThreads = ParallelBlocks.threads, savedFlops = SANSA.maxFactorFlops
        defer { ParallelBlocks.threads = savedThreads; SANSA.maxFactorFlops = savedFlops }
        ParallelBlocks.threads = threads
        SANSA.maxFactorFlops = flops
        return try SANSA.fit(gram: SparseGram.build(x), lambda: 10, density: density)
    }

    func assertSame(_ a: SparseItemWeights, _ b: SparseItemWeights, _ what: String) {
        XCTAssertEqual(a.n, b.n, what)
        XCTAssertEqual(Array(a.rowStart), Array(b.rowStart), what)
        XCTAssertEqual(Array(a.cols), Array(b.cols), what)
        XCTAssertEqual(Array(a.vals), Array(b.vals), what)
    }

    func testTheIncompleteFactorsLanesGiveTheSameFactorOnOneAndTwoThreads() throws {
        // every column split between the two lanes (splitWork 0), and none (the whole sum in one
        // lane): the same factor on one and two threads, bit for bit; the split one equal to the
        // unsplit one to rounding (only the order of the sums differs)
        var rng = LCG(5)
        var b = InteractionMatrixBuilder()
        for u in 0..<1_500 {
            for _ in 0..<(3 + Int(rng.next() % 15)) {
                let r = Double(rng.next() % 1_000_000) / 1_000_000
                try b.add(user: Int64(u), item: Int64(exp(r * log(400.0))), weight: 1, time: nil)
            }
        }
        let g = try SparseGram.build(b.build(weighting: .log))
        var a = g
        for j in 0..<a.n where a.colStart[j] < a.colStart[j + 1] && Int(a.rowIndex[a.colStart[j]]) == j { a.values[a.colStart[j]] += 5 }
        let saved = IncompleteLDL.splitWork
        defer { IncompleteLDL.splitWork = saved }
        IncompleteLDL.splitWork = Int.max
        let whole = try IncompleteLDL.factor(a, keep: 12, threads: 1)
        IncompleteLDL.splitWork = 0
        let one = try IncompleteLDL.factor(a, keep: 12, threads: 1)
        for _ in 0..<3 {
            let two = try IncompleteLDL.factor(a, keep: 12, threads: 2)
            XCTAssertEqual(one.d, two.d); XCTAssertEqual(one.colStart, two.colStart)
            XCTAssertEqual(one.rowIndex, two.rowIndex); XCTAssertEqual(one.values, two.values)
            XCTAssertEqual(one.dropped, two.dropped)
        }
        XCTAssertGreaterThan(one.dropped, 0)
        XCTAssertEqual(one.d.count, whole.d.count)
        for j in 0..<one.d.count { XCTAssertEqual(one.d[j], whole.d[j], accuracy: 1e-9 * abs(whole.d[j])) }
        XCTAssertEqual(one.values.count, whole.values.count)
    }

    func testTheThreadsGiveTheSameModelAsOneThread() throws {
        // 1,100 items: more than one block of the inverse factor's columns (1,024) and of the
        // rows of B (256); the incomplete factor (flop ceiling forced low) and the exact one
        var rng = LCG(11)
        var b = InteractionMatrixBuilder()
        for u in 0..<2_500 {
            for _ in 0..<(3 + Int(rng.next() % 12)) {
                // Zipf-like: item ~ exp(uniform * ln n)
                let r = Double(rng.next() % 1_000_000) / 1_000_000
                try b.add(user: Int64(u), item: Int64(exp(r * log(1_100.0))), weight: 1, time: nil)
            }
        }
        let x = b.build(weighting: .log)
        XCTAssertGreaterThan(x.cols, 1_024)
        for flops in [1e3, 1e12] {
            let one = try fit(x, density: 0.01, threads: 1, flops: flops)
            XCTAssertEqual(one.incomplete, flops < 1e4)
            XCTAssertGreaterThan(one.weights.nonZeros, x.cols * 5)
            for threads in [2, 3] {
                let many = try fit(x, density: 0.01, threads: threads, flops: flops)
                assertSame(one.weights, many.weights, "\(threads) threads, flop ceiling \(flops)")
            }
        }
        // dense EASE at density 1 on two threads too (the unit tests against EASE run on the default)
        var sb = InteractionMatrixBuilder()
        for u in 0..<80 { for item in 0..<31 where rng.next() % UInt64(2 + item / 3) == 0 {
            try sb.add(user: Int64(u), item: Int64(item), weight: Double(1 + rng.next() % 5), time: nil)
        } }
        let small = sb.build(weighting: .sum)
        assertSame(try fit(small, density: 1, threads: 1, flops: 1e12).weights,
                   try fit(small, density: 1, threads: 2, flops: 1e12).weights, "density 1")
    }

    func testTheInverseFactorPropagatesAtMostItsCapPerColumn() throws {
        // a dense unit lower factor (every column of L full) of 60 items: unlimited, column a
        // propagates every one of its 59 - a entries below the diagonal and itself
        let n = 60
        var start = [0], row: [Int32] = [], val: [Double] = []
        for j in 0..<n { for i in (j + 1)..<max(j + 1, n) { row.append(Int32(i)); val.append(0.1 + 0.01 * Double((i * 7 + j) % 13)) }; start.append(row.count) }
        let full = try SparseInverseFactor.columns(n: n, lStart: start, lRow: row, lVal: val, kCap: 10, exact: false, fillRel: 0,
                                                   interrupt: neverInterrupted)
        XCTAssertGreaterThan(full.propagated, n * 5)
        for cap in [1, 5] {
            let k = try SparseInverseFactor.columns(n: n, lStart: start, lRow: row, lVal: val, kCap: 10, exact: false, fillRel: 0,
                                                    maxPropagated: cap, interrupt: neverInterrupted)
            XCTAssertLessThanOrEqual(k.propagated, n * cap)
            // each column still keeps its diagonal and at most kCap entries
            for a in 0..<n {
                XCTAssertEqual(k.row[k.start[a]], Int32(a))
                XCTAssertLessThanOrEqual(k.start[a + 1] - k.start[a], 10)
            }
        }
    }
}
