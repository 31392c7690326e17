/// The items one recommend() call reaches (ReachedServing.swift), with their Float scores and
/// flags: open addressing with linear probing over a power-of-two table kept at most half full.
///
/// A call reaches the items of its history's rows: a few thousand for ordinary histories (20
/// rows of tens to hundreds of pairs), so the table stays in the CPU caches. Catalog-sized score
/// and mark arrays (6 bytes an item, 6 MB at 1,000,000 items) cost a cache miss for each of the
/// two at almost every touch, because consecutive touches land anywhere in the catalog.
/// The table is emptied entry by entry at the start of the next call (O(entries), not
/// O(catalog)); it grows (doubling, re-inserting) when a call reaches more items than it holds,
/// and is given back when a call needs far less than a huge earlier one left.
///
/// For a small catalog (at most `directLimit` items) the table is direct-mapped instead: one slot
/// per item, the item index is the slot (no hashing, no probing, never grows). Its arrays (9 bytes
/// an item, 576 kB at the limit) stay in the core's L2 cache, where indexing them directly beats
/// hashing (measured at 20,000 items through SQL: p50 0.21 ms direct against 0.23-0.25 hashed).
struct ReachedTable {
    /// Variable for the tests (0: every table hashed).
    static var directLimit = 1 << 16
    /// Direct-mapped: slot j holds item j.
    private(set) var direct = false
    static let empty: Int32 = -1
    static let reached: UInt8 = 1
    static let seen: UInt8 = 2
    /// Item index per slot, `empty` when free.
    private(set) var keys: [Int32] = []
    var scores: [Float] = []
    var flags: [UInt8] = []
    /// The slots in use, each once, in the order their items were first inserted.
    private(set) var order: [Int32] = []
    private var shift: UInt64 = 64

    var count: Int { order.count }
    var capacity: Int { keys.count }
    /// Bytes of its arrays.
    var bytes: Int { keys.count * 9 + order.capacity * 4 }

    /// Slots for `entries` items at most half full (a power of two, at least 64).
    static func size(for entries: Int) -> Int {
        var s = 64
        while s / 2 < entries && s < 1 << 40 { s <<= 1 }
        return s
    }

    /// Empties the table for a call expected to insert about `entries` of the items 0..<items.
    mutating func reset(expecting entries: Int, items: Int) {
        keys.withUnsafeMutableBufferPointer { k in
            for s in order { k[Int(s)] = Self.empty }
        }
        order.removeAll(keepingCapacity: true)
        if items <= Self.directLimit {
            // one slot per item (a power of two, at least 64)
            let size = Self.size(for: max(1, items) / 2 + 1)
            if !direct || keys.count < size { allocate(size); direct = true }
            return
        }
        let want = Self.size(for: max(0, entries))
        if direct || want > keys.count || (keys.count > 1 << 16 && keys.count > 8 * want) { direct = false; allocate(want) }
    }

    private mutating func allocate(_ size: Int) {
        keys = [Int32](repeating: Self.empty, count: size)
        scores = [Float](repeating: 0, count: size)
        flags = [UInt8](repeating: 0, count: size)
        order = []
        order.reserveCapacity(size / 2)
        shift = UInt64(64 - size.trailingZeroBitCount)
    }

    /// Fibonacci hashing of the item index into the table's bits; the index itself when the
    /// table is direct-mapped.
    @inline(__always) func home(_ j: Int32) -> Int {
        direct ? Int(UInt32(bitPattern: j)) & (keys.count - 1)
               : Int(truncatingIfNeeded: (UInt64(UInt32(bitPattern: j)) &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The slot of item j, or -1 when it is not in the table.
    @inline(__always) func find(_ j: Int32) -> Int {
        let mask = keys.count - 1
        guard mask > 0 else { return -1 }
        var s = home(j)
        while true {
            let k = keys[s]
            if k == j { return s }
            if k == Self.empty { return -1 }
            s = (s + 1) & mask
        }
    }

    /// Item j's flags (0 when absent).
    @inline(__always) func flags(of j: Int32) -> UInt8 {
        let s = find(j)
        return s < 0 ? 0 : flags[s]
    }

    /// Makes room for `more` insertions without growing in between (the scatter loop relies on it).
    mutating func reserve(_ more: Int) {
        if direct { return }
        let need = order.count + max(0, more)
        if need * 2 > keys.count { grow(to: Self.size(for: need)) }
    }

    /// The slot of item j, inserted with score 0 and no flags when absent.
    @inline(__always) mutating func insert(_ j: Int32) -> Int {
        if !direct && (order.count + 1) * 2 > keys.count { grow(to: Self.size(for: order.count + 1)) }
        let mask = keys.count - 1
        var s = home(j)
        while true {
            let k = keys[s]
            if k == j { return s }
            if k == Self.empty {
                keys[s] = j; scores[s] = 0; flags[s] = 0
                order.append(Int32(truncatingIfNeeded: s))
                return s
            }
            s = (s + 1) & mask
        }
    }

    /// Adds `x * vals[t]` to the score of item `cols[t]` for every t in `range` whose item is in
    /// 0..<limit (a damaged index is skipped), marking each reached; an item reached for the
    /// first time starts from 0 (as a fresh array's entry). Adds the terms in order, so a score
    /// is the same sum as the catalog-wide scatter's.
    mutating func scatter(_ cols: UnsafeBufferPointer<Int32>, _ vals: UnsafeBufferPointer<Float>, _ range: Range<Int>,
                          times x: Float, limit: Int) {
        guard range.lowerBound >= 0, range.upperBound <= cols.count, range.upperBound <= vals.count else { return }
        reserve(range.count)
        let mask = keys.count - 1, sh = shift, isDirect = direct
        let reachedFlag = Self.reached
        keys.withUnsafeMutableBufferPointer { kp in
            scores.withUnsafeMutableBufferPointer { sp in
                flags.withUnsafeMutableBufferPointer { fp in
                    for t in range {
                        let j = cols[t]
                        guard j >= 0 && Int(j) < limit else { continue }
                        var s = isDirect ? Int(j) & mask
                                         : Int(truncatingIfNeeded: (UInt64(UInt32(bitPattern: j)) &* 0x9E37_79B9_7F4A_7C15) >> sh)
                        while true {
                            let k = kp[s]
                            if k == j {
                                // a history item (seen) reached for the first time: it is listed already
                                if fp[s] & reachedFlag == 0 { fp[s] |= reachedFlag; sp[s] = 0 }
                                break
                            }
                            if k == Self.empty {
                                kp[s] = j; sp[s] = 0; fp[s] = reachedFlag
                                order.append(Int32(truncatingIfNeeded: s))
                                break
                            }
                            s = (s + 1) & mask
                        }
                        sp[s] += x * vals[t]
                    }
                }
            }
        }
    }

    private mutating func grow(to size: Int) {
        guard size > keys.count else { return }
        let oldKeys = keys, oldScores = scores, oldFlags = flags, oldOrder = order
        allocate(size)
        for s in oldOrder {
            let t = insert(oldKeys[Int(s)])
            scores[t] = oldScores[Int(s)]; flags[t] = oldFlags[Int(s)]
        }
    }
}
