// The one layer that holds raw memory of models and touches files for them (the developers'
// guide: every unsafe pointer in one handle type). A model's big arrays are `Column`s: a typed,
// bounds-checked, read-only view into a `ModelMemory`, which is either a read-only shared file
// mapping (a model image, see ModelImage.swift), an anonymous private mapping (a private image,
// when images cannot be written), or a heap copy of a Swift array (models built in memory:
// tests, training). open/mmap/munmap/pwrite/fsync/rename/flock all live here.
#if canImport(Glibc)
import Glibc
#endif

/// Owns a region of bytes; frees it (munmap or deallocate) when the last Column over it goes.
public final class ModelMemory: @unchecked Sendable {
    enum Kind { case fileMapping, anonymous, heap }
    let base: UnsafeMutableRawPointer?
    public let size: Int
    let kind: Kind
    /// Where a file mapping came from (for messages), "" otherwise.
    public let path: String

    init(base: UnsafeMutableRawPointer?, size: Int, kind: Kind, path: String = "") {
        self.base = base; self.size = size; self.kind = kind; self.path = path
    }

    deinit {
        guard let b = base, size > 0 else { return }
        switch kind {
        case .fileMapping, .anonymous: munmap(b, size)
        case .heap: b.deallocate()
        }
    }

    /// Whether the bytes are a shared file mapping (no private memory per backend).
    public var isShared: Bool { kind == .fileMapping }

    /// Maps a file read-only and shared. The descriptor is closed at once (the mapping stays).
    public static func mapFile(_ path: String) throws -> ModelMemory {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(errno, "open", path) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileError(errno, "fstat", path) }
        let size = Int(st.st_size)
        guard size > 0 else { throw FileError(EINVAL, "map (empty file)", path) }
        let p = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0)
        guard let m = p, m != MAP_FAILED else { throw FileError(errno, "mmap", path) }
        return ModelMemory(base: m, size: size, kind: .fileMapping, path: path)
    }

    /// Copies bytes (tests: a damaged image in memory).
    public static func copy(of bytes: [UInt8]) -> ModelMemory {
        let m = heap(bytes.count)
        if let b = m.base { bytes.withUnsafeBytes { src in if let s = src.baseAddress { b.copyMemory(from: s, byteCount: bytes.count) } } }
        return m
    }

    static func heap(_ size: Int) -> ModelMemory {
        let p = size > 0 ? UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64) : nil
        if let p = p { p.initializeMemory(as: UInt8.self, repeating: 0, count: size) }
        return ModelMemory(base: p, size: size, kind: .heap)
    }

    /// The bytes as an array (tests).
    public var bytes: [UInt8] {
        guard let b = base, size > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: b, count: size))
    }

    /// A typed view of `count` elements at byte `offset`; nil when out of bounds or misaligned.
    func column<T>(_: T.Type, offset: Int, count: Int) -> Column<T>? {
        guard offset >= 0, count >= 0, offset % MemoryLayout<T>.alignment == 0 else { return nil }
        let (bytes, o1) = count.multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        let (end, o2) = offset.addingReportingOverflow(bytes)
        guard !o1, !o2, end <= size else { return nil }
        guard count > 0, let b = base else { return Column<T>() }
        return Column(owner: self, base: UnsafePointer(b.advanced(by: offset).assumingMemoryBound(to: T.self)), count: count)
    }

    /// The loaded value of type T at byte offset (unaligned allowed); nil when out of bounds.
    func load<T>(_: T.Type, at offset: Int) -> T? {
        guard offset >= 0, offset <= size - MemoryLayout<T>.size, let b = base else { return nil }
        return b.loadUnaligned(fromByteOffset: offset, as: T.self)
    }

    /// The checksum of bytes [offset, offset + count) (see Checksum); nil when out of bounds.
    func checksum(offset: Int, count: Int, interrupt: InterruptCheck = neverInterrupted) throws -> UInt64? {
        guard offset >= 0, count >= 0, offset <= size, count <= size - offset else { return nil }
        var h = Checksum()
        guard let b = base, count > 0 else { return h.value }
        var start = 0
        while start < count {
            let end = min(count, start + 1 << 24)
            h.add(UnsafeRawBufferPointer(start: b + offset + start, count: end - start))
            start = end
            if start < count { try interrupt() }
        }
        return h.value
    }
}

/// A read-only, bounds-checked array-like view of elements in a ModelMemory. Reading out of
/// bounds traps like an Array does; the image reader validates every index it stores first.
public struct Column<Element>: RandomAccessCollection, @unchecked Sendable {
    let owner: ModelMemory?
    let base: UnsafePointer<Element>?
    public let count: Int

