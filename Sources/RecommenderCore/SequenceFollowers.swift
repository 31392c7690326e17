/// What followed an item in users' histories, for explain(): for every item i, the items that
/// came within `window` positions after i in the most users' time-ordered histories (each user's
/// items by first time, as the sequential component reads them, Sequence.swift). Stored with a
/// version trained with the sequential component, so that explain() can say of a history item
/// that users often went on to the recommended item ("often followed by ...", issue 9). These are
/// counts from the training data, said beside the exact contribution; they do not split it.
public struct SequenceFollowers: Equatable, Sendable {
    /// One row per (item, follower): by item index increasing, then rank 1, 2, ... (most users
    /// first; ties by follower index).
    public var item: [Int32] = []
    public var follower: [Int32] = []
    public var rank: [Int32] = []
    public var users: [Int32] = []

    public init() {}
    public var count: Int { item.count }
    /// Followers stored per item with a version (the most users first).
    public static let stored = 5
}

extension SequenceModel {
    /// At most `top` followers per item of n: j follows i in a user's sequence when j comes 1 to
    /// `window` positions after i; each user counts once per pair (an item appears once in a
    /// sequence). Time O(Σ|sequence| x window), extra memory O(n); a pair needs at least
    /// `minUsers` users to be kept.
    public static func followers(sequences: [[(Int32, Double)]], n: Int, window w: Int, top: Int, minUsers: Int = 2,
                                 interrupt: InterruptCheck = neverInterrupted) throws -> SequenceFollowers {
        guard n >= 0, w > 0, top > 0 else { throw RecError.invalidParameter("followers: n, window and top must be positive") }
        // the occurrences (user, position) of every item, users in order
        var start = [Int](repeating: 0, count: n + 1)
        for seq in sequences where seq.count >= 2 {
            for (i, _) in seq where i >= 0 && Int(i) < n { start[Int(i) + 1] += 1 }
        }
        for k in 0..<n { start[k + 1] += start[k] }
        var fill = Array(start[0..<n])
        var occUser = [Int32](repeating: 0, count: start[n]), occPos = [Int32](repeating: 0, count: start[n])
        for (u, seq) in sequences.enumerated() where seq.count >= 2 {
            for (p, (i, _)) in seq.enumerated() where i >= 0 && Int(i) < n {
                occUser[fill[Int(i)]] = Int32(u); occPos[fill[Int(i)]] = Int32(p); fill[Int(i)] += 1
            }
        }
        fill = []
        var counts = [Int32](repeating: 0, count: n)
        var touched: [Int] = []
        var out = SequenceFollowers()
        var work = 0
        for i in 0..<n {
            touched.removeAll(keepingCapacity: true)
            for o in start[i]..<start[i + 1] {
                let seq = sequences[Int(occUser[o])], p = Int(occPos[o])
                let hi = min(seq.count - 1, p + w)
                guard p < hi else { continue }
                for q in (p + 1)...hi {
                    let j = seq[q].0
                    guard j >= 0, Int(j) < n, Int(j) != i else { continue }
                    if counts[Int(j)] == 0 { touched.append(Int(j)) }
                    counts[Int(j)] &+= 1
                }
                work += w
                if work > 1_000_000 { work = 0; try interrupt() }
            }
            // the top followers: a partial selection over the touched items
            var best: [(j: Int, c: Int32)] = []
            for j in touched {
                let c = counts[j]
                counts[j] = 0
                guard c >= Int32(clamping: minUsers) else { continue }
                if best.count < top || c > best[best.count - 1].c || (c == best[best.count - 1].c && j < best[best.count - 1].j) {
                    var k = best.count < top ? best.count : best.count - 1
                    if best.count < top { best.append((j, c)) }
                    while k > 0 && (best[k - 1].c < c || (best[k - 1].c == c && best[k - 1].j > j)) {
                        best[k] = best[k - 1]; k -= 1
                    }
                    best[k] = (j, c)
                }
            }
            for (r, b) in best.enumerated() {
                out.item.append(Int32(i)); out.follower.append(Int32(b.j)); out.rank.append(Int32(r + 1)); out.users.append(b.c)
            }
        }
        return out
    }
}
