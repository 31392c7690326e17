import XCTest
@testable import RecommenderCore

/// The followers explain() cites (SequenceFollowers.swift), against hand-counted small cases.
final class SequenceFollowersTests: XCTestCase {
    // users' sequences (item index, value), oldest first
    let seqs: [[(Int32, Double)]] = [[(0, 1), (1, 1), (2, 1)], [(0, 1), (2, 1), (1, 1)], [(0, 1), (1, 1)], [(1, 1), (0, 1)], [(2, 1)]]

    func rows(_ f: SequenceFollowers) -> [[Int32]] {
        (0..<f.count).map { [f.item[$0], f.follower[$0], f.rank[$0], f.users[$0]] }
    }

    func testNextItemOnly() throws {
        // window 1: 0->1 (users 0 and 2), 0->2 (user 1), 1->2 (user 0), 2->1 (user 1), 1->0 (user 3)
        let f = try SequenceModel.followers(sequences: seqs, n: 3, window: 1, top: 5, minUsers: 1)
        XCTAssertEqual(rows(f), [[0, 1, 1, 2], [0, 2, 2, 1],
                                 [1, 0, 1, 1], [1, 2, 2, 1],    // a tie: the lower index first
                                 [2, 1, 1, 1]])
        let two = try SequenceModel.followers(sequences: seqs, n: 3, window: 1, top: 5, minUsers: 2)
        XCTAssertEqual(rows(two), [[0, 1, 1, 2]], "a pair needs minUsers users")
    }

    func testWindowAndTop() throws {
        // window 2: 0->1 (users 0, 1, 2), 0->2 (users 0, 1), 1->2 (0), 2->1 (1), 1->0 (3)
        let f = try SequenceModel.followers(sequences: seqs, n: 3, window: 2, top: 5, minUsers: 1)
        XCTAssertEqual(rows(f), [[0, 1, 1, 3], [0, 2, 2, 2], [1, 0, 1, 1], [1, 2, 2, 1], [2, 1, 1, 1]])
        let top1 = try SequenceModel.followers(sequences: seqs, n: 3, window: 2, top: 1, minUsers: 1)
        XCTAssertEqual(rows(top1), [[0, 1, 1, 3], [1, 0, 1, 1], [2, 1, 1, 1]])
    }

    func testSelectionKeepsTheMostUsers() throws {
        // item 0 followed by 1..6, item k by k users
        var s: [[(Int32, Double)]] = []
        for k in 1...6 { for _ in 0..<k { s.append([(0, 1), (Int32(k), 1)]) } }
        let f = try SequenceModel.followers(sequences: s, n: 7, window: 1, top: 3, minUsers: 1)
        XCTAssertEqual(rows(f), [[0, 6, 1, 6], [0, 5, 2, 5], [0, 4, 3, 4]])
    }

    func testBadIndicesAndEdgesNeverTrap() throws {
        let s: [[(Int32, Double)]] = [[(-1, 1), (0, 1), (9, 1), (1, 1)], [], [(0, 1)], [(0, 1), (0, 1)]]
        let f = try SequenceModel.followers(sequences: s, n: 2, window: 3, top: 2, minUsers: 1)
        XCTAssertEqual(rows(f), [[0, 1, 1, 1]], "out-of-range items are skipped, an item never follows itself")
        XCTAssertEqual(try SequenceModel.followers(sequences: [], n: 0, window: 1, top: 1).count, 0)
        XCTAssertThrowsError(try SequenceModel.followers(sequences: s, n: 2, window: 0, top: 1))
        XCTAssertThrowsError(try SequenceModel.followers(sequences: s, n: 2, window: 1, top: 0))
    }
}
