// The model image: a file derived from the catalog tables that every backend serving a model
// maps read-only (issue 7, part 2), so that one more serving connection adds no private memory
// that grows with the catalog. The tables stay the truth; an image is rebuilt from them when it
// is missing, stale, damaged or of another format (see the glue's SharedModels).
//
// Layout (little-endian, every section aligned to 64 bytes):
//   header      256 bytes: magic "RECMODEL", format version, header size, file size, kind, model
//               version, training stamp, name hash, item counts and dimensions, the largest
//               |weight|, the section count, and the checksum of the header and section table
//   sections    `sectionCount` entries of 32 bytes: kind, element size, offset, count, checksum
//   payloads    one per section, in the order below
//   trailer     the magic again (8 bytes)
// Sections are tagged, so that another array kind adds section kinds without moving the others;
// a reader rejects a kind it does not know (the image is then rebuilt). The item keys of text/uuid
// ids are sections 16-18 (ImageKeys.swift). The sparse kind (header kind 2) has three sections instead of the
// dense weights: row starts (Int64 x (cf + 1), checked always: monotone from 0 to the pair
// count), target indices (Int32) and weights (Float), one per pair, both bulk: a damaged index
// is bounds-checked where it is used (SparseItemWeights), so it changes scores, never traps.
//
// Checks when a backend maps an image (see ModelImage.read):
//   always    magic, format version, header size, file size against the header, the header and
//             section table checksum, every section in bounds, aligned, of the right element
//             size and count for the model's sizes, and every section that grows with the items
//             (ids, index, popularity order, popularity, categories, content flags, users):
//             checksum plus a semantic check (indices in range, a permutation, the index sorted
//             and pointing back, offsets monotone, flags 0/1; item keys: offsets monotone and
//             ending at the blob, the key order a permutation strictly increasing): O(items + key
//             bytes), a few bytes per item.
//   full      (recommender.verify_shared_models = on) also the checksums of the float payloads
//             (weights, similarity and content vectors): O(size); it reads every page of the
//             file, which brings the whole image into the backend's resident set (as shared
//             file pages) and costs about 0.1 s per 400 MB.
// The float payloads are not checked by default: a damaged float can only change scores (a
// non-finite one is skipped like an unreachable item), never index out of bounds, and the
// builder computes their checksums while writing.
#if canImport(Glibc)
import Glibc
#endif

public enum ImageSection: UInt32, CaseIterable {
    case itemIds = 1          // Int64 x count
    case popularity = 2       // Double x count
    case popularOrder = 3     // Int32 x count: item indices, most popular first
    case indexIds = 4         // Int64 x count: item ids sorted
    case indexPositions = 5   // Int32 x count: the item index of each sorted id
    case denseWeights = 6     // Float x cf x cf, row-major
    case similarity = 7       // Float x count x similarityDims
    case categoryOffsets = 8  // Int64 x (count + 1)
    case categoryValues = 9   // Int32 x offsets[count], sorted per item
    case contentVectors = 10  // Float x count x contentDims
    case contentPresent = 11  // UInt8 x count (0/1)
    case users = 12           // Int64 x count
    // the sparse kind's rows (SparseItemWeights), instead of denseWeights:
    case sparseRowStarts = 13 // Int64 x (cf + 1): row h is pairs [starts[h], starts[h + 1])
    case sparseIndices = 14   // Int32 x nonZeros: target indices, increasing within a row
    case sparseWeights = 15   // Float x nonZeros
    case keyOffsets = 16      // Int64 x (count + 1): item keys (text/uuid ids), see ImageKeys.swift
    case keyBytes = 17        // UInt8 x keyOffsets[count]: the keys' UTF-8 bytes
    case keyOrder = 18        // Int32 x count: item indices sorted by key bytes
    // the content-only items' content vectors as posting lists by dimension (ContentSlots), so
    // that scoring them touches only the items sharing a dimension with the history's profile:
    case contentPostingStarts = 19  // Int64 x (contentDims + 2)
    case contentPostingItems = 20   // Int32 x (count - cf) x width (the tail unused, -1)
    case contentPostingValues = 21  // Float x (count - cf) x width

