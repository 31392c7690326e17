#if canImport(Glibc)
import Glibc
#endif

/// The sequential component's SᵀS and SᵀT as sparse pairs, for training from partial results
/// (issue 10): a shard computes its users' part of the two matrices of SequenceModel.grams
/// (Sequence.swift; after SLIST, Choi, Kim, Lee, Shim and Lee, WWW 2021) and sends only the
/// non-zero pairs, which the coordinator adds into the dense matrices (MergedPartials).
///
/// The values are those of SequenceModel.grams over the same sequences, computed with the same
/// expressions in the same order of additions (for one pair of items, a user's terms over the
/// split points t in increasing order, users in order), so one shard's pairs equal the row path's
/// entries exactly; only the order in which the shards' parts are added differs.
public struct SequencePairs: Equatable, Sendable {
    /// SᵀS, symmetric: its upper triangle (column >= row) by (row, column) increasing.
    public var ssRow: [UInt32] = []
    public var ssCol: [UInt32] = []
    public var ssValue: [Double] = []
    /// SᵀT (input item = row, target item = column) by (row, column) increasing.
    public var stRow: [UInt32] = []
    public var stCol: [UInt32] = []
    public var stValue: [Double] = []

    public init() {}

    public var ssCount: Int { ssValue.count }
    public var stCount: Int { stValue.count }
}

