import XCTest
import COpenBLAS
@testable import RecommenderCore

#if canImport(Glibc)
import Glibc
#endif

final class BlockedCholeskyTests: XCTestCase {
    /// A random symmetric positive definite matrix shaped like the regularised Gram matrix of
    /// EASE: X^T X of a sparse 0/1 matrix, plus lambda on the diagonal.
    func randomSPD(_ n: Int, seed: UInt64, lambda: Double = 5) -> [Double] {
        var rng = SplitMix64(seed: seed)
        let users = max(4, 3 * n)
        var g = [Double](repeating: 0, count: n * n)
        for _ in 0..<users {
            var row: [Int] = []
            for i in 0..<n where rng.nextUnit() < min(0.5, 8 / Double(n)) { row.append(i) }
            for a in row { for b in row { g[a * n + b] += 1 } }
        }
        for i in 0..<n { g[i * n + i] += lambda + rng.nextUnit() }
        return g
    }

    /// The unblocked reference: LAPACK dpotrf + dpotri on the whole matrix, mirrored.
    func lapackInverse(_ m: [Double], n: Int) -> [Double] {
        var a = m
        var info: Int32 = 0
        var nn = Int32(n)
        var uplo = Int8(UInt8(ascii: "L"))
        a.withUnsafeMutableBufferPointer { p in dpotrf_(&uplo, &nn, p.baseAddress, &nn, &info) }
        XCTAssertEqual(info, 0)
        a.withUnsafeMutableBufferPointer { p in dpotri_(&uplo, &nn, p.baseAddress, &nn, &info) }
        XCTAssertEqual(info, 0)
        for c in 0..<n { for r in (c + 1)..<max(c + 1, n) { a[r * n + c] = a[c * n + r] } }
        return a
    }

    func relativeDifference(_ x: [Double], _ y: [Double]) -> Double {
        var d = 0.0, m = 0.0
        for (a, b) in zip(x, y) { d = max(d, abs(a - b)); m = max(m, abs(b)) }
        return m > 0 ? d / m : d
    }

    func testEqualsLAPACKAtSizesAroundTheBlockSize() throws {
        // sizes 1, smaller than a block, multiples and non-multiples of the block size
        let cases: [(n: Int, nb: Int, chunk: Double)] = [
            (1, 256, 1e8), (2, 256, 1e8), (7, 256, 1e8), (100, 256, 1e8), (256, 256, 1e8), (300, 256, 1e8),
            (513, 256, 1e8), (1, 1, 1e4), (5, 1, 1e4), (9, 4, 1e4), (16, 4, 1e4), (33, 8, 1e4), (64, 16, 1e4),
            (100, 32, 1e4), (129, 32, 1e5), (257, 64, 1e5), (400, 128, 1e6),
        ]
        for (t, c) in cases.enumerated() {
            let a = randomSPD(c.n, seed: UInt64(100 + t))
            let ref = lapackInverse(a, n: c.n)
            var p = a
            try BlockedCholesky.invert(&p, n: c.n, blockSize: c.nb, maxChunkFlops: c.chunk)
            let rel = relativeDifference(p, ref)
            XCTAssertLessThan(rel, 1e-10, "n=\(c.n) nb=\(c.nb): relative difference \(rel)")
            // both triangles hold P
            var asym = 0.0
            for i in 0..<c.n { for j in 0..<c.n { asym = max(asym, abs(p[i * c.n + j] - p[j * c.n + i])) } }
            XCTAssertEqual(asym, 0, "n=\(c.n): not symmetric")
        }
    }

    func testInverseTimesMatrixIsIdentity() throws {
        let n = 150
        let a = randomSPD(n, seed: 7)
        var p = a
        try BlockedCholesky.invert(&p, n: n, blockSize: 32, maxChunkFlops: 1e5)
        var worst = 0.0
        for i in 0..<n {
            for j in 0..<n {
                var s = 0.0
                for t in 0..<n { s += a[i * n + t] * p[t * n + j] }
                worst = max(worst, abs(s - (i == j ? 1 : 0)))
            }
        }
        XCTAssertLessThan(worst, 1e-10)
    }

    func testFactorIsCholesky() throws {
        let n = 70
        let a = randomSPD(n, seed: 9)
        var l = a
        try BlockedCholesky.factor(&l, n: n, blockSize: 16, maxChunkFlops: 1e4)
        // column-major lower: L(r, c) at l[c * n + r], r >= c
        var worst = 0.0
        for r in 0..<n {
            for c in 0...r {
                var s = 0.0
                for t in 0...c { s += l[t * n + r] * l[t * n + c] }
                worst = max(worst, abs(s - a[c * n + r]))
            }
        }
        XCTAssertLessThan(worst, 1e-10)
    }

    func testNotPositiveDefiniteIsAnError() {
        let n = 40
        var a = randomSPD(n, seed: 3)
        a[33 * n + 33] = -1e6
        assertRecError("XX000", try BlockedCholesky.invert(&a, n: n, blockSize: 8))
        var wrong = [Double](repeating: 1, count: 10)
        assertRecError("XX000", try BlockedCholesky.invert(&wrong, n: 4))
    }