    var elementSize: Int {
        switch self {
        case .itemIds, .indexIds, .categoryOffsets, .users, .popularity, .keyOffsets, .sparseRowStarts, .contentPostingStarts: return 8
        case .popularOrder, .indexPositions, .categoryValues, .denseWeights, .similarity, .contentVectors, .keyOrder,
             .sparseIndices, .sparseWeights, .contentPostingItems, .contentPostingValues: return 4
        case .contentPresent, .keyBytes: return 1
        }
    }
    /// Sections whose size grows with items x items, items x dims or the sparse pairs: checksummed
    /// only in full mode (a damaged sparse index is bounds-checked at every use).
    var isBulk: Bool {
        self == .denseWeights || self == .similarity || self == .contentVectors || self == .sparseIndices
            || self == .sparseWeights || self == .contentPostingItems || self == .contentPostingValues
    }
}

/// What an image must hold to serve a model version: compared with the catalog on every open.
public struct ImageShape: Equatable, Sendable {
    public var modelVersion: Int64
    /// A stamp of the trained version (trained_at in microseconds): a version number reused after
    /// the model was dropped and registered again does not match an old image.
    public var stamp: Int64
    public var nameHash: UInt64
    public var cfCount: Int
    public var count: Int
    public var similarityDims: Int
    public var contentDims: Int
    public var hasCategories: Bool
    /// The item ids are keys (text or uuid): the image has the key sections.
    public var keys: KeyKind
    /// The sparse kind: its number of (index, weight) pairs (params->>'sparse_nonzeros'); nil for
    /// the dense kind.
    public var sparseNonZeros: Int?
    public init(modelVersion: Int64, stamp: Int64, nameHash: UInt64, cfCount: Int, count: Int,
                similarityDims: Int, contentDims: Int, hasCategories: Bool, keys: KeyKind = .none,
                sparseNonZeros: Int? = nil) {
        self.modelVersion = modelVersion; self.stamp = stamp; self.nameHash = nameHash; self.cfCount = cfCount
        self.count = count; self.similarityDims = similarityDims; self.contentDims = contentDims
        self.hasCategories = hasCategories; self.keys = keys; self.sparseNonZeros = sparseNonZeros
    }

    /// How the items are identified: integer ids only, or text or uuid keys (surrogate ids).
    public enum KeyKind: UInt32, Sendable { case none = 0, text = 1, uuid = 2 }

    /// The sections this shape has, in file order (category values and key bytes last: their
    /// counts are only known once every item was written).
    var sections: [ImageSection] {
        var s: [ImageSection] = [.itemIds, .popularity, .popularOrder, .indexIds, .indexPositions]
        s += sparseNonZeros == nil ? [.denseWeights] : [.sparseRowStarts, .sparseIndices, .sparseWeights]
        if similarityDims > 0 { s.append(.similarity) }
        if contentDims > 0 { s += [.contentVectors, .contentPresent, .contentPostingStarts, .contentPostingItems, .contentPostingValues] }
        s.append(.users)
        if keys != .none { s += [.keyOffsets, .keyOrder] }
        if hasCategories { s += [.categoryOffsets, .categoryValues] }
        if keys != .none { s.append(.keyBytes) }
        return s
    }

    func elements(_ s: ImageSection) -> Int? {
        switch s {
        case .itemIds, .popularity, .popularOrder, .indexIds, .indexPositions, .contentPresent, .users, .keyOrder: return count
        case .denseWeights: return mul(cfCount, cfCount)
        case .similarity: return mul(count, similarityDims)
        case .contentVectors: return mul(count, contentDims)
        case .categoryOffsets, .keyOffsets: return count + 1
        case .categoryValues, .keyBytes: return nil
        case .sparseRowStarts: return cfCount + 1
        case .sparseIndices, .sparseWeights: return sparseNonZeros
        case .contentPostingStarts: return contentDims + 2
        case .contentPostingItems, .contentPostingValues: return ContentSlots.capacity(items: count - cfCount, dims: contentDims)
        }
    }

    /// Section offsets and the file size, given the number of category values and of key bytes
    /// (nil on overflow).
    public func layout(categoryValues: Int = 0, keyBytes: Int = 0) -> (offsets: [ImageSection: Int], size: Int)? {
        var off = ModelImage.headerSize + sections.count * ModelImage.entrySize
        var out: [ImageSection: Int] = [:]
        for s in sections {
            guard let e = s == .categoryValues ? categoryValues : s == .keyBytes ? keyBytes : elements(s),
                  let b = mul(e, s.elementSize) else { return nil }
            off = ModelImage.align(off)
            out[s] = off
            let (r, o) = off.addingReportingOverflow(b)
            guard !o else { return nil }
            off = r
        }
        // an 8-byte trailer (the magic again): the file always ends with written bytes
        let (size, o) = off.addingReportingOverflow(8)
        return o ? nil : (out, size)
    }
}

