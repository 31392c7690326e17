/// Errors the core reports instead of trapping. Each carries the SQLSTATE that the C shell raises,
/// a message, and an optional hint, so the PostgreSQL user sees a precise error while every Swift
/// frame unwinds normally (see DESIGN.md, "The safe pattern").
public struct RecError: Error, Equatable, CustomStringConvertible {
    public var sqlstate: String
    public var message: String
    public var hint: String?

    public init(_ sqlstate: String, _ message: String, hint: String? = nil) {
        self.sqlstate = sqlstate
        self.message = message
        self.hint = hint
    }

    public var description: String { "\(sqlstate): \(message)" + (hint.map { " (hint: \($0))" } ?? "") }

    // SQLSTATEs used by the product (PostgreSQL's errcodes.txt).
    public static func invalidParameter(_ m: String, hint: String? = nil) -> RecError { RecError("22023", m, hint: hint) }
    public static func nullValue(_ m: String, hint: String? = nil) -> RecError { RecError("22004", m, hint: hint) }
    public static func outOfRange(_ m: String, hint: String? = nil) -> RecError { RecError("22003", m, hint: hint) }
    public static func programLimit(_ m: String, hint: String? = nil) -> RecError { RecError("54000", m, hint: hint) }
    public static func outOfMemory(_ m: String, hint: String? = nil) -> RecError { RecError("53200", m, hint: hint) }
    public static func objectState(_ m: String, hint: String? = nil) -> RecError { RecError("55000", m, hint: hint) }
    public static func internalError(_ m: String) -> RecError { RecError("XX000", m) }
    /// Thrown when the caller's interrupt check asks the computation to stop; the C shell then
    /// raises PostgreSQL's own cancel or timeout error.
    public static let interrupted = RecError("57014", "canceling statement due to user request")
}

/// A callback the long loops poll so that `statement_timeout` and `pg_cancel_backend` work. It
/// throws to unwind; the default does nothing (unit tests).
public typealias InterruptCheck = () throws -> Void
public let neverInterrupted: InterruptCheck = {}