    func testInterruptIsPolledBetweenPiecesAndPropagates() throws {
        let n = 200, nb = 32
        let chunk = 1e5
        let a = randomSPD(n, seed: 11)
        var polls = 0
        var p = a
        try BlockedCholesky.invert(&p, n: n, blockSize: nb, maxChunkFlops: chunk, interrupt: { polls += 1 })
        // about n^3 flops in all (a third each for factor, triangular inverse and product), in
        // pieces of at most `chunk`: at least n^3 / chunk polls
        XCTAssertGreaterThanOrEqual(Double(polls), Double(n * n * n) / chunk)
        // an interrupt at any poll stops the computation with the caller's error
        for stopAt in [1, polls / 3, polls / 2, polls - 1] {
            var count = 0
            var q = a
            assertRecError("57014", try BlockedCholesky.invert(&q, n: n, blockSize: nb, maxChunkFlops: chunk, interrupt: {
                count += 1
                if count >= stopAt { throw RecError.interrupted }
            }))
            XCTAssertEqual(count, stopAt)
        }
    }

    func testEASEFitEqualsTheUnblockedSolution() throws {
        // EASE.fit goes through the blocked inverse; B must equal the one from LAPACK's inverse.
        for n in [1, 3, 300, 600] {
            let g = randomSPD(n, seed: UInt64(n), lambda: 0)
            var gg = g
            let b = try EASE.fit(gram: &gg, n: n, lambda: 20, dropout: 0.3)
            var reg = g
            for i in 0..<n { reg[i * n + i] += 20 + 0.3 / 0.7 * g[i * n + i] }
            let p = lapackInverse(reg, n: n)
            var worst = 0.0, scale = 0.0
            for i in 0..<n {
                for j in 0..<n where i != j {
                    let r = -p[i * n + j] / p[j * n + j]
                    worst = max(worst, abs(Double(b[i * n + j]) - r)); scale = max(scale, abs(r))
                }
                XCTAssertEqual(b[i * n + i], 0)
            }
            // B is stored as Float: equal to Float rounding
            XCTAssertLessThanOrEqual(worst, max(scale, 1e-30) * 1.2e-7, "n=\(n)")
        }
    }

    /// Timings for the README (not a check): RECOMMENDER_BENCH=1 swift test -c release ...
    /// --filter BlockedCholeskyTests/testBenchmark. LAPACK's dpotrf + dpotri against the blocked
    /// inverse at 2 OpenBLAS threads (as EASE.fit), and the longest gap between two polls.
    func testBenchmark() throws {
        guard let sizes = ProcessInfo.processInfo.environment["RECOMMENDER_BENCH"] else {
            throw XCTSkip("set RECOMMENDER_BENCH=2000,5000,10000 to time the solver")
        }
        func clock() -> Double {
            var ts = timespec(); clock_gettime(CLOCK_MONOTONIC, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
        }
        // CPU time of the process: on a shared machine a fairer measure than wall time with one
        // thread (with two, OpenBLAS's waiting workers add to it)
        func cpu() -> Double {
            var ts = timespec(); clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
        }
        let threads = Int(ProcessInfo.processInfo.environment["RECOMMENDER_BENCH_THREADS"] ?? "2") ?? 2
        openblas_set_num_threads(Int32(threads))
        defer { openblas_set_num_threads(1) }
        let env = ProcessInfo.processInfo.environment
        let nb = Int(env["RECOMMENDER_BENCH_BLOCK"] ?? "") ?? BlockedCholesky.defaultBlockSize
        let chunk = Double(env["RECOMMENDER_BENCH_CHUNK"] ?? "") ?? BlockedCholesky.defaultChunkFlops
        let rounds = Int(env["RECOMMENDER_BENCH_ROUNDS"] ?? "") ?? 1
        for n in sizes.split(separator: ",").compactMap({ Int($0) }) {
            let a = randomSPD(n, seed: 1, lambda: 50)
            var bestL = Double.infinity, bestB = Double.infinity, gapB = 0.0, polls = 0, rel = 0.0
            var cpuL = Double.infinity, cpuB = Double.infinity
            for _ in 0..<rounds {
                // alternate the two, keep the best of each (the machine is shared)
                var ref = a
                ref[0] = a[0]
                let t0 = clock(), c0 = cpu()
                var info: Int32 = 0
                var nn = Int32(n)
                var uplo = Int8(UInt8(ascii: "L"))
                ref.withUnsafeMutableBufferPointer { p in dpotrf_(&uplo, &nn, p.baseAddress, &nn, &info) }
                ref.withUnsafeMutableBufferPointer { p in dpotri_(&uplo, &nn, p.baseAddress, &nn, &info) }
                for c in 0..<n { for r in (c + 1)..<max(c + 1, n) { ref[r * n + c] = ref[c * n + r] } }
                bestL = min(bestL, clock() - t0)
                cpuL = min(cpuL, cpu() - c0)
                var p = a
                p[0] = a[0]     // the copy-on-write copy of n^2 values, outside the measure
                var last = clock(), gap = 0.0
                polls = 0
                let t1 = clock(), c1 = cpu()
                try BlockedCholesky.invert(&p, n: n, blockSize: nb, maxChunkFlops: chunk, interrupt: {
                    let t = clock(); gap = max(gap, t - last); last = t; polls += 1
                })
                gap = max(gap, clock() - last)
                let blocked = clock() - t1
                cpuB = min(cpuB, cpu() - c1)
                if blocked < bestB { bestB = blocked; gapB = gap }
                rel = relativeDifference(p, ref)
            }
            print(String(format: "BENCH n=%d threads=%d nb=%d chunk=%.0e wall: lapack=%.2fs blocked=%.2fs ratio=%.2f; cpu: lapack=%.2fs blocked=%.2fs ratio=%.2f; polls=%d max_gap=%.1fms rel_diff=%.1e",
                         n, threads, nb, chunk, bestL, bestB, bestB / bestL, cpuL, cpuB, cpuB / cpuL, polls, gapB * 1000, rel))
        }
    }
}
