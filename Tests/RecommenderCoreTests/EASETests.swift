import XCTest
@testable import RecommenderCore

final class EASETests: XCTestCase {
    // Items A=10, B=20, C=30, D=40 (dense indices 0..3 in order of first appearance).
    //   u1: A B      u2: A B C      u3: B C      u4: C D      u5: A D
    // Hand-computed binary Gram G = X^T X:
    //   diag: A 3 (u1,u2,u5), B 3 (u1,u2,u3), C 3 (u2,u3,u4), D 2 (u4,u5)
    //   AB 2 (u1,u2), AC 1 (u2), AD 1 (u5), BC 2 (u2,u3), BD 0, CD 1 (u4)
    static let handGram: [Double] = [
        3, 2, 1, 1,
        2, 3, 2, 0,
        1, 2, 3, 1,
        1, 0, 1, 2,
    ]

    func builder() throws -> InteractionMatrixBuilder {
        var b = InteractionMatrixBuilder()
        let events: [(Int64, Int64)] = [
            (1, 10), (1, 20),
            (2, 10), (2, 30), (2, 20),   // item order within a user must not matter
            (3, 20), (3, 30), (3, 30),   // repeated event: still 1 under binary weighting
            (4, 40), (4, 30),            // D appears after C was indexed
            (5, 40), (5, 10),
        ]
        for (u, i) in events { try b.add(user: u, item: i, weight: 1, time: nil) }
        return b
    }

    func testGramMatchesHandComputation() throws {
        let b = try builder()
        XCTAssertEqual(b.itemIds, [10, 20, 30, 40])
        XCTAssertEqual(b.userCount, 5)
        let x = b.build(weighting: .binary)
        XCTAssertEqual(x.rows, 5)
        XCTAssertEqual(x.cols, 4)
        XCTAssertEqual(x.nonZeros, 11)
        let g = try EASE.gram(x)
        XCTAssertEqual(g, Self.handGram)
    }

    func testGramWithSumWeighting() throws {
        // u1: A=2, B=3 ; u2: B=1 (two events 0.5 + 0.5), C=4
        var b = InteractionMatrixBuilder()
        try b.add(user: 1, item: 10, weight: 2, time: nil)
        try b.add(user: 1, item: 20, weight: 3, time: nil)
        try b.add(user: 2, item: 30, weight: 4, time: nil)
        try b.add(user: 2, item: 20, weight: 0.5, time: nil)
        try b.add(user: 2, item: 20, weight: 0.5, time: nil)
        let g = try EASE.gram(b.build(weighting: .sum))
        // indices: A=0, B=1, C=2
        // G_AA = 4, G_BB = 9 + 1 = 10, G_CC = 16, G_AB = 6, G_AC = 0, G_BC = 1*4 = 4
        XCTAssertEqual(g, [4, 6, 0,
                           6, 10, 4,
                           0, 4, 16])
    }

    func testGramInterruptIsPolledAndPropagates() throws {
        // 1 user with 1001 items: (1001)^2 > 1_000_000 work units, so interrupt() is called.
        var b = InteractionMatrixBuilder()
        for i in 0..<1001 { try b.add(user: 1, item: Int64(i), weight: 1, time: nil) }
        let x = b.build(weighting: .binary)
        assertRecError("57014", try EASE.gram(x, interrupt: { throw RecError.interrupted }))
    }

    func testFitMatchesNumpyAndIndependentInverse() throws {
        let n = 4, lambda = 0.5
        var g = try EASE.gram(builder().build(weighting: .binary))
        let b = try EASE.fit(gram: &g, n: n, lambda: lambda)
        XCTAssertEqual(b.count, n * n)

        // Independent Gauss-Jordan computation.
        let ref = referenceEASE(gram: Self.handGram, n: n, lambda: lambda)
        // Pasted from numpy 2.4.6:
        //   G = np.array([[3,2,1,1],[2,3,2,0],[1,2,3,1],[1,0,1,2]], float)
        //   P = np.linalg.inv(G + 0.5*np.eye(4)); B = -P/np.diag(P); np.fill_diagonal(B, 0)
        let numpy: [Double] = [
            0.0,           0.5405405405, -0.2773722628,  0.4516129032,
            0.7299270073,  0.0,           0.7299270073, -0.5161290323,
            -0.2773722628, 0.5405405405,  0.0,           0.4516129032,
            0.5109489051, -0.4324324324,  0.5109489051,  0.0,
        ]
        for t in 0..<(n * n) {
            XCTAssertEqual(ref[t], numpy[t], accuracy: 1e-9, "reference vs numpy at \(t)")
            XCTAssertEqual(Double(b[t]), ref[t], accuracy: 1e-5, "B[\(t / n)][\(t % n)]")
        }
        for i in 0..<n { XCTAssertEqual(b[i * n + i], 0, "diagonal must be zero") }
    }

