// The journal's record format: round trips, a torn tail at every byte of the last record,
// corrupt checksums, a newer format refused, durable appends and the snapshot store.

import Foundation
import XCTest
@testable import GraphEditing

final class JournalFormatTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("journal-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private let t0 = Date(timeIntervalSince1970: 1_796_000_000.125)

    private func header(id: String = "20261204-181500-abcd") -> JournalHeader {
        JournalHeader(id: id, notebook: "/home/u/nb/edit.ipynb", workingDirectory: "/home/u/nb", kernelID: "abcd-1234",
                      started: t0, producer: "graphsmith test")
    }

    private func records() -> [JournalRecord] {
        [.step("load models/tiny_bert.onnx as bert", graph: nil, time: t0, snapshot: String(repeating: "a", count: 64) + ".onnx"),
         .step("x = [1, 2, \"ü\"]", graph: "bert", time: t0.addingTimeInterval(1.5)),
         .step("use bert", graph: "bert", time: t0.addingTimeInterval(2.25))]
    }

    private func writeJournal(_ rs: [JournalRecord], name: String = "j.gsj") throws -> URL {
        let url = folder.appendingPathComponent(name)
        let w = try JournalWriter(creating: url, header: header())
        for r in rs { try w.append(r) }
        w.close()
        return url
    }

    func testRoundTripKeepsEveryFieldAndTimeExactly() throws {
        let url = try writeJournal(records() + [.closed("shutdown", time: t0.addingTimeInterval(9))])
        let c = try JournalReader.read(url)
        XCTAssertEqual(c.header, header())
        XCTAssertEqual(c.records, records() + [.closed("shutdown", time: t0.addingTimeInterval(9))])
        XCTAssertEqual(c.steps.count, 3)
        XCTAssertEqual(c.closing?.reason, "shutdown")
        XCTAssertNil(c.damage)
        XCTAssertEqual(c.validLength, try Data(contentsOf: url).count)
    }

    /// Records appended together (a cell's steps, a restore's copy) are one frame: a kill
    /// anywhere inside it leaves none of them, never a part.
    func testAGroupIsReadWholeOrNotAtAll() throws {
        let first = JournalRecord.step("a = 1", graph: nil, time: t0)
        let before = Array(try Data(contentsOf: try writeJournal([first], name: "one.gsj")))
        let url = folder.appendingPathComponent("group.gsj")
        let w = try JournalWriter(creating: url, header: header())
        try w.append(first)
        try w.append(records())
        w.close()
        let full = Array(try Data(contentsOf: url))
        XCTAssertEqual(try JournalReader.parse(full, path: "g").records, [first] + records())
        for cut in before.count..<full.count {
            let c = try JournalReader.parse(Array(full[0..<cut]), path: "g")
            XCTAssertEqual(c.records, [first], "cut at \(cut)")
        }
    }

    /// A kill during a write leaves any prefix of the last frame: each must read as the
    /// records before it, with the damage reported.
    func testTruncatedTailAtEveryByteOfTheLastRecord() throws {
        let full = Array(try Data(contentsOf: try writeJournal(records())))
        let withoutLast = Array(try Data(contentsOf: try writeJournal(Array(records().dropLast()), name: "short.gsj")))
        XCTAssertEqual(Array(full[0..<withoutLast.count]), withoutLast)
        for cut in withoutLast.count..<full.count {
            let c = try JournalReader.parse(Array(full[0..<cut]), path: "cut")
            XCTAssertEqual(c.records, Array(records().dropLast()), "cut at \(cut)")
            XCTAssertEqual(c.validLength, withoutLast.count)
            if cut == withoutLast.count {
                XCTAssertNil(c.damage)
            } else {
                let damage = try XCTUnwrap(c.damage, "cut at \(cut)")
                XCTAssertEqual(damage.offset, withoutLast.count)
                XCTAssertEqual(damage.ignoredBytes, cut - withoutLast.count)
                XCTAssertTrue(damage.reason.contains("cut short"), damage.reason)
            }
        }
        XCTAssertEqual(try JournalReader.parse(full, path: "full").records, records())
    }

    func testCorruptChecksumEndsTheReadablePart() throws {
        var bytes = Array(try Data(contentsOf: try writeJournal(records())))
        let two = Array(try Data(contentsOf: try writeJournal(Array(records().prefix(2)), name: "two.gsj")))
        // Flip one payload byte of the last record.
        bytes[two.count + JournalFormat.frameOverhead + 3] ^= 0x20
        let c = try JournalReader.parse(bytes, path: "x")
        XCTAssertEqual(c.records, Array(records().prefix(2)))
        XCTAssertEqual(c.damage?.offset, two.count)
        XCTAssertTrue(c.damage?.reason.contains("checksum") ?? false)
        // A corrupt middle record hides the ones after it, never shows damaged data.
        var middle = Array(try Data(contentsOf: try writeJournal(records(), name: "m.gsj")))
        let one = Array(try Data(contentsOf: try writeJournal(Array(records().prefix(1)), name: "one.gsj")))
        middle[one.count + 1] ^= 0xFF   // the length field
        let m = try JournalReader.parse(middle, path: "m")
        XCTAssertEqual(m.records, Array(records().prefix(1)))
        XCTAssertNotNil(m.damage)
    }

    func testNewerFormatIsRefusedWithAClearError() throws {
        var newer = header()
        newer.format = JournalFormat.version + 1
        let bytes = JournalFormat.magic + (try JournalFraming.frame(newer)) + (try JournalFraming.frame(records()[0]))
        XCTAssertThrowsError(try JournalReader.parse(bytes, path: "new.gsj")) { error in
            XCTAssertEqual(error as? JournalError, .newerFormat(path: "new.gsj", found: JournalFormat.version + 1,
                                                                 supported: JournalFormat.version))
            XCTAssertTrue("\(error)".contains("newer Graphsmith"), "\(error)")
        }
        // Also when the newer header has fields this version does not know and lacks ones it needs.
        let alien = JournalFormat.magic + JournalFraming.frame(Array(#"{"format":99,"shiny":true}"#.utf8) as [UInt8])
        XCTAssertThrowsError(try JournalReader.parse(alien, path: "alien")) { error in
            XCTAssertEqual(error as? JournalError, .newerFormat(path: "alien", found: 99, supported: JournalFormat.version))
        }
    }

    func testNotAJournalAndDamagedHeader() throws {
        XCTAssertThrowsError(try JournalReader.parse(Array("hello".utf8), path: "h")) {
            XCTAssertEqual($0 as? JournalError, .notAJournal(path: "h"))
        }
        let good = JournalFormat.magic + (try JournalFraming.frame(header()))
        for cut in JournalFormat.magic.count..<good.count {
            XCTAssertThrowsError(try JournalReader.parse(Array(good[0..<cut]), path: "c")) { error in
                guard case .damagedHeader = error as? JournalError else { return XCTFail("\(error) at \(cut)") }
            }
        }
    }

    func testAppendingAfterATornTailCutsItOff() throws {
        let url = try writeJournal(records())
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([0x30, 0, 0, 0, 1, 2]))   // a torn frame
        try handle.close()
        let torn = try JournalReader.read(url)
        XCTAssertNotNil(torn.damage)
        let w = try JournalWriter(appendingTo: url, validLength: torn.validLength)
        try w.append(.closed("restored by x", time: t0))
        w.close()
        let c = try JournalReader.read(url)
        XCTAssertNil(c.damage)
        XCTAssertEqual(c.records, records() + [.closed("restored by x", time: t0)])
    }

    func testWriterLockTellsALiveJournalFromADeadOne() throws {
        let url = folder.appendingPathComponent("live.gsj")
        let w = try JournalWriter(creating: url, header: header())
        XCTAssertTrue(JournalStore.isInUse(url))
        w.close()
        XCTAssertFalse(JournalStore.isInUse(url))
    }

    func testCreatingRefusesAnExistingFile() throws {
        let url = try writeJournal(records())
        XCTAssertThrowsError(try JournalWriter(creating: url, header: header()))
        XCTAssertEqual(try JournalReader.read(url).records, records())
    }

    func testCRC32MatchesZlib() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum([UInt8]()), 0)
    }
}