extension SequenceModel {
    /// SᵀS and SᵀT of `sequences` (as `grams`: per user (item index, value), oldest first,
    /// `rowScale` per user) as sparse pairs whose rows and columns are `position[item index]`
    /// (a permutation of 0..<n: the partial's numbering by id). `maxPairs` bounds the pairs of
    /// both matrices together: they are counted in a first pass and the arrays allocated once.
    public static func sparseGrams(sequences: [[(Int32, Double)]], rowScale: [Double]? = nil, n: Int, position: [UInt32],
                                   window w: Int, halfLife h: Double, maxPairs: Int,
                                   interrupt: InterruptCheck = neverInterrupted) throws -> SequencePairs {
        guard w > 0, h > 0, h.isFinite else { throw RecError.invalidParameter("the sequence window and half-life must be positive") }
        guard n >= 0, position.count == n else { throw RecError.internalError("sparseGrams: \(position.count) positions for \(n) items") }
        let dec = (0..<w).map { decay($0, halfLife: h) }
        // the items' occurrences (user, position in the user's sequence), users in order
        var occStart = [Int](repeating: 0, count: n + 1)
        var scale = [Double](repeating: 0, count: sequences.count)
        for (u, seq) in sequences.enumerated() {
            let f = rowScale.map { u < $0.count ? $0[u] : 1 } ?? 1
            guard seq.count >= 2, f.isFinite, f > 0 else { continue }
            scale[u] = f
            for (i, _) in seq where i >= 0 && Int(i) < n { occStart[Int(i) + 1] += 1 }
        }
        for k in 0..<n { occStart[k + 1] += occStart[k] }
        var fill = Array(occStart[0..<n])
        var occUser = [Int32](repeating: 0, count: occStart[n]), occPos = [Int32](repeating: 0, count: occStart[n])
        for (u, seq) in sequences.enumerated() where scale[u] > 0 {
            for (p, (i, _)) in seq.enumerated() where i >= 0 && Int(i) < n {
                occUser[fill[Int(i)]] = Int32(u); occPos[fill[Int(i)]] = Int32(p); fill[Int(i)] += 1
            }
        }
        fill = []
        // rows in the partial's order: the item index of each position
        var itemAt = [Int32](repeating: -1, count: n)
        for i in 0..<n {
            let k = Int(position[i])
            guard k < n, itemAt[k] < 0 else { throw RecError.internalError("sparseGrams: the positions are not a permutation") }
            itemAt[k] = Int32(i)
        }

        // Row k (item i = itemAt[k]) of both matrices: every term of SequenceModel.grams whose
        // input item is i (for each occurrence (u, p) of i, the split points t with p in
        // t-W+1 ... t), in grams' order of additions. Pass 1 (`values` false) only counts the
        // distinct columns (SᵀS: those >= k); pass 2 sums the values. No closures: this is the
        // shard's hot loop.
        var ssMark = [Int32](repeating: -1, count: n), stMark = [Int32](repeating: -1, count: n)
        var ssAcc: [Double] = [], stAcc: [Double] = []
        var ssCols: [Int] = [], stCols: [Int] = []
        var ssTotal = 0, stTotal = 0
        var out = SequencePairs()
        var work = 0
        for values in [false, true] {
            if values {
                out.ssRow.reserveCapacity(ssTotal); out.ssCol.reserveCapacity(ssTotal); out.ssValue.reserveCapacity(ssTotal)
                out.stRow.reserveCapacity(stTotal); out.stCol.reserveCapacity(stTotal); out.stValue.reserveCapacity(stTotal)
                ssAcc = [Double](repeating: 0, count: n); stAcc = [Double](repeating: 0, count: n)
                for c in 0..<n { ssMark[c] = -1; stMark[c] = -1 }
            }
            for k in 0..<n {
                let i = Int(itemAt[k]), kk = Int32(k)
                ssCols.removeAll(keepingCapacity: true); stCols.removeAll(keepingCapacity: true)
                for o in occStart[i]..<occStart[i + 1] {
                    let u = Int(occUser[o]), p = Int(occPos[o])
                    let seq = sequences[u], f = scale[u], len = seq.count
                    let vp = seq[p].1, tEnd = min(p + w - 1, len - 2)
                    guard p <= tEnd else { continue }   // the last item is no split point's input
                    for t in p...tEnd {
                        let lo = max(0, t - w + 1), hi = min(len - 1, t + w)
                        let a = vp * dec[t - p] * f
                        for q in lo...t {
                            let (iq, vq) = seq[q]
                            guard iq >= 0, Int(iq) < n else { continue }
                            let c = Int(position[Int(iq)])
                            guard c >= k else { continue }
                            if ssMark[c] != kk { ssMark[c] = kk; ssCols.append(c); if values { ssAcc[c] = 0 } }
                            if values { ssAcc[c] += a * vq * dec[t - q] }
                        }
                        for q in (t + 1)...hi {
                            let (iq, vq) = seq[q]
                            guard iq >= 0, Int(iq) < n else { continue }
                            let c = Int(position[Int(iq)])
                            if stMark[c] != kk { stMark[c] = kk; stCols.append(c); if values { stAcc[c] = 0 } }
                            if values { stAcc[c] += a * vq * dec[q - t - 1] }
                        }
                    }
                    work += 4 * w * w
                    if work > 1_000_000 { work = 0; try interrupt() }
                }
                if !values {
                    ssTotal += ssCols.count; stTotal += stCols.count
                    guard ssTotal + stTotal <= maxPairs else {
                        throw RecError.programLimit("the sequential component's item pairs (more than \(ssTotal + stTotal)) exceed what recommender.max_partial_size allows (\(maxPairs) pairs)",
                                                    hint: "Raise recommender.max_partial_size on this server, or SET recommender.partial_training = off on the coordinator.")
                    }
                    continue
                }
                guard out.ssCount + ssCols.count <= ssTotal, out.stCount + stCols.count <= stTotal else {
                    throw RecError.internalError("sparseGrams: more pairs than counted")
                }
                ssCols.sort(); stCols.sort()
                for c in ssCols { out.ssRow.append(UInt32(k)); out.ssCol.append(UInt32(c)); out.ssValue.append(ssAcc[c]) }
                for c in stCols { out.stRow.append(UInt32(k)); out.stCol.append(UInt32(c)); out.stValue.append(stAcc[c]) }
            }
        }
        return out
    }
}

extension InteractionMatrixBuilder {
    /// The sequential component's per-user scale |history|^-rowNorm (nil when rowNorm is 0), as
    /// the Gram matrix's rows are scaled: the same on the row path and on a shard.
    public func sequenceRowScale(rowNorm: Double) -> [Double]? {
        rowNorm != 0 ? rowLengths().map { $0 > 0 ? pow(Double($0), -rowNorm) : 1 } : nil
    }
}
