// Swift's view of the C shim: every call returns a code; a non-OK code becomes a thrown error and
// the Swift frames unwind normally. Nothing here can longjmp.
import CPostgresShim
import RecommenderCore

/// A PostgreSQL error was caught and saved by the shim; the C entry point re-throws it.
struct PGFailure: Error {}

@inline(__always)
func check(_ rc: Int32) throws {
    if rc != REC_OK { throw PGFailure() }
}

enum PG {
    /// Polls for cancel / statement_timeout / terminate.
    static let interrupt: InterruptCheck = { try check(rec_check_interrupts()) }

    static func notice(_ message: String) throws {
        try message.withCString { try check(rec_notice($0, false)) }
    }

    /// Runs `body` with the values lowered to RecValue; text and bytea bytes live in one flat
    /// buffer that stays valid for the duration of `body`.
    static func withValues<R>(_ values: [SQLValue], _ body: (UnsafePointer<RecValue>?, Int32) throws -> R) rethrows -> R {
        var flat: [UInt8] = [0]
        var offsets = [Int](repeating: 0, count: values.count)
        var lengths = [Int](repeating: 0, count: values.count)
        for (n, v) in values.enumerated() {
            switch v {
            case .text(let s): offsets[n] = flat.count; flat.append(contentsOf: s.utf8); lengths[n] = flat.count - offsets[n]
            case .bytes(let b): offsets[n] = flat.count; flat.append(contentsOf: b); lengths[n] = b.count
            default: break
            }
        }
        return try flat.withUnsafeBytes { raw -> R in
            var out = [RecValue](repeating: RecValue(), count: values.count)
            for (n, v) in values.enumerated() {
                var r = RecValue()
                switch v {
                case .null(let kind): r.kind = kind; r.isnull = true
                case .int8(let x): r.kind = Int32(REC_INT8); r.i = x
                case .int4(let x): r.kind = Int32(REC_INT4); r.i = Int64(x)
                case .float8(let x): r.kind = Int32(REC_FLOAT8); r.f = x
                case .bool(let x): r.kind = Int32(REC_BOOL); r.i = x ? 1 : 0
                case .text, .bytes:
                    r.kind = Int32(v.isText ? REC_TEXT : REC_BYTEA)
                    r.len = lengths[n]
                    r.ptr = raw.baseAddress.map { UnsafeRawPointer($0 + offsets[n]) }
                }
                out[n] = r
            }
            return try out.withUnsafeBufferPointer { try body($0.baseAddress, Int32(values.count)) }
        }
    }

    static func exec(_ sql: String, _ args: [SQLValue] = []) throws -> Int64 {
        var processed: Int64 = 0
        try withValues(args) { p, n in
            try sql.withCString { try check(rec_exec($0, n, p, &processed)) }
        }
        return processed
    }
}

enum SQLValue {
    case null(Int32)
    case int8(Int64)
    case int4(Int32)
    case float8(Double)
    case bool(Bool)
    case text(String)
    case bytes([UInt8])
    var isText: Bool { if case .text = self { return true }; return false }
    static func optionalText(_ s: String?) -> SQLValue { s.map { .text($0) } ?? .null(Int32(REC_TEXT)) }
}

/// A read-only cursor; rows are read batch by batch.
final class Cursor {
    private var handle: OpaquePointer?
    private(set) var batchCount: Int64 = 0
    private var buffer = [UInt8](repeating: 0, count: 256)

    init(_ sql: String, _ args: [SQLValue] = []) throws {
        var h: OpaquePointer? = nil
        try PG.withValues(args) { p, n in
            try sql.withCString { try check(rec_cursor_open($0, n, p, &h)) }
        }
        handle = h
    }

    /// Fetches the next batch; false at the end.
    func fetch(_ rows: Int64 = 5000) throws -> Bool {
        guard let h = handle else { return false }
        var got: Int64 = 0
        try check(rec_cursor_fetch(h, rows, &got))
        batchCount = got
        return got > 0
    }

    private func value(_ row: Int64, _ col: Int, _ kind: Int32) throws -> RecValue {
        var v = RecValue()
        try check(rec_cursor_value(handle, row, Int32(col), kind, &v, nil, 0))
        return v
    }

    func int8(_ row: Int64, _ col: Int) throws -> Int64? {
        let v = try value(row, col, Int32(REC_INT8)); return v.isnull ? nil : v.i
    }
    func int4(_ row: Int64, _ col: Int) throws -> Int32? {
        let v = try value(row, col, Int32(REC_INT4)); return v.isnull ? nil : Int32(truncatingIfNeeded: v.i)
    }
    func float8(_ row: Int64, _ col: Int) throws -> Double? {
        let v = try value(row, col, Int32(REC_FLOAT8)); return v.isnull ? nil : v.f
    }
    func bool(_ row: Int64, _ col: Int) throws -> Bool? {
        let v = try value(row, col, Int32(REC_BOOL)); return v.isnull ? nil : v.i != 0
    }

