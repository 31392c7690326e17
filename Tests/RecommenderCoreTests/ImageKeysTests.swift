import XCTest
@testable import RecommenderCore

/// Item keys (text/uuid ids) in the model image: written with the items, mapped back as views,
/// looked up by binary search; damaged key sections are rejected.
final class ImageKeysTests: XCTestCase {
    static let keys: [String] = [
        "SKU-1", "", " ", "a", "ab", "abc", "é", "e\u{301}", "日本語のキー", "🛒cart", "it's", "say \"hi\"", "back\\slash",
        "comma,brace{}", "NULL", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", String(repeating: "x", count: 5000),
        String(repeating: "ü", count: 3000), "tab\there", "new\nline", "SKU-10", "SKU-2",
    ]

    /// Surrogate ids as training gives them (0, 1, 2, ... in the order met), items in another order.
    func shape(_ n: Int, _ kind: ImageShape.KeyKind = .text) -> ImageShape {
        ImageShape(modelVersion: 3, stamp: 5, nameHash: ModelImage.nameHash("k"), cfCount: n, count: n,
                   similarityDims: 0, contentDims: 0, hasCategories: n % 2 == 0, keys: kind)
    }

    func image(_ keys: [String], _ kind: ImageShape.KeyKind = .text) throws -> [UInt8] {
        let n = keys.count, s = shape(n, kind)
        let values = s.hasCategories ? n : 0
        let size = s.layout(categoryValues: values, keyBytes: keys.reduce(0) { $0 + $1.utf8.count })!.size
        let sink = try MemorySink(size: size)
        let w = try ImageWriter(shape: s, sink: sink)
        for (i, k) in keys.enumerated() {
            var row = [Float](repeating: 0, count: n)
            if n > 1 { row[(i + 1) % n] = 1 }
            try w.add(id: Int64(n - 1 - i), popularity: Double(i % 3), users: 1, categories: [Int32(i % 4)],
                      weights: row[...], similarity: [][...], content: nil, key: k)
        }
        let written = try w.finish()
        XCTAssertEqual(written, size)
        return sink.memory.bytes
    }

    func read(_ bytes: [UInt8], _ n: Int, _ kind: ImageShape.KeyKind = .text, full: Bool = false) throws -> ModelImage.Parts {
        try ModelImage.read(ModelMemory.copy(of: bytes), expect: shape(n, kind), fullCheck: full)
    }

    func testRoundTripAndLookup() throws {
        for kind in [ImageShape.KeyKind.text, .uuid] {
            let keys = Self.keys
            let p = try read(try image(keys, kind), keys.count, kind)
            let k = try XCTUnwrap(p.keys)
            XCTAssertEqual(k.isUUID, kind == .uuid)
            XCTAssertEqual(k.count, keys.count)
            for (i, key) in keys.enumerated() {
                XCTAssertEqual(k.key(at: i), key, "item \(i)")
                XCTAssertEqual(k.index(of: key), i, "key \(key.prefix(20))")
                // the model serves through ids: key -> item -> surrogate and back
                XCTAssertEqual(p.itemIds[i], Int64(keys.count - 1 - i))
            }
            // absent keys: neighbours in byte order, prefixes, other normalisation, case
            for absent in ["SKU-", "SKU-11", "sku-1", "abcd", "b", "\u{0}", "e", "ü", String(repeating: "x", count: 4999),
                           String(repeating: "x", count: 5001), "日本語", "zzzz"] {
                XCTAssertNil(k.index(of: absent), absent)
            }
            XCTAssertNil(k.key(at: -1)); XCTAssertNil(k.key(at: keys.count))
        }
    }

    func testIntegerModelsHaveNoKeySections() throws {
        let s = shape(4, .none)
        XCTAssertFalse(s.sections.contains(.keyOffsets) || s.sections.contains(.keyBytes) || s.sections.contains(.keyOrder))
        XCTAssertEqual(Set(shape(4).sections).subtracting(s.sections), [.keyOffsets, .keyBytes, .keyOrder])
    }