    init(owner: ModelMemory?, base: UnsafePointer<Element>?, count: Int) {
        self.owner = owner; self.base = base; self.count = count
    }

    public init() { owner = nil; base = nil; count = 0 }

    /// A heap copy of an array (models built in memory).
    public init(_ array: [Element]) {
        let bytes = array.count * MemoryLayout<Element>.stride
        guard bytes > 0 else { self.init(); return }
        let m = ModelMemory.heap(bytes)
        let p = m.base!.bindMemory(to: Element.self, capacity: array.count)
        array.withUnsafeBufferPointer { src in
            if let s = src.baseAddress { p.update(from: s, count: array.count) }
        }
        self.init(owner: m, base: UnsafePointer(p), count: array.count)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    @inline(__always) public func index(after i: Int) -> Int { i + 1 }
    @inline(__always) public func index(before i: Int) -> Int { i - 1 }

    @inline(__always) public subscript(i: Int) -> Element {
        precondition(i >= 0 && i < count, "Column index out of range")
        return base.unsafelyUnwrapped[i]
    }

    /// A borrowed sub-view of elements [from, from + length): it does not keep the memory alive
    /// (no reference counting on the hot paths that take one per item, e.g. category lists), so
    /// it must not outlive the column it was taken from.
    public func view(from: Int, length: Int) -> Column<Element> {
        precondition(from >= 0 && length >= 0 && from <= count - length, "Column view out of range")
        guard length > 0, let b = base else { return Column() }
        return Column(owner: nil, base: b + from, count: length)
    }

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: base, count: count))
    }

    /// Whether the elements live in a shared file mapping.
    public var isShared: Bool { owner?.isShared ?? false }
}

extension Column: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: Element...) { self.init(elements) }
}

extension Column: Equatable where Element: Equatable {
    public static func == (a: Column, b: Column) -> Bool { a.elementsEqual(b) }
}

/// A 64-bit checksum over bytes: one multiply-xorshift step per little-endian 8-byte word
/// (each step is a bijection of the state for a fixed word and of the word for a fixed state, so
/// any change of a single word always changes the result), the tail zero-padded, the length
/// folded in. Incremental: the result does not depend on how the bytes were split.
public struct Checksum {
    var h: UInt64 = 0x243F_6A88_85A3_08D3
    var length: UInt64 = 0
    var tail: UInt64 = 0
    var tailBytes = 0

    public init() {}

    @inline(__always) mutating func mix(_ w: UInt64) {
        h = (h ^ w) &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 29
    }

    mutating func add(_ raw: UnsafeRawBufferPointer) {
        guard let p = raw.baseAddress else { return }
        var i = 0
        let n = raw.count
        length &+= UInt64(n)
        while tailBytes > 0 && i < n {
            tail |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << (8 * UInt64(tailBytes))
            tailBytes += 1; i += 1
            if tailBytes == 8 { mix(tail); tail = 0; tailBytes = 0 }
        }
        while i + 8 <= n {
            mix(UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
            i += 8
        }
        while i < n {
            tail |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << (8 * UInt64(tailBytes))
            tailBytes += 1; i += 1
        }
    }

    public mutating func add<T>(_ values: ArraySlice<T>) {
        values.withUnsafeBytes { add($0) }
    }

    public var value: UInt64 {
        var c = self
        if c.tailBytes > 0 { c.mix(c.tail) }
        c.mix(c.length)
        return c.h
    }
}

/// A failed file operation: errno, what was done, and on which path.
public struct FileError: Error, CustomStringConvertible {
    public let code: Int32
    public let operation: String
    public let path: String
    public init(_ code: Int32, _ operation: String, _ path: String) { self.code = code; self.operation = operation; self.path = path }
    public var reason: String { String(cString: strerror(code)) }
    public var description: String { "\(operation) \"\(path)\": \(reason)" }
    public var isDiskFull: Bool { code == ENOSPC || code == EDQUOT }
}

/// Where an image is written: a file (pwrite) or private memory.
public protocol ImageSink: AnyObject {
    func write(_ raw: UnsafeRawBufferPointer, at offset: Int) throws
}

extension ImageSink {
    /// Writes the elements of an array slice at a byte offset; returns their checksum contribution.
    func write<T>(_ values: ArraySlice<T>, at offset: Int, into sum: inout Checksum) throws {
        try values.withUnsafeBytes { raw in
            sum.add(raw)
            try write(raw, at: offset)
        }
    }
    func write<T>(_ values: [T], at offset: Int, into sum: inout Checksum) throws {
        try write(values[...], at: offset, into: &sum)
    }
    func write<T>(_ values: [T], at offset: Int) throws {
        try values.withUnsafeBytes { try write($0, at: offset) }
    }
}

/// Private memory an image is built into when it cannot be written to a file.
public final class MemorySink: ImageSink {
    public let memory: ModelMemory
    /// `size` bytes, zeroed (an anonymous mapping: returned to the system when the model goes).
    public init(size: Int) throws {
        guard size > 0 else { memory = ModelMemory.heap(0); return }
        let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let m = p, m != MAP_FAILED else { throw FileError(errno, "mmap (anonymous)", "") }
        memory = ModelMemory(base: m, size: size, kind: .anonymous)
    }
    public func write(_ raw: UnsafeRawBufferPointer, at offset: Int) throws {
        guard let s = raw.baseAddress, raw.count > 0 else { return }
        guard offset >= 0, raw.count <= memory.size - offset, let b = memory.base else {
            throw RecError.internalError("model image write out of bounds")
        }
        (b + offset).copyMemory(from: s, byteCount: raw.count)
    }
}

/// A file an image is written to (a temporary file, renamed into place when complete).
public final class FileSink: ImageSink {
    public let path: String
    var fd: Int32
    /// Creates `path` exclusively (it must not exist), mode 0600.
    public init(creating path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileError(errno, "create", path) }
    }
    /// Over an open descriptor (tests: /dev/full for a full disk).
    init(path: String, descriptor: Int32) { self.path = path; fd = descriptor }
    deinit { if fd >= 0 { close(fd) } }