    /// Copies a text or bytea value (growing the buffer when needed).
    private func bytes(_ row: Int64, _ col: Int, _ kind: Int32) throws -> ArraySlice<UInt8>? {
        var v = RecValue()
        try buffer.withUnsafeMutableBytes { b in
            try check(rec_cursor_value(handle, row, Int32(col), kind, &v, b.baseAddress, b.count))
        }
        if v.isnull { return nil }
        if v.len > buffer.count {
            buffer = [UInt8](repeating: 0, count: v.len)
            try buffer.withUnsafeMutableBytes { b in
                try check(rec_cursor_value(handle, row, Int32(col), kind, &v, b.baseAddress, b.count))
            }
        }
        return buffer[0..<min(v.len, buffer.count)]
    }

    func text(_ row: Int64, _ col: Int) throws -> String? {
        guard let b = try bytes(row, col, Int32(REC_TEXT)) else { return nil }
        return String(decoding: b, as: UTF8.self)
    }

    /// A text value's bytes (nil for NULL), valid until the next value is read.
    func textBytes(_ row: Int64, _ col: Int) throws -> ArraySlice<UInt8>? { try bytes(row, col, Int32(REC_TEXT)) }

    /// A bytea value as bytes (nil for NULL).
    func byteArray(_ row: Int64, _ col: Int) throws -> [UInt8]? {
        guard let b = try bytes(row, col, Int32(REC_BYTEA)) else { return nil }
        return Array(b)
    }

    /// A bytea holding little-endian float4 values.
    func floats(_ row: Int64, _ col: Int, into out: inout [Float], at offset: Int, expected: Int) throws -> Bool {
        guard let b = try bytes(row, col, Int32(REC_BYTEA)) else { return false }
        guard b.count == expected * 4, offset >= 0, offset + expected <= out.count else { return false }
        if expected == 0 { return true }
        b.withUnsafeBytes { raw in
            out.withUnsafeMutableBytes { dst in
                guard let d = dst.baseAddress, let r = raw.baseAddress else { return }
                d.advanced(by: offset * 4).copyMemory(from: r, byteCount: expected * 4)
            }
        }
        return true
    }

    /// A bytea holding little-endian float8 values.
    func doubles(_ row: Int64, _ col: Int, into out: inout [Double], at offset: Int, expected: Int) throws -> Bool {
        guard let b = try bytes(row, col, Int32(REC_BYTEA)) else { return false }
        guard b.count == expected * 8, offset >= 0, offset + expected <= out.count else { return false }
        if expected == 0 { return true }
        b.withUnsafeBytes { raw in
            out.withUnsafeMutableBytes { dst in
                guard let d = dst.baseAddress, let r = raw.baseAddress else { return }
                d.advanced(by: offset * 8).copyMemory(from: r, byteCount: expected * 8)
            }
        }
        return true
    }

    func int32s(_ row: Int64, _ col: Int) throws -> [Int32]? {
        guard let b = try bytes(row, col, Int32(REC_BYTEA)) else { return nil }
        let n = b.count / 4
        var out = [Int32](repeating: 0, count: n)
        b.withUnsafeBytes { raw in out.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<(n * 4)])) } }
        return out
    }

    func close() throws {
        if let h = handle {
            handle = nil
            try check(rec_cursor_close(h))
        }
    }

    /// Iterates every row, batch by batch, polling for interrupts between batches.
    func forEachRow(batch: Int64 = 5000, _ body: (Int64) throws -> Void) throws {
        while try fetch(batch) {
            for r in 0..<batchCount { try body(r) }
            try PG.interrupt()
        }
    }
}

/// A statement prepared once and executed many times (training writes).
final class Plan {
    private var handle: OpaquePointer?
    init(_ sql: String, kinds: [Int32]) throws {
        var h: OpaquePointer? = nil
        try kinds.withUnsafeBufferPointer { k in
            try sql.withCString { try check(rec_prepare($0, Int32(kinds.count), k.baseAddress, &h)) }
        }
        handle = h
    }
    @discardableResult
    func exec(_ args: [SQLValue]) throws -> Int64 {
        var processed: Int64 = 0
        try PG.withValues(args) { p, _ in try check(rec_plan_exec(handle, p, &processed)) }
        return processed
    }
    func free() throws {
        if let h = handle { handle = nil; try check(rec_plan_free(h)) }
    }
}

/// The rows of a set-returning function.
struct Sink {
    let handle: OpaquePointer?
    func row(_ values: [SQLValue]) throws {
        try PG.withValues(values) { p, n in try check(rec_sink_row(handle, n, p)) }
    }
}
