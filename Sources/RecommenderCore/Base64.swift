/// Base64 (RFC 4648, standard alphabet, '=' padding) for partial training results: a shard sends
/// its part as base64 text (recommender.partial_gram_base64, PostgreSQL's pg_b64_encode), since
/// postgres_fdw fetches results in the text protocol where a bytea would be hex, twice its size.
public enum Base64 {
    static let table: [Int8] = {
        var t = [Int8](repeating: -1, count: 256)
        for (k, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() { t[Int(c)] = Int8(k) }
        return t
    }()

    public static func decode(_ text: [UInt8]) -> [UInt8]? { decode(text[...]) }

    /// The bytes of `text` (line breaks ignored), or nil when it is not base64. Not generic: a
    /// generic function is not specialised across modules, and parts are tens of megabytes.
    public static func decode(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        let table = Base64.table
        return text.withUnsafeBufferPointer { src -> [UInt8]? in
            var out = [UInt8](repeating: 0, count: src.count / 4 * 3 + 3)
            var used = 0
            let ok = out.withUnsafeMutableBufferPointer { dst -> Bool in
                var acc: UInt32 = 0, bits = 0, pad = 0, symbols = 0
                for c in src {
                    if c == 10 || c == 13 { continue }
                    if c == 61 { pad += 1; symbols += 1; continue }      // '='
                    guard pad == 0 else { return false }                 // data after padding
                    let v = table[Int(c)]
                    guard v >= 0 else { return false }
                    acc = (acc << 6) | UInt32(v); bits += 6; symbols += 1
                    if bits >= 8 {
                        bits -= 8
                        guard used < dst.count else { return false }
                        dst[used] = UInt8(truncatingIfNeeded: acc >> UInt32(bits)); used += 1
                    }
                }
                return symbols % 4 == 0 && pad <= 2 && bits < 6 && acc & ((1 << UInt32(bits)) - 1) == 0
            }
            guard ok else { return nil }
            out.removeSubrange(used...)
            return out
        }
    }
}