@inline(__always) func mul(_ a: Int, _ b: Int) -> Int? {
    let (r, o) = a.multipliedReportingOverflow(by: b)
    return (o || a < 0 || b < 0) ? nil : r
}

/// A damaged, stale or foreign image (it is rebuilt from the tables).
public struct ImageRejected: Error, CustomStringConvertible {
    public let reason: String
    public init(_ r: String) { reason = r }
    public var description: String { reason }
}

public enum ModelImage {
    public static let magic: UInt64 = 0x4C45_444F_4D43_4552   // "RECMODEL" little-endian
    /// 2: the key kind in the header and the item key sections (16-18).
    /// 3: the content posting sections (19-21).
    public static let formatVersion: UInt32 = 3
    public static let headerSize = 256
    static let entrySize = 32
    static let kindDense: UInt32 = 1
    static let kindSparse: UInt32 = 2
    @inline(__always) static func align(_ x: Int) -> Int { (x + 63) & ~63 }

    /// FNV-1a of a model name (the image file's name and a header field).
    public static func nameHash(_ name: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    /// The file name of an image: name hash and version.
    public static func fileName(nameHash: UInt64, version: Int64) -> String {
        let hex = String(nameHash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex + "-\(version).img"
    }

    // Header field offsets.
    enum H {
        static let magic = 0, format = 8, headerSize = 12, fileSize = 16, kind = 24, sectionCount = 28
        static let version = 32, stamp = 40, nameHash = 48, cf = 56, count = 64, simDims = 72
        static let contentDims = 80, hasCategories = 88, maxAbs = 92, keyKind = 96, checksum = 104
    }

    /// Parsed sections of an image.
    public struct Parts {
        public var shape: ImageShape
        public var maxAbsWeight: Float
        public var itemIds: Column<Int64>
        public var popularity: Column<Double>
        public var popularOrder: Column<Int32>
        public var index: ItemIndex
        public var weights: Column<Float>
        /// The sparse kind's rows (weights is then empty); nil for the dense kind.
        public var sparse: SparseItemWeights?
        public var similarity: Column<Float>
        public var categories: CategoryLists?
        public var contentVectors: Column<Float>
        public var contentPresent: Column<Bool>
        /// The content-only items' vectors as posting lists (nil without content vectors).
        public var contentSlots: ContentSlots?
        public var users: Column<Int>
        /// The item keys (nil for integer ids).
        public var keys: ImageKeys?
        public var memory: ModelMemory
    }

    /// Validates an image against the shape the catalog expects (see the file comment for what
    /// is checked) and returns views of its sections. Throws ImageRejected.
    public static func read(_ mem: ModelMemory, expect: ImageShape, fullCheck: Bool,
                            interrupt: InterruptCheck = neverInterrupted) throws -> Parts {
        func u64(_ o: Int) throws -> UInt64 {
            guard let v = mem.load(UInt64.self, at: o) else { throw ImageRejected("the file is shorter than its header") }
            return UInt64(littleEndian: v)
        }
        func u32(_ o: Int) throws -> UInt32 {
            guard let v = mem.load(UInt32.self, at: o) else { throw ImageRejected("the file is shorter than its header") }
            return UInt32(littleEndian: v)
        }
        func keyKind() throws -> ImageShape.KeyKind {
            guard let k = ImageShape.KeyKind(rawValue: try u32(H.keyKind)) else { throw ImageRejected("unknown key kind") }
            return k
        }
        guard mem.size >= headerSize else { throw ImageRejected("the file is shorter than its header (\(mem.size) bytes)") }
        guard try u64(H.magic) == magic else { throw ImageRejected("not a model image (bad magic)") }
        guard try u32(H.format) == formatVersion else { throw ImageRejected("image format \(try u32(H.format)), expected \(formatVersion)") }
        guard try u32(H.headerSize) == UInt32(headerSize) else { throw ImageRejected("bad header size") }
        guard try u64(H.fileSize) == UInt64(mem.size) else {
            throw ImageRejected("the file has \(mem.size) bytes, its header says \(try u64(H.fileSize)) (truncated or extended)")
        }
        let nsec = Int(try u32(H.sectionCount))
        guard nsec <= 64, headerSize + nsec * entrySize <= mem.size else { throw ImageRejected("bad section count") }
        guard let headerSum = try mem.checksum(offset: 0, count: H.checksum),
              let tableSum = try mem.checksum(offset: headerSize, count: nsec * entrySize),
              try u64(H.checksum) == headerSum ^ (tableSum &* 31) else {
            throw ImageRejected("the header checksum does not match")
        }
        let kind = try u32(H.kind)
        guard kind == kindDense || kind == kindSparse else { throw ImageRejected("image kind \(kind) is not known") }
        // the pair count is not in the header: the sections' counts are checked against the
        // catalog's (expect) below
        guard (kind == kindSparse) == (expect.sparseNonZeros != nil) else {
            throw ImageRejected("the image is of another model kind")
        }
        let shape = ImageShape(modelVersion: Int64(bitPattern: try u64(H.version)), stamp: Int64(bitPattern: try u64(H.stamp)),
                               nameHash: try u64(H.nameHash), cfCount: Int(truncatingIfNeeded: try u64(H.cf)),
                               count: Int(truncatingIfNeeded: try u64(H.count)),
                               similarityDims: Int(truncatingIfNeeded: try u64(H.simDims)),
                               contentDims: Int(truncatingIfNeeded: try u64(H.contentDims)),
                               hasCategories: try u32(H.hasCategories) != 0,
                               keys: try keyKind(),
                               sparseNonZeros: kind == kindSparse ? expect.sparseNonZeros : nil)
        guard shape == expect else { throw ImageRejected("the image is of another model version or shape") }
        let maxAbs = Float(bitPattern: try u32(H.maxAbs))
        guard maxAbs.isFinite, maxAbs >= 0 else { throw ImageRejected("bad largest weight") }
        // the section table
        var entries: [ImageSection: (offset: Int, count: Int, sum: UInt64)] = [:]
        var last = headerSize + nsec * entrySize
        for k in 0..<nsec {
            let e = headerSize + k * entrySize
            guard let kind = ImageSection(rawValue: try u32(e)) else { throw ImageRejected("unknown section kind \(try u32(e))") }
            guard Int(try u32(e + 4)) == kind.elementSize, entries[kind] == nil else { throw ImageRejected("bad section \(kind)") }
            let off = Int(truncatingIfNeeded: try u64(e + 8)), cnt = Int(truncatingIfNeeded: try u64(e + 16))
            guard off >= last, off % 64 == 0, cnt >= 0, let b = mul(cnt, kind.elementSize), off <= mem.size, b <= mem.size - off else {
                throw ImageRejected("section \(kind) is out of bounds")
            }
            if let want = shape.elements(kind), want != cnt { throw ImageRejected("section \(kind) has the wrong size") }
            entries[kind] = (off, cnt, try u64(e + 24))
            last = off + b
        }
        guard Set(entries.keys) == Set(shape.sections) else { throw ImageRejected("the image lacks sections or has extra ones") }
        func section<T>(_ k: ImageSection, _ t: T.Type) throws -> Column<T> {
            guard let e = entries[k], let col = mem.column(T.self, offset: e.offset, count: e.count) else {
                throw ImageRejected("section \(k) is out of bounds")
            }
            if !k.isBulk || fullCheck {
                guard try mem.checksum(offset: e.offset, count: e.count * k.elementSize, interrupt: interrupt) == e.sum else {
                    throw ImageRejected("the checksum of section \(k) does not match")
                }
            }
            return col
        }
        let n = shape.count
        let ids = try section(.itemIds, Int64.self)
        let pop = try section(.popularity, Double.self)
        guard pop.allSatisfy({ $0.isFinite }) else { throw ImageRejected("non-finite popularity") }
        let order = try section(.popularOrder, Int32.self)
        var seen = [Bool](repeating: false, count: n)
        for i in order {
            guard i >= 0, Int(i) < n, !seen[Int(i)] else { throw ImageRejected("the popularity order is not a permutation") }
            seen[Int(i)] = true
        }
        let index = ItemIndex(sortedIds: try section(.indexIds, Int64.self), positions: try section(.indexPositions, Int32.self))
        for k in 0..<n {
            let p = index.positions[k]
            guard p >= 0, Int(p) < n, ids[Int(p)] == index.sortedIds[k], k == 0 || index.sortedIds[k - 1] < index.sortedIds[k] else {
                throw ImageRejected("the id index is damaged")
            }
        }
        try interrupt()
        var weights = Column<Float>()
        var sparse: SparseItemWeights? = nil
        if let nnz = shape.sparseNonZeros {
            // row starts: always checked (O(items)); indices and weights are bulk, so every use
            // of a stored index is bounds-checked (SparseItemWeights.addRow, weight)
            let cf = shape.cfCount
            let starts = try section(.sparseRowStarts, Int64.self)
            guard starts.count == cf + 1, starts[0] == 0, starts[cf] == Int64(nnz) else {
                throw ImageRejected("the sparse row starts are damaged")
            }
            for h in 0..<cf where starts[h] > starts[h + 1] { throw ImageRejected("the sparse row starts are damaged") }
            let cols = try section(.sparseIndices, Int32.self), vals = try section(.sparseWeights, Float.self)
            guard cols.count == nnz, vals.count == nnz else { throw ImageRejected("the sparse rows have the wrong size") }
            sparse = SparseItemWeights(n: cf, rowStart: starts, cols: cols, vals: vals)
        } else {
            weights = try section(.denseWeights, Float.self)
        }
        let sim = shape.similarityDims > 0 ? try section(.similarity, Float.self) : Column<Float>()
        var cats: CategoryLists? = nil
        if shape.hasCategories {
            let offs = try section(.categoryOffsets, Int64.self)
            let vals = try section(.categoryValues, Int32.self)
            guard offs[0] == 0, offs[n] == Int64(vals.count) else { throw ImageRejected("the category lists are damaged") }
            for i in 0..<n where offs[i] > offs[i + 1] { throw ImageRejected("the category lists are damaged") }
            cats = CategoryLists(offsets: offs, values: vals)
        }
        var cvec = Column<Float>(), present = Column<Bool>()
        var slots: ContentSlots? = nil
        if shape.contentDims > 0 {
            cvec = try section(.contentVectors, Float.self)
            let flags = try section(.contentPresent, UInt8.self)
            guard flags.allSatisfy({ $0 <= 1 }) else { throw ImageRejected("bad content flags") }
            // 0/1 bytes are valid Bools: the same bytes viewed as Bool
            guard let e = entries[.contentPresent], let p = mem.column(Bool.self, offset: e.offset, count: e.count) else {
                throw ImageRejected("bad content flags")
            }
            present = p
            // the starts always (O(dims)); items and values are bulk: a damaged item index is
            // bounds-checked where it is read (ContentSlots)
            let l = ContentSlots(first: shape.cfCount, dims: shape.contentDims, starts: try section(.contentPostingStarts, Int64.self),
                                 items: try section(.contentPostingItems, Int32.self), values: try section(.contentPostingValues, Float.self))
            guard l.covers(first: shape.cfCount, count: n, dims: shape.contentDims) else {
                throw ImageRejected("the content posting lists are damaged")
            }
            slots = l
        }
        let users = try section(.users, Int.self)
        guard users.allSatisfy({ $0 >= 0 }) else { throw ImageRejected("negative user counts") }
        var keys: ImageKeys? = nil
        if shape.keys != .none {
            keys = try ImageKeys(offsets: try section(.keyOffsets, Int64.self), bytes: try section(.keyBytes, UInt8.self),
                                 order: try section(.keyOrder, Int32.self), isUUID: shape.keys == .uuid, interrupt: interrupt)
        }
        return Parts(shape: shape, maxAbsWeight: maxAbs, itemIds: ids, popularity: pop, popularOrder: order, index: index,
                     weights: weights, sparse: sparse, similarity: sim, categories: cats, contentVectors: cvec, contentPresent: present,
                     contentSlots: slots, users: users, keys: keys, memory: mem)
    }
}

/// Writes an image item by item (in index order), streaming the big rows to the sink and
/// keeping only O(items) small arrays until `finish()` writes them and the header. The sink is
/// a temporary file (renamed into place by the caller once complete) or private memory.
public final class ImageWriter {
    public let shape: ImageShape
    let sink: ImageSink
    var offsets: [ImageSection: Int] = [:]
    var sums: [ImageSection: Checksum] = [:]
    var next = 0
    var ids: [Int64] = [], pop: [Double] = [], users: [Int64] = [], present: [UInt8] = []
    var catOffsets: [Int64] = [0], catValues: [Int32] = []
    var keyOffsets: [Int64] = [0], keyBytes: [UInt8] = []
    /// The content-only items' posting lists, laid out by finish().
    var postings: ContentSlots.Builder
    /// The sparse kind: row starts so far (rows are added in index order).
    var rowStarts: [Int64] = [0]
    var maxAbs: Float = 0

    public init(shape: ImageShape, sink: ImageSink) throws {
        guard shape.cfCount >= 0, shape.cfCount <= shape.count, shape.similarityDims >= 0, shape.contentDims >= 0,
              let layout = shape.layout() else {
            throw RecError.internalError("model image: invalid shape")
        }
        self.shape = shape
        self.sink = sink
        postings = ContentSlots.Builder(first: shape.cfCount, dims: shape.contentDims)
        // category values come last: their offset does not depend on their count
        offsets = layout.offsets
        for s in shape.sections { sums[s] = Checksum() }
        ids.reserveCapacity(shape.count); pop.reserveCapacity(shape.count); users.reserveCapacity(shape.count)
    }

    /// Adds item `next` (items come in index order). `weights` is its row (cfCount values) when
    /// it is a collaborative item of a dense shape, `sparseRow` its (index, weight) pairs when the
    /// shape is sparse; `similarity` and `content` its vectors (content nil: none), `key` its key
    /// when the shape has keys.
    public func add(id: Int64, popularity: Double, users u: Int, categories: [Int32],
                    weights: ArraySlice<Float>, sparseRow: [(Int32, Float)]? = nil,
                    similarity: ArraySlice<Float>, content: ArraySlice<Float>?,
                    key: String? = nil) throws {
        let i = next
        guard i < shape.count else { throw RecError.internalError("model image: more items than the shape") }
        if shape.keys != .none {
            guard let k = key else { throw RecError.internalError("model item \(id) has no key") }
            keyBytes += k.utf8
            keyOffsets.append(Int64(keyBytes.count))
        }
        guard popularity.isFinite else { throw RecError.internalError("model popularity holds a non-finite value") }
        guard u >= 0 else { throw RecError.internalError("model item \(id) has a negative user count") }
        ids.append(id); pop.append(popularity); users.append(Int64(u))
        if shape.hasCategories {
            catValues += categories.sorted()
            catOffsets.append(Int64(catValues.count))
        }
        if i < shape.cfCount, let nnz = shape.sparseNonZeros {
            guard let row = sparseRow else { throw RecError.internalError("model image: a sparse row is missing") }
            let start = Int(rowStarts[rowStarts.count - 1])
            guard row.count <= nnz - start else { throw RecError.internalError("model image: more sparse weights than the shape") }
            var cols = [Int32](), vals = [Float]()
            cols.reserveCapacity(row.count); vals.reserveCapacity(row.count)
            var last: Int32 = -1
            for (c, w) in row {
                guard c > last, Int(c) < shape.cfCount, w.isFinite else {
                    throw RecError.internalError("model image: a damaged sparse row")
                }
                last = c
                maxAbs = max(maxAbs, abs(w))
                cols.append(c); vals.append(w)
            }
            try put(.sparseIndices, cols[...], at: start)
            try put(.sparseWeights, vals[...], at: start)
            rowStarts.append(Int64(start + row.count))
        } else if i < shape.cfCount {
            guard weights.count == shape.cfCount else { throw RecError.internalError("model image: a weight row of the wrong size") }
            for w in weights {
                guard w.isFinite else { throw RecError.internalError("model weights hold a non-finite value") }
                maxAbs = max(maxAbs, abs(w))
            }
            try put(.denseWeights, weights, at: i * shape.cfCount)
        }
        if shape.similarityDims > 0 {
            guard similarity.count == shape.similarityDims else { throw RecError.internalError("model image: a similarity vector of the wrong size") }
            try put(.similarity, similarity, at: i * shape.similarityDims)
        }
        if shape.contentDims > 0 {
            if let c = content {
                guard c.count == shape.contentDims, c.allSatisfy({ $0.isFinite }) else {
                    throw RecError.internalError("model content vectors have the wrong size or a non-finite value")
                }
                try put(.contentVectors, c, at: i * shape.contentDims)
                present.append(1)
            } else {
                try put(.contentVectors, [Float](repeating: 0, count: shape.contentDims)[...], at: i * shape.contentDims)
                present.append(0)
            }
            if i >= shape.cfCount { postings.add(item: i, vector: content) }
        }
        next += 1
    }

    /// Rows are written in order, so each section's checksum is computed as it is written.
    func put<T>(_ s: ImageSection, _ values: ArraySlice<T>, at element: Int) throws {
        guard let base = offsets[s] else { return }
        var sum = sums[s] ?? Checksum()
        try sink.write(values, at: base + element * s.elementSize, into: &sum)
        sums[s] = sum
    }

    /// Size of the whole image once every item was added.
    public var totalSize: Int { shape.layout(categoryValues: catValues.count, keyBytes: keyBytes.count)?.size ?? 0 }

    /// Writes the item-sized sections and then the header (last: an image whose header is not
    /// written is rejected). Returns the file size.
    @discardableResult
    public func finish(interrupt: InterruptCheck = neverInterrupted) throws -> Int {
        let n = shape.count
        guard next == n else { throw RecError.internalError("model image: \(next) of \(n) items written") }
        try interrupt()
        let order = (0..<Int32(n)).sorted {
            let a = pop[Int($0)], b = pop[Int($1)]
            return a != b ? a > b : ids[Int($0)] < ids[Int($1)]
        }
        let byId = (0..<Int32(n)).sorted { ids[Int($0)] < ids[Int($1)] }
        let sortedIds = byId.map { ids[Int($0)] }
        for k in 1..<max(1, n) where sortedIds[k - 1] == sortedIds[k] {
            throw RecError.internalError("model lists item \(sortedIds[k]) twice")
        }
        var keyOrder: [Int32] = []
        if shape.keys != .none {
            guard let o = ImageKeys.sortedOrder(offsets: keyOffsets, bytes: keyBytes) else {
                throw RecError.internalError("model lists an item key twice")
            }
            keyOrder = o
            // the key bytes come after the category values: their offset is known now
            guard let l = shape.layout(categoryValues: catValues.count, keyBytes: keyBytes.count) else {
                throw RecError.internalError("model image: invalid shape")
            }
            offsets = l.offsets
        }
        try interrupt()
        try put(.itemIds, ids[...], at: 0)
        try put(.popularity, pop[...], at: 0)
        try put(.popularOrder, order[...], at: 0)
        try put(.indexIds, sortedIds[...], at: 0)
        try put(.indexPositions, byId[...], at: 0)
        try put(.users, users[...], at: 0)
        if let nnz = shape.sparseNonZeros {
            guard rowStarts.count == shape.cfCount + 1, rowStarts[shape.cfCount] == Int64(nnz) else {
                throw RecError.internalError("model image: \(rowStarts.last ?? 0) of \(nnz) sparse weights written")
            }
            try put(.sparseRowStarts, rowStarts[...], at: 0)
        }
        if shape.contentDims > 0 {
            try put(.contentPresent, present[...], at: 0)
            guard let cap = shape.elements(.contentPostingItems), let l = postings.finish(capacity: cap) else {
                throw RecError.internalError("model image: the content posting lists do not fit")
            }
            try put(.contentPostingStarts, l.starts[...], at: 0)
            try put(.contentPostingItems, l.items[...], at: 0)
            try put(.contentPostingValues, l.values[...], at: 0)
        }
        if shape.hasCategories {
            try put(.categoryOffsets, catOffsets[...], at: 0)
            try put(.categoryValues, catValues[...], at: 0)
        }
        if shape.keys != .none {
            try put(.keyOffsets, keyOffsets[...], at: 0)
            try put(.keyOrder, keyOrder[...], at: 0)
            try put(.keyBytes, keyBytes[...], at: 0)
        }
        let size = totalSize
        try sink.write([ModelImage.magic.littleEndian], at: size - 8)
        // the section table and the header
        var table: [UInt8] = []
        func le64(_ v: UInt64, _ out: inout [UInt8]) { for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(k)))) } }
        func le32(_ v: UInt32, _ out: inout [UInt8]) { for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(k)))) } }
        for s in shape.sections {
            le32(s.rawValue, &table); le32(UInt32(s.elementSize), &table)
            le64(UInt64(offsets[s] ?? 0), &table)
            le64(UInt64(s == .categoryValues ? catValues.count : s == .keyBytes ? keyBytes.count : (shape.elements(s) ?? 0)), &table)
            le64(sums[s]?.value ?? 0, &table)
        }
        var header: [UInt8] = []
        le64(ModelImage.magic, &header); le32(ModelImage.formatVersion, &header); le32(UInt32(ModelImage.headerSize), &header)
        le64(UInt64(size), &header)
        le32(shape.sparseNonZeros == nil ? ModelImage.kindDense : ModelImage.kindSparse, &header); le32(UInt32(shape.sections.count), &header)
        le64(UInt64(bitPattern: shape.modelVersion), &header); le64(UInt64(bitPattern: shape.stamp), &header)
        le64(shape.nameHash, &header); le64(UInt64(shape.cfCount), &header); le64(UInt64(shape.count), &header)
        le64(UInt64(shape.similarityDims), &header); le64(UInt64(shape.contentDims), &header)
        le32(shape.hasCategories ? 1 : 0, &header); le32(maxAbs.bitPattern, &header)
        le32(shape.keys.rawValue, &header); le32(0, &header)
        precondition(header.count == ModelImage.H.checksum)
        var hs = Checksum(); hs.add(header[...])
        var ts = Checksum(); ts.add(table[...])
        le64(hs.value ^ (ts.value &* 31), &header)
        header += [UInt8](repeating: 0, count: ModelImage.headerSize - header.count)
        try sink.write(table, at: ModelImage.headerSize)
        try sink.write(header, at: 0)
        return size
    }
}

