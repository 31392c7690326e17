import Foundation
import XCTest
@testable import RecommenderCore

final class ModelInitTests: XCTestCase {
    func build(ids: [Int64] = [1, 2], weights: [Float] = [0, 1, 1, 0], popularity: [Double] = [1, 2],
               categories: [[Int32]]? = nil, dims: Int = 0, vectors: [Float] = []) throws -> ItemModel {
        try ItemModel(version: 3, itemIds: ids, weights: weights, popularity: popularity,
                      categories: categories, similarityDims: dims, similarityVectors: vectors, weighting: .sum)
    }

    func testValidModel() throws {
        let m = try build(categories: [[1], []], dims: 2, vectors: [1, 0, 0, 1])
        XCTAssertEqual(m.count, 2)
        XCTAssertEqual(m.version, 3)
        XCTAssertEqual(m.index[1], 0); XCTAssertEqual(m.index[2], 1); XCTAssertNil(m.index[3])
        XCTAssertEqual(m.popularOrder, [1, 0])
        XCTAssertEqual(m.weighting, .sum)
        let empty = try build(ids: [], weights: [], popularity: [])
        XCTAssertEqual(empty.count, 0)
        XCTAssertEqual(try empty.recommend(history([1]), RecommendOptions(k: 5, diversity: 0.5)), [])
        XCTAssertEqual(try empty.recommend(History(), RecommendOptions(k: 5, diversity: 0)), [])
        XCTAssertEqual(empty.explain(history([1]), item: 1).status, .notInModel)
    }

    func testRejectsInconsistentSizes() {
        assertRecError("XX000", try build(weights: [0, 1, 1]), "too few weights")
        assertRecError("XX000", try build(weights: [0, 1, 1, 0, 5]), "too many weights")
        assertRecError("XX000", try build(weights: []), "no weights")
        assertRecError("XX000", try build(popularity: [1]), "popularity too short")
        assertRecError("XX000", try build(popularity: [1, 2, 3]), "popularity too long")
        assertRecError("XX000", try build(categories: [[1]]), "categories too short")
        assertRecError("XX000", try build(categories: [[1], [2], [3]]), "categories too long")
        assertRecError("XX000", try build(dims: 2, vectors: [1, 0, 0]), "vectors too short")
        assertRecError("XX000", try build(dims: 1, vectors: [1, 0, 0]), "vectors too long")
        assertRecError("XX000", try build(dims: 0, vectors: [1, 0]), "vectors without dims")
        assertRecError("XX000", try build(dims: -1, vectors: []), "negative dims")
        assertRecError("XX000", try build(dims: -2, vectors: [1, 2, 3, 4]), "negative dims, n*dims < 0")
    }

    func testRejectsDuplicateItemIds() {
        assertRecError("XX000", try build(ids: [7, 7], weights: [0, 1, 1, 0], popularity: [1, 1]))
        assertRecError("XX000", try build(ids: [1, 2, 1], weights: [Float](repeating: 0, count: 9), popularity: [1, 1, 1]))
    }

    // MARK: - trap probe

    /// BUG PROBE (see report): `similarityVectors.count == n * similarityDims` in ItemModel.init
    /// overflows (and traps) for a huge `similarityDims` instead of throwing a RecError. The
    /// construction runs in a child process (this test binary, filtered to
    /// `trapProbeHugeSimilarityDims`) so that a trap fails this one test instead of killing the run.
    func testRegressionHugeSimilarityDimsThrowsInsteadOfTrapping() throws {
        try runInChild("trapProbeHugeSimilarityDims")
    }

    func testProbeHarnessDetectsSuccess() throws {
        // Guards the harness itself: a probe that throws a RecError must report success.
        try runInChild("trapProbeSizeMismatch")
    }

    /// Not a test by itself (no `test` prefix); run only by the child process.
    func probeBody(_ name: String) {
        switch name {
        case "trapProbeHugeSimilarityDims":
            assertRecError("XX000", try build(dims: Int.max / 2 + 1, vectors: []))
        case "trapProbeSizeMismatch":
            assertRecError("XX000", try build(weights: [1]))
        default:
            XCTFail("unknown probe \(name)")
        }
    }

    func testChildProbeEntry() throws {
        // In the parent this does nothing; in a child it runs the requested probe.
        guard let name = ProcessInfo.processInfo.environment["RECOMMENDER_TRAP_PROBE"] else { return }
        probeBody(name)
    }

    func runInChild(_ probe: String, file: StaticString = #filePath, line: UInt = #line) throws {
        if ProcessInfo.processInfo.environment["RECOMMENDER_TRAP_PROBE"] != nil {
            throw XCTSkip("already in a probe child")
        }
        let exe = URL(fileURLWithPath: CommandLine.arguments[0])
        let p = Process()
        p.executableURL = exe
        p.arguments = ["RecommenderCoreTests.ModelInitTests/testChildProbeEntry"]
        var env = ProcessInfo.processInfo.environment
        env["RECOMMENDER_TRAP_PROBE"] = probe
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertTrue(text.contains("testChildProbeEntry"),
                      "the child did not run the probe test; output:\n\(text.prefix(2000))", file: file, line: line)
        if p.terminationReason == .uncaughtSignal {
            // Keep the report short: the crash line of the backtrace, if any.
            let crash = text.split(separator: "\n").first { $0.contains("/Sources/RecommenderCore/") } ?? "?"
            XCTFail("probe \(probe) trapped (signal \(p.terminationStatus)) instead of throwing a RecError; at: \(crash)",
                    file: file, line: line)
        } else {
            XCTAssertEqual(p.terminationStatus, 0, "probe \(probe) failed; output tail:\n\(text.suffix(1500))", file: file, line: line)
        }
    }
}
