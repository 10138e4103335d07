import XCTest
@testable import JupyterKernel

final class SigningTests: XCTestCase {
    func testHMACMatchesRFC4231Vector() {
        // RFC 4231 test case 2, split over four frames: HMAC covers their concatenation.
        let signer = MessageSigner(key: Array("Jefe".utf8))
        let frames = ["what do ", "ya want ", "for ", "nothing?"].map { Array($0.utf8) }
        XCTAssertEqual(String(decoding: signer.signature(frames), as: UTF8.self),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    func testVerifyAcceptsOnlyTheRightSignature() {
        let signer = MessageSigner(key: Array("secret-κλειδί".utf8))
        let frames = [[UInt8]("{}".utf8), [], [], Array("x".utf8)]
        let good = signer.signature(frames)
        XCTAssertEqual(good.count, 64)
        XCTAssertTrue(signer.verify(signature: good, frames: frames))
        var tampered = good
        tampered[10] = tampered[10] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
        XCTAssertFalse(signer.verify(signature: tampered, frames: frames))
        XCTAssertFalse(signer.verify(signature: [], frames: frames))
        XCTAssertFalse(signer.verify(signature: Array(String(decoding: good, as: UTF8.self).uppercased().utf8), frames: frames))
        XCTAssertFalse(signer.verify(signature: good, frames: frames.reversed()))
    }

    func testEmptyKeyMeansUnsigned() {
        let signer = MessageSigner(key: [])
        XCTAssertFalse(signer.isEnabled)
        XCTAssertEqual(signer.signature([[1], [2], [3], [4]]), [])
        XCTAssertTrue(signer.verify(signature: Array("anything".utf8), frames: []))
    }
}

final class WireTests: XCTestCase {
    let signer = MessageSigner(key: Array("k".utf8))

    func request(_ type: String, content: String = "{}", identities: [[UInt8]] = [Array("client".utf8)]) -> [[UInt8]] {
        let header = Array("{\"msg_id\":\"m1\",\"msg_type\":\"\(type)\",\"session\":\"s\",\"username\":\"u\",\"version\":\"5.4\",\"date\":\"\"}".utf8)
        let signed = [header, Array("{}".utf8), Array("{}".utf8), Array(content.utf8)]
        return identities + [WireCodec.delimiter, signer.signature(signed)] + signed
    }

    func testDecodeSplitsIdentitiesAndParses() throws {
        let message = try WireCodec.decode(request("execute_request", content: "{\"code\":\"echo hi\"}",
                                                   identities: [[1, 2], [3]]) + [[9, 9]], signer: signer)
        XCTAssertEqual(message.identities, [[1, 2], [3]])
        XCTAssertEqual(message.msgType, "execute_request")
        XCTAssertEqual(message.msgID, "m1")
        XCTAssertEqual(message["code"], "echo hi")
        XCTAssertEqual(message.buffers, [[9, 9]])
    }

    func testDecodeRejections() {
        var frames = request("kernel_info_request")
        XCTAssertThrowsError(try WireCodec.decode(Array(frames.dropFirst(2)), signer: signer)) {
            XCTAssertEqual($0 as? WireError, .missingDelimiter)
        }
        XCTAssertThrowsError(try WireCodec.decode(Array(frames.prefix(4)), signer: signer)) {
            XCTAssertEqual($0 as? WireError, .tooFewFrames(2))
        }
        frames[2] = Array(String(repeating: "0", count: 64).utf8)
        XCTAssertThrowsError(try WireCodec.decode(frames, signer: signer)) {
            XCTAssertEqual($0 as? WireError, .badSignature)
        }
        let unsigned = MessageSigner(key: [])
        let garbage: [[UInt8]] = [Array("id".utf8), WireCodec.delimiter, [], Array("{\"msg_type\":".utf8), [], [], []]
        XCTAssertThrowsError(try WireCodec.decode(garbage, signer: unsigned)) {
            guard case .badHeader = $0 as? WireError else { return XCTFail("\($0)") }
        }
    }

    func testTruncatedContentIsReportedNotThrown() throws {
        let message = try WireCodec.decode(request("execute_request", content: "{\"code\":"), signer: signer)
        XCTAssertNil(message.content)
        XCTAssertNotNil(message.contentProblem)
    }

    func testFactoryBuildsSignedParsableMessage() throws {
        let factory = MessageFactory(signer: signer, session: "sess")
        let parent = Array("{\"msg_id\":\"p\"}".utf8)
        let frames = factory.message(identities: [[7]], msgType: "execute_reply", parent: parent,
                                     content: ["status": "ok", "execution_count": 3])
        XCTAssertEqual(frames[0], [7])
        XCTAssertEqual(frames[1], WireCodec.delimiter)
        XCTAssertEqual(frames[4], parent, "parent header is copied verbatim")
        XCTAssertTrue(signer.verify(signature: frames[2], frames: Array(frames[3...6])))
        let decoded = try WireCodec.decode(frames, signer: signer)
        XCTAssertEqual(decoded.header["version"], "5.4")
        XCTAssertEqual(decoded.header["session"], "sess")
        XCTAssertEqual(decoded.header["msg_type"], "execute_reply")
        let id = try XCTUnwrap(decoded.header["msg_id"]?.stringValue)
        XCTAssertNotNil(UUID(uuidString: id))
        let date = try XCTUnwrap(decoded.header["date"]?.stringValue)
        XCTAssertNotNil(date.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"#, options: .regularExpression), date)
        XCTAssertEqual(decoded["execution_count"], 3)
        XCTAssertNotEqual(try WireCodec.decode(factory.message(identities: [], msgType: "x", parent: nil, content: [:]),
                                               signer: signer).msgID, id, "every message gets a fresh msg_id")
    }
}

final class ConnectionInfoTests: XCTestCase {
    func testParsesAndBuildsEndpoints() throws {
        let text = #"{"shell_port":5001,"iopub_port":5002,"stdin_port":5003,"control_port":5004,"hb_port":5005,"ip":"127.0.0.1","key":"a0b1-ü","transport":"tcp","signature_scheme":"hmac-sha256","kernel_name":"graphsmith"}"#
        let info = try ConnectionInfo.parse(Array(text.utf8))
        XCTAssertEqual(info.key, Array("a0b1-ü".utf8), "key is used as its UTF-8 bytes, not hex-decoded")
        XCTAssertEqual(info.endpoint(port: info.shellPort), "tcp://127.0.0.1:5001")
        XCTAssertEqual(info.hbPort, 5005)
        var ipc = info
        ipc.transport = .ipc
        ipc.ip = "/tmp/kernel"
        XCTAssertEqual(ipc.endpoint(port: 5002), "ipc:///tmp/kernel-5002")
        XCTAssertEqual(try ConnectionInfo.parse(JSONWriter.encode(info.json)), info)
    }

    func testRejectsBadFilesWithClearMessages() {
        func message(_ text: String) -> String {
            do { _ = try ConnectionInfo.parse(Array(text.utf8)); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertTrue(message("{").contains("invalid JSON"))
        XCTAssertTrue(message("[]").contains("object"))
        XCTAssertTrue(message(#"{"shell_port":1,"iopub_port":2,"stdin_port":3,"control_port":4}"#).contains("hb_port"))
        XCTAssertTrue(message(#"{"shell_port":"x","iopub_port":2,"stdin_port":3,"control_port":4,"hb_port":5}"#).contains("shell_port"))
        XCTAssertTrue(message(#"{"transport":"udp","shell_port":1,"iopub_port":2,"stdin_port":3,"control_port":4,"hb_port":5}"#).contains("udp"))
        XCTAssertThrowsError(try ConnectionInfo.load(path: "/nonexistent/conn.json"))
    }
}

final class HistoryTests: XCTestCase {
    func makeHistory() -> History {
        var history = History(session: 7)
        for (line, input) in ["print 1", "echo a", "print 2", "print 1", "vars"].enumerated() {
            history.record(line: line + 1, input: input, output: input.hasPrefix("print") ? "\(line)" : nil)
        }
        return history
    }

    func testTail() {
        let history = makeHistory()
        XCTAssertEqual(history.tail(2).map(\.input), ["print 1", "vars"])
        XCTAssertEqual(history.tail(2).map(\.line), [4, 5])
        XCTAssertEqual(history.tail(100).count, 5)
        XCTAssertEqual(history.tail(10, unique: true).map(\.input), ["echo a", "print 2", "print 1", "vars"])
        XCTAssertEqual(history.tail(0), [])
    }

    func testRange() {
        let history = makeHistory()
        XCTAssertEqual(history.range(session: 7, start: 2, stop: 4).map(\.line), [2, 3])
        XCTAssertEqual(history.range(session: 0, start: 4, stop: nil).map(\.line), [4, 5])
        XCTAssertEqual(history.range(session: 3, start: 0, stop: nil), [])
    }

    func testSearchGlobUniqueAndN() {
        let history = makeHistory()
        XCTAssertEqual(history.search(pattern: "print*").map(\.line), [1, 3, 4])
        XCTAssertEqual(history.search(pattern: "print*", unique: true).map(\.line), [3, 4])
        XCTAssertEqual(history.search(pattern: "print*", n: 2).map(\.line), [3, 4])
        XCTAssertEqual(history.search(pattern: "?cho ?").map(\.input), ["echo a"])
        XCTAssertEqual(history.search(pattern: "print [2-3]").map(\.input), ["print 2"])
        XCTAssertEqual(history.search(pattern: "*").count, 5)
        XCTAssertEqual(history.search(pattern: "echo"), [])
        XCTAssertEqual(history.search(pattern: "[").count, 0)
    }

    func testCapacityBoundsMemory() {
        var history = History(capacity: 10)
        for line in 1...1000 { history.record(line: line, input: "x") }
        XCTAssertLessThanOrEqual(history.entries.count, 13)
        XCTAssertEqual(history.tail(1).first?.line, 1000)
    }
}