/// id -> item index without a per-backend dictionary: the ids sorted, with each one's index,
/// searched by bisection (O(log items) per lookup; a history has tens of items).
public struct ItemIndex: Sendable {
    public let sortedIds: Column<Int64>
    public let positions: Column<Int32>

    public init(sortedIds: Column<Int64>, positions: Column<Int32>) {
        self.sortedIds = sortedIds; self.positions = positions
    }

    /// Built in memory from the ids in index order; nil when an id appears twice.
    public init?(ids: Column<Int64>) {
        let byId = (0..<Int32(ids.count)).sorted { ids[Int($0)] < ids[Int($1)] }
        let sorted = byId.map { ids[Int($0)] }
        for k in 1..<max(1, sorted.count) where sorted[k - 1] == sorted[k] { return nil }
        self.init(sortedIds: Column(sorted), positions: Column(byId))
    }

    public var count: Int { sortedIds.count }

    public subscript(id: Int64) -> Int32? {
        var lo = 0, hi = sortedIds.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if sortedIds[mid] < id { lo = mid + 1 } else { hi = mid }
        }
        return lo < sortedIds.count && sortedIds[lo] == id ? positions[lo] : nil
    }
}

/// Per item, its sorted category ids: offsets into one array of values (CSR).
public struct CategoryLists: RandomAccessCollection, Sendable {
    public let offsets: Column<Int64>
    public let values: Column<Int32>

    public init(offsets: Column<Int64>, values: Column<Int32>) { self.offsets = offsets; self.values = values }

    public init(_ lists: [[Int32]]) {
        var offs: [Int64] = [0]
        var vals: [Int32] = []
        offs.reserveCapacity(lists.count + 1)
        for l in lists { vals += l; offs.append(Int64(vals.count)) }
        self.init(offsets: Column(offs), values: Column(vals))
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { Swift.max(0, offsets.count - 1) }
    /// Item i's list: a borrowed view, valid while these lists are (no reference counting).
    public subscript(i: Int) -> Column<Int32> {
        let a = Int(offsets[i]), b = Int(offsets[i + 1])
        return values.view(from: a, length: b - a)
    }

    /// Item i's list, nil when i is out of range.
    @inline(__always) public func list(at i: Int) -> Column<Int32>? {
        i >= 0 && i < count ? self[i] : nil
    }

    /// Jaccard similarity of two items' lists.
    public func jaccard(_ a: Int, _ b: Int) -> Double {
        guard a >= 0, b >= 0, a < count, b < count else { return 0 }
        return RecommenderCore.jaccard(self[a], self[b])
    }
}
