import XCTest
@testable import RecommenderCore

/// SLIST's joint solve (SequenceJoint.swift) against hand-computed cases.
final class SequenceJointTests: XCTestCase {
    /// G = [[2, 1], [1, 2]], SᵀS = I, SᵀT = [[0, 1], [0, 0]], w = 0.5, λ = 1:
    /// c = 4 / 2 = 2; A + λI = 0.5 G + 2·0.5 SᵀS + I = [[3, .5], [.5, 3]], P = 1/8.75 [[3, -.5], [-.5, 3]];
    /// H = 0.5 G + SᵀT = [[1, 1.5], [.5, 1]]; PH = 1/8.75 [[2.75, 4], [1, 2.25]];
    /// μ = (2.75/3, 0.75); B01 = (4 + .5·.75)/8.75 = 0.5, B10 = (1 + .5·2.75/3)/8.75 = 1/6.
    func testJointByHand() throws {
        var g: [Double] = [2, 1, 1, 2], ss: [Double] = [1, 0, 0, 1], st: [Double] = [0, 1, 0, 0]
        let (b, c) = try SequenceModel.fitJoint(gram: &g, ss: &ss, st: &st, n: 2, weight: 0.5, lambda: 1)
        XCTAssertEqual(c, 2, accuracy: 1e-12)
        XCTAssertEqual(b[0], 0); XCTAssertEqual(b[3], 0)
        XCTAssertEqual(Double(b[1]), 0.5, accuracy: 1e-6)
        XCTAssertEqual(Double(b[2]), 1.0 / 6, accuracy: 1e-6)
    }

    /// Weight 0 is plain EASE / EDLAE, whatever the sequence matrices hold.
    func testWeightZeroIsEASE() throws {
        let n = 6
        var rng = SplitMix64(seed: 4)
        var rows: [[Double]] = []
        for _ in 0..<30 { rows.append((0..<n).map { _ in rng.nextUnit() < 0.4 ? 1 + rng.nextUnit() : 0 }) }
        var g = [Double](repeating: 0, count: n * n)
        for r in rows { for i in 0..<n { for j in 0..<n { g[i * n + j] += r[i] * r[j] } } }
        for p in [0.0, 0.5] {
            var g1 = g, g2 = g
            var ss = [Double](repeating: 1, count: n * n), st = [Double](repeating: 2, count: n * n)
            let want = try EASE.fit(gram: &g1, n: n, lambda: 3, dropout: p)
            let (got, _) = try SequenceModel.fitJoint(gram: &g2, ss: &ss, st: &st, n: n, weight: 0, lambda: 3, dropout: p)
            for t in 0..<(n * n) { XCTAssertEqual(got[t], want[t], accuracy: 1e-5, "dropout \(p), entry \(t)") }
        }
    }

    /// The solution's optimality condition: with A, H and Λ as in the solve, (A + Λ) B - H is zero off
    /// the diagonal (the Lagrange multipliers live on the diagonal only), and diag(B) = 0.
    func testOptimalityOnRandomSequences() throws {
        // 150 items: the product P H runs in several tiles of 64 rows (150 = 64 + 64 + 22)
        for n in [5, 150] { try checkOptimality(n: n) }
    }

    func checkOptimality(n: Int) throws {
        var rng = SplitMix64(seed: 11)
        var seqs: [[(Int32, Double)]] = []
        for _ in 0..<(8 * n) { seqs.append((0..<5).map { _ in (Int32(rng.next() % UInt64(n)), 1 + rng.nextUnit()) }) }
        var g = [Double](repeating: 0, count: n * n)
        for s in seqs {
            var x = [Double](repeating: 0, count: n)
            for (i, v) in s { x[Int(i)] += v }
            for i in 0..<n { for j in 0..<n { g[i * n + j] += x[i] * x[j] } }
        }
        var (ss, st) = try SequenceModel.grams(sequences: seqs, n: n)
        let (g0, ss0, st0) = (g, ss, st)
        let w = 0.7, lambda = 2.0, p = 0.25
        let (b, c) = try SequenceModel.fitJoint(gram: &g, ss: &ss, st: &st, n: n, weight: w, lambda: lambda, dropout: p)
        var trG = 0.0, trS = 0.0
        for i in 0..<n { trG += g0[i * n + i]; trS += ss0[i * n + i] }
        XCTAssertEqual(c, trG / trS, accuracy: 1e-12)
        for i in 0..<n {
            XCTAssertEqual(b[i * n + i], 0)
            for j in 0..<n where j != i {
                var r = 0.0
                for t in 0..<n {
                    var a = (1 - w) * g0[i * n + t] + w * c * ss0[i * n + t]
                    if t == i { a += lambda + p / (1 - p) * a }
                    r += a * Double(b[t * n + j])
                }
                let h = (1 - w) * g0[i * n + j] + w * c * st0[i * n + j]
                XCTAssertEqual(r, h, accuracy: 1e-4 * max(1, abs(h)), "row \(i), column \(j)")
            }
        }
    }

    func testBadParameters() throws {
        var g: [Double] = [1, 0, 0, 1], ss: [Double] = [1, 0, 0, 1], st: [Double] = [0, 1, 0, 0]
        assertRecError("22023", try SequenceModel.fitJoint(gram: &g, ss: &ss, st: &st, n: 2, weight: 1.5, lambda: 1))
        assertRecError("22023", try SequenceModel.fitJoint(gram: &g, ss: &ss, st: &st, n: 2, weight: 0.5, lambda: 0))
        assertRecError("22023", try SequenceModel.fitJoint(gram: &g, ss: &ss, st: &st, n: 2, weight: 0.5, lambda: 1, dropout: 1))
        var short: [Double] = [1]
        assertRecError("XX000", try SequenceModel.fitJoint(gram: &short, ss: &ss, st: &st, n: 2, weight: 0.5, lambda: 1))
    }
}
