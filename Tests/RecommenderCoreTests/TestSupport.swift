import XCTest
@testable import RecommenderCore

/// Asserts that `body` throws a `RecError` with the given SQLSTATE (and not any other error, and
/// not nothing).
func assertRecError<T>(_ sqlstate: String, _ body: @autoclosure () throws -> T,
                       _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected RecError \(sqlstate), nothing was thrown. \(message)", file: file, line: line)
    } catch let e as RecError {
        XCTAssertEqual(e.sqlstate, sqlstate, "wrong SQLSTATE (\(e)). \(message)", file: file, line: line)
        XCTAssertFalse(e.message.isEmpty, "RecError without a message", file: file, line: line)
    } catch {
        XCTFail("expected RecError \(sqlstate), got \(error). \(message)", file: file, line: line)
    }
}

/// Independent reference: the inverse of a small dense matrix by Gauss-Jordan elimination with
/// partial pivoting, in Double. Row-major n x n. Returns nil for a singular matrix.
func gaussJordanInverse(_ m: [Double], n: Int) -> [Double]? {
    precondition(m.count == n * n)
    var a = m
    var inv = [Double](repeating: 0, count: n * n)
    for i in 0..<n { inv[i * n + i] = 1 }
    for col in 0..<n {
        var pivot = col
        for r in col..<n where abs(a[r * n + col]) > abs(a[pivot * n + col]) { pivot = r }
        if abs(a[pivot * n + col]) < 1e-300 { return nil }
        if pivot != col {
            for c in 0..<n {
                a.swapAt(pivot * n + c, col * n + c)
                inv.swapAt(pivot * n + c, col * n + c)
            }
        }
        let d = a[col * n + col]
        for c in 0..<n { a[col * n + c] /= d; inv[col * n + c] /= d }
        for r in 0..<n where r != col {
            let f = a[r * n + col]
            if f == 0 { continue }
            for c in 0..<n {
                a[r * n + c] -= f * a[col * n + c]
                inv[r * n + c] -= f * inv[col * n + c]
            }
        }
    }
    return inv
}

/// Steck (2019): B_ij = -P_ij / P_jj with P = (G + lambda I)^-1, B_ii = 0. Computed here without
/// the code under test.
func referenceEASE(gram g: [Double], n: Int, lambda: Double) -> [Double] {
    var m = g
    for i in 0..<n { m[i * n + i] += lambda }
    let p = gaussJordanInverse(m, n: n)!
    var b = [Double](repeating: 0, count: n * n)
    for i in 0..<n { for j in 0..<n where i != j { b[i * n + j] = -p[i * n + j] / p[j * n + j] } }
    return b
}

/// Builds a model from a hand-made weight matrix given as rows (row i = contributions of history
/// item i to every target).
func makeModel(ids: [Int64], rows: [[Float]], popularity: [Double]? = nil,
               categories: [[Int32]]? = nil, dims: Int = 0, vectors: [Float] = [],
               weighting: Weighting = .binary) throws -> ItemModel {
    try ItemModel(version: 1, itemIds: ids, weights: rows.flatMap { $0 },
                  popularity: popularity ?? [Double](repeating: 1, count: ids.count),
                  categories: categories, similarityDims: dims, similarityVectors: vectors,
                  weighting: weighting)
}

func history(_ events: [(Int64, Double)]) -> History {
    var h = History()
    for (i, w) in events { h.add(item: i, weight: w) }
    return h
}

func history(_ items: [Int64]) -> History {
    history(items.map { ($0, 1.0) })
}

/// Deterministic pseudo-random numbers for test data (independent of the core's SplitMix64).
struct LCG {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 11
    }
    /// Uniform in [-1, 1).
    mutating func signed() -> Double { Double(next() % 2_000_001) / 1_000_000 - 1 }
}