    func testFitAsymmetricPlacementOnLargerRandomMatrix() throws {
        // A 7x7 Gram from random sparse data with distinct magnitudes: catches row/column-major
        // or triangle mix-ups that a near-symmetric B could hide.
        var rng = LCG(42)
        var builder = InteractionMatrixBuilder()
        for u in 0..<40 {
            for item in 0..<7 where rng.next() % 3 == 0 {
                try builder.add(user: Int64(u), item: Int64(item), weight: Double(1 + rng.next() % 5), time: nil)
            }
        }
        let n = builder.itemCount
        XCTAssertEqual(n, 7)
        let g0 = try EASE.gram(builder.build(weighting: .sum))
        // Gram is symmetric and its diagonal is the sum of squares of each column.
        for i in 0..<n { for j in 0..<n { XCTAssertEqual(g0[i * n + j], g0[j * n + i]) } }
        var g = g0
        let lambda = 3.0
        let b = try EASE.fit(gram: &g, n: n, lambda: lambda)
        let ref = referenceEASE(gram: g0, n: n, lambda: lambda)
        for t in 0..<(n * n) {
            XCTAssertEqual(Double(b[t]), ref[t], accuracy: 1e-5 * max(1, abs(ref[t])), "B[\(t / n)][\(t % n)]")
        }
        // B is not symmetric in general; make sure the test data exercises that.
        var asym = 0.0
        for i in 0..<n { for j in 0..<n { asym = max(asym, abs(ref[i * n + j] - ref[j * n + i])) } }
        XCTAssertGreaterThan(asym, 1e-3)
    }

    func testFitRejectsBadLambda() throws {
        for lambda in [0.0, -1.0, .nan, .infinity, -.infinity] {
            var g = Self.handGram
            assertRecError("22023", try EASE.fit(gram: &g, n: 4, lambda: lambda), "lambda \(lambda)")
        }
    }

    func testFitLeavesBLASSingleThreaded() throws {
        BLAS.singleThreaded()
        XCTAssertEqual(BLAS.threads, 1)
        var g = Self.handGram
        _ = try EASE.fit(gram: &g, n: 4, lambda: 1, threads: 2)
        XCTAssertEqual(BLAS.threads, 1, "fit must restore one thread for scoring")
        // also when the factorisation fails (indefinite matrix) and fit throws after raising threads
        var bad: [Double] = [1, 5, 5, 1]
        assertRecError("22023", try EASE.fit(gram: &bad, n: 2, lambda: 0.1, threads: 2))
        XCTAssertEqual(BLAS.threads, 1)
    }

    func testFitRejectsWrongSizeAndEmpty() throws {
        var g = [Double](repeating: 0, count: 5)
        assertRecError("XX000", try EASE.fit(gram: &g, n: 2, lambda: 1))
        var e: [Double] = []
        XCTAssertEqual(try EASE.fit(gram: &e, n: 0, lambda: 1), [])
    }

    func testSimilarityVectorsAreUnitAndReflectCooccurrence() throws {
        // Items 0 and 1 always co-occur, item 2 never co-occurs with them.
        let g: [Double] = [5, 5, 0,
                           5, 5, 0,
                           0, 0, 4]
        let dims = 64
        let v = try EASE.similarityVectors(gram: g, n: 3, dims: dims)
        XCTAssertEqual(v.count, 3 * dims)
        func dot(_ a: Int, _ b: Int) -> Double {
            (0..<dims).reduce(0.0) { $0 + Double(v[a * dims + $1]) * Double(v[b * dims + $1]) }
        }
        for i in 0..<3 { XCTAssertEqual(dot(i, i), 1, accuracy: 1e-5) }
        XCTAssertEqual(dot(0, 1), 1, accuracy: 1e-5)             // identical profiles
        XCTAssertLessThan(abs(dot(0, 2)), 0.5)                   // orthogonal profiles, JL noise only
        // Deterministic: same seed, same vectors.
        XCTAssertEqual(try EASE.similarityVectors(gram: g, n: 3, dims: dims), v)
    }
}
