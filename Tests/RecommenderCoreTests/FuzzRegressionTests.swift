import XCTest
@testable import RecommenderCore

/// Bugs found by the random-call test (Tests/fuzz/fuzz.py), at the level of the core.
final class FuzzRegressionTests: XCTestCase {
    /// A singular Gram matrix (rank one: user weights sqrt(3) and 1/sqrt(3), which rounding makes
    /// slightly indefinite) with a lambda too small to regularise it: the factorisation fails. That is bad input, not an internal error: SQLSTATE
    /// 22023 with a hint, never XX000 (the fuzzer found it with tune(lambdas => '{1e-300}')).
    func testUnsolvableModelIsInvalidParameterNotInternalError() throws {
        let g: [Double] = [3, 1,
                           1, 1.0 / 3]
        for lambda in [1e-300, 4.9e-324, 1e-20] {
            var m = g
            do {
                _ = try EASE.fit(gram: &m, n: 2, lambda: lambda)
                XCTFail("lambda \(lambda): expected an error for a singular matrix")
            } catch let e as RecError {
                XCTAssertEqual(e.sqlstate, "22023", "lambda \(lambda): \(e)")
                XCTAssertTrue(e.message.contains("lambda"), e.message)
                XCTAssertNotNil(e.hint)
            }
        }
        // the same matrix with a usable lambda solves
        var ok = g
        XCTAssertEqual(try EASE.fit(gram: &ok, n: 2, lambda: 1).count, 4)
    }
}
