// The shop's own ids (text, varchar, uuid): the pure parts of handling them, without PostgreSQL.
// The glue (Sources/RecommenderGlue/ItemKeys.swift) numbers keys with KeyInterner, parses the ids
// callers pass with these functions, and quotes keys for SQL array literals and messages.

public enum Keys {
    /// The longest key training accepts (bytes): keys are held in memory with the model.
    public static let maxKeyBytes = 1024

    /// Whether a string is a uuid in PostgreSQL's canonical text form (uuid_out: 8-4-4-4-12
    /// lower-case hex digits).
    public static func isCanonicalUUID(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count == 36 else { return false }
        for (i, ch) in u.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                if ch != UInt8(ascii: "-") { return false }
            } else if !((ch >= 48 && ch <= 57) || (ch >= 97 && ch <= 102)) {
                return false
            }
        }
        return true
    }

    /// A uuid in canonical form, or nil when `s` is not one. Accepts what PostgreSQL's uuid_in
    /// accepts: 32 hex digits in either case, a hyphen allowed after any group of four, the whole
    /// optionally in braces.
    public static func canonicalUUID(_ s: String) -> String? {
        if isCanonicalUUID(s) { return s }
        let u = Array(s.utf8)
        var p = 0
        var digits: [UInt8] = []
        digits.reserveCapacity(32)
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57, 97...102: return c
            case 65...70: return c + 32
            default: return nil
            }
        }
        let braces = p < u.count && u[p] == UInt8(ascii: "{")
        if braces { p += 1 }
        while digits.count < 32 {
            guard p < u.count, let h = hex(u[p]) else { return nil }
            digits.append(h)
            p += 1
            if digits.count % 4 == 0 && digits.count < 32 && p < u.count && u[p] == UInt8(ascii: "-") { p += 1 }
        }
        if braces {
            guard p < u.count, u[p] == UInt8(ascii: "}") else { return nil }
            p += 1
        }
        guard p == u.count else { return nil }
        var out = ""
        for (i, d) in digits.enumerated() {
            if i == 8 || i == 12 || i == 16 || i == 20 { out += "-" }
            out.unicodeScalars.append(Unicode.Scalar(d))
        }
        return out
    }

    /// An integer id given as text: surrounding blanks allowed, nil when it is not an int8.
    public static func integerId(_ s: String) -> Int64? {
        var t = Substring(s)
        func blank(_ c: Character) -> Bool { c == " " || c == "\t" || c == "\n" || c == "\r" }
        while let f = t.first, blank(f) { t = t.dropFirst() }
        while let l = t.last, blank(l) { t = t.dropLast() }
        return Int64(t)
    }

    /// A key in a message: quoted, and cut when long.
    public static func quote(_ key: String) -> String {
        let cut = key.count > 80 ? String(key.prefix(77)) + "..." : key
        return "\"" + cut + "\""
    }

    /// A PostgreSQL array literal of keys, every element double-quoted with its quotes and
    /// backslashes escaped (so that empty keys, blanks, commas, braces and NULL stay keys).
    public static func arrayLiteral<S: Sequence>(_ keys: S) -> String where S.Element == String {
        "{" + keys.map { k in
            var e = "\""
            for ch in k.unicodeScalars {
                if ch == "\"" || ch == "\\" { e.unicodeScalars.append("\\") }
                e.unicodeScalars.append(ch)
            }
            return e + "\""
        }.joined(separator: ",") + "}"
    }
}

/// Numbers keys 0, 1, 2, ... in the order they are first met (training and update() give a keyed
/// model's items surrogate ids this way, so that it is the same matrix as its integer twin).
public struct KeyInterner {
    public private(set) var idOf: [String: Int64] = [:]
    public private(set) var keyOf: [Int64: String] = [:]
    private var next: Int64 = 0

    public init() {}

    /// Continues a version's numbering (update()).
    public mutating func seed(_ pairs: [Int64: String]) {
        for (id, key) in pairs {
            idOf[key] = id
            keyOf[id] = key
            if id >= next { next = id + 1 }
        }
    }

    /// The key's id, a new one for a key not met before; 54000 for a key longer than
    /// Keys.maxKeyBytes.
    public mutating func id(_ key: String, what: String, model: String) throws -> Int64 {
        if let found = idOf[key] { return found }
        guard key.utf8.count <= Keys.maxKeyBytes else {
            throw RecError.programLimit("\(what == "item" ? "an" : "a") \(what) id of model \"\(model)\" is \(key.utf8.count) bytes long; ids are limited to \(Keys.maxKeyBytes) bytes",
                                        hint: "Keys are kept in memory with the model; register a view that maps long ids to shorter ones (e.g. md5(id)).")
        }
        let id = next
        next += 1
        idOf[key] = id
        keyOf[id] = key
        return id
    }
}
