import XCTest
@testable import RecommenderCore

/// The pure parts of the shop's own ids (Keys.swift): uuid spellings as PostgreSQL's uuid_in reads
/// them, integer ids given as text, array literals of odd keys, and the numbering of keys.
final class KeysTests: XCTestCase {
    func testCanonicalUUIDAcceptsWhatPostgreSQLAccepts() {
        let c = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
        for s in [c, "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
                  "a0eebc999c0b4ef8bb6d6bb9bd380a11", "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11",
                  "{a0eebc999c0b4ef8bb6d6bb9bd380a11}"] {
            XCTAssertEqual(Keys.canonicalUUID(s), c, s)
        }
        XCTAssertTrue(Keys.isCanonicalUUID(c))
        XCTAssertFalse(Keys.isCanonicalUUID("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"))
    }

    func testCanonicalUUIDRefusesEverythingElse() {
        for s in ["", " ", "not-a-uuid", "{0123}", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111",
                  "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", " a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                  "a0eeb-c99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1-",
                  "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "ünïcødé"] {
            XCTAssertNil(Keys.canonicalUUID(s), s)
        }
    }

    func testIntegerIds() {
        XCTAssertEqual(Keys.integerId("42"), 42)
        XCTAssertEqual(Keys.integerId(" 42 \n"), 42)
        XCTAssertEqual(Keys.integerId("-9223372036854775808"), Int64.min)
        XCTAssertEqual(Keys.integerId("9223372036854775807"), Int64.max)
        for s in ["", " ", "abc", "4 2", "9223372036854775808", "99999999999999999999", "1e3", "0x10", "42.0"] {
            XCTAssertNil(Keys.integerId(s), s)
        }
    }

    func testArrayLiteralQuotesEveryKey() {
        XCTAssertEqual(Keys.arrayLiteral([String]()), "{}")
        XCTAssertEqual(Keys.arrayLiteral(["", "NULL", "a,b", "{x}", "q\"uote", "back\\slash", "ü 🛒"]),
                       "{\"\",\"NULL\",\"a,b\",\"{x}\",\"q\\\"uote\",\"back\\\\slash\",\"ü 🛒\"}")
    }

    func testQuoteCutsLongKeys() {
        XCTAssertEqual(Keys.quote("SKU-1"), "\"SKU-1\"")
        let q = Keys.quote(String(repeating: "é", count: 5000))
        XCTAssertEqual(q.count, 82)
        XCTAssertTrue(q.hasSuffix("...\""))
    }

    func testInternerNumbersKeysInFirstSeenOrder() throws {
        var k = KeyInterner()
        XCTAssertEqual(try k.id("b", what: "item", model: "m"), 0)
        XCTAssertEqual(try k.id("a", what: "item", model: "m"), 1)
        XCTAssertEqual(try k.id("b", what: "item", model: "m"), 0)
        XCTAssertEqual(try k.id("", what: "item", model: "m"), 2)
        XCTAssertEqual(k.keyOf[1], "a")
        XCTAssertEqual(k.idOf[""], 2)
    }

    func testInternerContinuesASeededNumbering() throws {
        var k = KeyInterner()
        k.seed([0: "x", 7: "y", 3: "z"])
        XCTAssertEqual(try k.id("y", what: "item", model: "m"), 7)
        XCTAssertEqual(try k.id("new", what: "item", model: "m"), 8)
    }

    func testInternerRefusesLongKeys() {
        var k = KeyInterner()
        XCTAssertNoThrow(try k.id(String(repeating: "k", count: Keys.maxKeyBytes), what: "user", model: "m"))
        XCTAssertThrowsError(try k.id(String(repeating: "k", count: Keys.maxKeyBytes + 1), what: "user", model: "m")) { e in
            XCTAssertEqual((e as? RecError)?.sqlstate, "54000")
        }
        // bytes, not characters
        XCTAssertThrowsError(try k.id(String(repeating: "é", count: 600), what: "item", model: "m")) { e in
            XCTAssertEqual((e as? RecError)?.message.hasPrefix("an item id of model \"m\" is 1200 bytes long"), true)
        }
    }
}