    func testManyKeysLookup() throws {
        let keys = (0..<3000).map { "item-\(String($0 * 7919 % 3001, radix: 36))-\(String(repeating: "k", count: $0 % 40))" }
        let p = try read(try image(keys), keys.count)
        let k = try XCTUnwrap(p.keys)
        for (i, key) in keys.enumerated() { XCTAssertEqual(k.index(of: key), i) }
        XCTAssertNil(k.index(of: "item-"))
    }

    func testEmptyCatalogAndOneKey() throws {
        XCTAssertEqual(try read(try image([]), 0).keys?.count, 0)
        let one = try read(try image([""]), 1)
        XCTAssertEqual(one.keys?.index(of: ""), 0)
        XCTAssertNil(one.keys?.index(of: " "))
    }

    func testWriterRefusesMissingAndDuplicateKeys() throws {
        let s = shape(2)
        let w = try ImageWriter(shape: s, sink: MemorySink(size: 1 << 16))
        XCTAssertThrowsError(try w.add(id: 1, popularity: 0, users: 0, categories: [], weights: [0, 0][...], similarity: [][...], content: nil))
        XCTAssertThrowsError(try image(["a", "b", "a"]))
    }

    func testKeyedImageIsNotAnIntegerImage() throws {
        let bytes = try image(["a", "b", "c"])
        XCTAssertThrowsError(try read(bytes, 3, .none))
        XCTAssertThrowsError(try read(bytes, 3, .uuid))
    }

    /// A flipped byte in each key section is rejected even without the full check (they are
    /// O(items) sections, always checksummed).
    func testDamagedKeySectionsAreRejected() throws {
        let keys = Self.keys
        let good = try image(keys)
        XCTAssertNoThrow(try read(good, keys.count))
        let nsec = Int(good[28])
        var found = Set<ImageSection>()
        for k in 0..<nsec {
            let e = ModelImage.headerSize + k * 32
            guard let kind = ImageSection(rawValue: UInt32(good[e])), [.keyOffsets, .keyBytes, .keyOrder].contains(kind) else { continue }
            found.insert(kind)
            var off = 0, cnt = 0
            for b in 0..<8 { off |= Int(good[e + 8 + b]) << (8 * b); cnt |= Int(good[e + 16 + b]) << (8 * b) }
            let bytes = cnt * kind.elementSize
            for at in [off, off + bytes / 2, off + bytes - 1] {
                var bad = good; bad[at] ^= 0x01
                XCTAssertThrowsError(try read(bad, keys.count), "\(kind) byte \(at - off)") { XCTAssertTrue($0 is ImageRejected) }
            }
        }
        XCTAssertEqual(found, [.keyOffsets, .keyBytes, .keyOrder])
    }

    /// The semantic checks behind the checksums: offsets, permutation, order.
    func testInconsistentKeySectionsAreRejected() throws {
        let bytes = Column(Array("aabc".utf8))      // "a", "ab", "c"
        func make(_ offs: [Int64], _ order: [Int32]) throws -> ImageKeys {
            try ImageKeys(offsets: Column(offs), bytes: bytes, order: Column(order), isUUID: false)
        }
        XCTAssertNoThrow(try make([0, 1, 3, 4], [0, 1, 2]))
        XCTAssertThrowsError(try make([1, 1, 3, 4], [0, 1, 2]))         // does not start at 0
        XCTAssertThrowsError(try make([0, 3, 1, 4], [0, 1, 2]))         // decreasing
        XCTAssertThrowsError(try make([0, 1, 3, 5], [0, 1, 2]))         // past the blob
        XCTAssertThrowsError(try make([0, 1, 3], [0, 1, 2]))            // one offset short
        XCTAssertThrowsError(try make([0, 1, 3, 4], [1, 0, 2]))         // not sorted
        XCTAssertThrowsError(try make([0, 1, 3, 4], [0, 0, 2]))         // not a permutation
        XCTAssertThrowsError(try make([0, 1, 3, 4], [0, 1, 3]))         // out of range
        XCTAssertThrowsError(try make([0, 1, 3, 4], [0, 1, -1]))
        XCTAssertThrowsError(try ImageKeys(offsets: Column([0, 1, 2]), bytes: Column(Array("aa".utf8)), order: Column([0, 1]), isUUID: false))  // duplicate
    }
}
