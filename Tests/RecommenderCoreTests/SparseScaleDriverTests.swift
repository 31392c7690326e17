import XCTest
import Foundation
@testable import RecommenderCore

/// A driver for measuring the sparse kind's training stages without PostgreSQL (issue 7): runs
/// only when SPARSE_DRIVER_ITEMS is set, e.g.
///   SPARSE_DRIVER_ITEMS=20000 swift test -c release --filter SparseScaleDriver
/// on a synthetic catalog drawn as bench/gen_catalog.sql draws it (users twice the items, about 20
/// events a user, Zipf popularity within two favourite categories and overall; not the same
/// draws), weighting 'log' and lambda 200 as the defaults. Prints each stage's time.
final class SparseScaleDriverTests: XCTestCase {
    func testDriver() throws {
        guard let s = ProcessInfo.processInfo.environment["SPARSE_DRIVER_ITEMS"], let n = Int(s), n > 100 else {
            throw XCTSkip("set SPARSE_DRIVER_ITEMS to run the scale driver")
        }
        setlinebuf(stdout)
        let t0 = Date()
        func t() -> String { String(format: "%.1f s", Date().timeIntervalSince(t0)) }
        let c = max(20, n / 500), users = min(2 * n, 1_000_000)
        var rng = LCG(12345)
        func u01() -> Double { Double(rng.next() & ((1 << 53) - 1)) / Double(1 << 53) }
        var b = InteractionMatrixBuilder()
        let per = (n - 1) / c + 1
        for uid in 0..<users {
            let cnt = min(200, 1 + Int(-log(1 - u01()) * 19))
            let fav1 = Int(u01() * Double(c)), fav2 = Int(u01() * Double(c))
            for _ in 0..<cnt {
                var item: Int
                if u01() < 0.8 {
                    let f = u01() < 0.6 ? fav1 : fav2
                    let r = min(Int(exp(u01() * log(Double(per) + 1))) - 1, (n - 1 - f) / c)
                    item = f + c * max(0, r) + 1
                } else {
                    item = min(n, Int(exp(u01() * log(Double(n) + 1))))
                }
                try b.add(user: Int64(uid), item: Int64(item), weight: 1, time: nil)
            }
        }
        let x = b.build(weighting: .log)
        print("driver: \(x.cols) items, \(x.rows) users, \(x.nonZeros) non-zeros (\(t()))")
        let g = try SparseGram.build(x)
        print("driver: Gram \(g.nonZeros) non-zeros (\(t()))")
        let density = Double(ProcessInfo.processInfo.environment["SPARSE_DRIVER_DENSITY"] ?? "0.0001") ?? 0.0001
        let env = ProcessInfo.processInfo.environment
        if let v = env["SPARSE_DRIVER_ROWCAP"], let r = Int(v) { SANSA.rowCapRatio = r }
        if let v = env["SPARSE_DRIVER_THREADS"], let r = Int(v) { ParallelBlocks.threads = r }
        if let v = env["SPARSE_DRIVER_PROPAGATE"], let r = Int(v) { SANSA.propagateRatio = r }
        defer { SANSA.rowCapRatio = 4; SANSA.propagateRatio = 0 }
        let r = try SANSA.fit(gram: g, lambda: 200, density: density, minimumPerRow: 256,
                              progress: { print("driver: \($0) (\(t()))") })
        print("driver: \(r.weights.nonZeros) weights, incomplete \(r.incomplete) (\(t()))")
        var ck = 0.0
        for v in r.weights.vals.indices { ck += Double(abs(r.weights.vals[v])) }
        print("driver: checksum \(ck)")
    }
}