    public func write(_ raw: UnsafeRawBufferPointer, at offset: Int) throws {
        guard var p = raw.baseAddress else { return }
        var left = raw.count, at = offset
        while left > 0 {
            let w = pwrite(fd, p, left, off_t(at))
            if w < 0 {
                if errno == EINTR { continue }
                throw FileError(errno, "write", path)
            }
            if w == 0 { throw FileError(ENOSPC, "write", path) }
            p += w; left -= w; at += w
        }
    }

    /// Flushes the file to disk and closes it.
    public func finish() throws {
        guard fsync(fd) == 0 else { throw FileError(errno, "fsync", path) }
        let fdc = fd
        fd = -1
        guard close(fdc) == 0 else { throw FileError(errno, "close", path) }
    }
}

/// The file operations of the image directory.
public enum ImageFiles {
    /// Creates `base/sub...` (mode 0700) below an existing `base`; succeeds when it exists and
    /// can be written.
    public static func makeDirectory(_ sub: [String], under base: String) throws -> String {
        var path = base
        for part in sub {
            path += "/" + part
            if mkdir(path, 0o700) != 0 && errno != EEXIST { throw FileError(errno, "mkdir", path) }
        }
        guard access(path, W_OK | X_OK) == 0 else { throw FileError(errno, "access", path) }
        return path
    }

    /// rename(2): atomic replacement inside one directory.
    public static func rename(_ from: String, _ to: String) throws {
        guard Glibc.rename(from, to) == 0 else { throw FileError(errno, "rename", from) }
    }

    /// fsync of a directory, so a rename in it survives a crash.
    public static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(errno, "open", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FileError(errno, "fsync", path) }
    }

    /// Removes a file; a missing file is not an error. Returns whether it was removed.
    @discardableResult
    public static func remove(_ path: String) -> Bool { unlink(path) == 0 }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Names of the directory's entries (empty when it cannot be read).
    public static func list(_ path: String) -> [String] {
        guard let d = opendir(path) else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw -> String in
                let bytes = raw.prefix { $0 != 0 }
                return String(decoding: bytes, as: UTF8.self)
            }
            if name != "." && name != ".." { out.append(name) }
        }
        return out
    }

    /// An exclusive advisory lock on a lock file (created when missing): builders of one model
    /// take turns. `wait: false` returns nil at once when another process holds it. Released by
    /// `unlock`, or by the kernel when the process exits (a crashed builder holds nothing).
    public static func lock(_ path: String, wait: Bool) throws -> Int32? {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileError(errno, "open", path) }
        while flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            if errno == EINTR && wait { continue }
            let e = errno
            close(fd)
            if e == EWOULDBLOCK || e == EINTR { return nil }
            throw FileError(e, "flock", path)
        }
        return fd
    }

    public static func unlock(_ fd: Int32) { flock(fd, LOCK_UN); close(fd) }

    public static var processId: Int32 { getpid() }
}
