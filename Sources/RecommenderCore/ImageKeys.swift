// The item keys of a model whose item ids are text or uuid (the shop's own ids, issue 7 part 3),
// kept in the model image beside the other per-item sections, so that a serving backend maps
// them with the image instead of building a key map of its own that grows with the catalog:
//   keyOffsets (16)  Int64 x (items + 1): item i's key is bytes [offsets[i], offsets[i + 1])
//   keyBytes   (17)  UInt8 x offsets[items]: the keys' UTF-8 bytes, one blob in item order
//   keyOrder   (18)  Int32 x items: the item indices sorted by key bytes (memcmp order), for a
//                    binary search from a key to its item (O(log items) comparisons per lookup)
// ModelImage.read checks them when an image is mapped (see `validate`).

/// A model's item keys: views of three image sections.
public struct ImageKeys: Sendable {
    public let offsets: Column<Int64>
    public let bytes: Column<UInt8>
    public let order: Column<Int32>
    /// The keys are uuids (canonical spelling) rather than text.
    public let isUUID: Bool

    public var count: Int { order.count }

    /// Checks the sections against each other: offsets start at 0, never decrease and end at the
    /// blob's size; the order is a permutation of the items and lists the keys strictly
    /// increasing (so no key appears twice). O(items + key bytes).
    public init(offsets: Column<Int64>, bytes: Column<UInt8>, order: Column<Int32>, isUUID: Bool,
                interrupt: InterruptCheck = neverInterrupted) throws {
        let n = order.count
        guard offsets.count == n + 1, offsets[0] == 0, offsets[n] == Int64(bytes.count) else {
            throw ImageRejected("the item keys are damaged (offsets)")
        }
        for i in 0..<n where offsets[i] > offsets[i + 1] { throw ImageRejected("the item keys are damaged (offsets)") }
        self.offsets = offsets; self.bytes = bytes; self.order = order; self.isUUID = isUUID
        var seen = [Bool](repeating: false, count: n)
        for k in 0..<n {
            let i = order[k]
            guard i >= 0, Int(i) < n, !seen[Int(i)] else { throw ImageRejected("the item key order is not a permutation") }
            seen[Int(i)] = true
            if k > 0 {
                guard compare(Int(order[k - 1]), Int(i)) < 0 else { throw ImageRejected("the item key order is not sorted") }
            }
            if k & 0xFFFF == 0xFFFF { try interrupt() }
        }
    }

    /// Item i's key bytes (a borrowed view).
    @inline(__always) func keyBytes(_ i: Int) -> Column<UInt8> {
        let a = Int(offsets[i]), b = Int(offsets[i + 1])
        return bytes.view(from: a, length: b - a)
    }

    /// Item i's key; nil when i is out of range.
    public func key(at i: Int) -> String? {
        guard i >= 0, i < count else { return nil }
        return String(decoding: keyBytes(i), as: UTF8.self)
    }

    /// The item index of a key, nil when the model does not have it.
    public func index(of key: String) -> Int? {
        var k = key
        return k.withUTF8 { probe -> Int? in
            var lo = 0, hi = count
            while lo < hi {
                let mid = (lo + hi) >> 1
                if Self.compare(keyBytes(Int(order[mid])), probe) < 0 { lo = mid + 1 } else { hi = mid }
            }
            guard lo < count else { return nil }
            let i = Int(order[lo])
            return Self.compare(keyBytes(i), probe) == 0 ? i : nil
        }
    }

    func compare(_ a: Int, _ b: Int) -> Int { Self.compare(keyBytes(a), keyBytes(b)) }

    /// memcmp order of two byte strings (a prefix first).
    static func compare<A: RandomAccessCollection, B: RandomAccessCollection>(_ a: A, _ b: B) -> Int
    where A.Element == UInt8, B.Element == UInt8, A.Index == Int, B.Index == Int {
        let n = Swift.min(a.count, b.count)
        var ia = a.startIndex, ib = b.startIndex
        for _ in 0..<n {
            let x = a[ia], y = b[ib]
            if x != y { return x < y ? -1 : 1 }
            ia += 1; ib += 1
        }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }

    /// The order of keys given in item order (the writer's keyOrder section); nil when a key
    /// appears twice.
    static func sortedOrder(offsets: [Int64], bytes: [UInt8]) -> [Int32]? {
        let n = offsets.count - 1
        func slice(_ i: Int) -> ArraySlice<UInt8> { bytes[Int(offsets[i])..<Int(offsets[i + 1])] }
        let order = (0..<Int32(Swift.max(0, n))).sorted { compare(slice(Int($0)), slice(Int($1))) < 0 }
        for k in 1..<Swift.max(1, order.count) where compare(slice(Int(order[k - 1])), slice(Int(order[k]))) == 0 { return nil }
        return order
    }
}
