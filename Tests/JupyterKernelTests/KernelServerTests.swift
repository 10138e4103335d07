// The kernel core over real ZeroMQ sockets (ipc transport in a temp folder), driven by
// a minimal client written against the same wire layer.
import CZMQ
import XCTest
@testable import JupyterKernel

final class TestClient {
    let context: ZMQContext
    let shell: ZMQSocket, control: ZMQSocket, iopub: ZMQSocket, hb: ZMQSocket, stdin: ZMQSocket
    let factory: MessageFactory

    init(_ info: ConnectionInfo) throws {
        context = try ZMQContext()
        factory = MessageFactory(signer: MessageSigner(key: info.key))
        let identity = Array("client-\(UUID().uuidString)".utf8)
        shell = try ZMQSocket(context: context, kind: .dealer)
        try shell.setOption(ZMQ_ROUTING_ID, bytes: identity)
        stdin = try ZMQSocket(context: context, kind: .dealer)
        try stdin.setOption(ZMQ_ROUTING_ID, bytes: identity)
        control = try ZMQSocket(context: context, kind: .dealer)
        iopub = try ZMQSocket(context: context, kind: .sub)
        try iopub.setOption(ZMQ_SUBSCRIBE, bytes: [])
        hb = try ZMQSocket(context: context, kind: .req)
        try shell.connect(info.endpoint(port: info.shellPort))
        try stdin.connect(info.endpoint(port: info.stdinPort))
        try control.connect(info.endpoint(port: info.controlPort))
        try iopub.connect(info.endpoint(port: info.iopubPort))
        try hb.connect(info.endpoint(port: info.hbPort))
    }

    func close() {
        [shell, control, iopub, hb, stdin].forEach { $0.close() }
        context.terminate()
    }

    /// Sends a request; returns its msg_id.
    @discardableResult
    func send(_ socket: ZMQSocket, _ type: String, _ content: JSONValue) throws -> String {
        let frames = factory.message(identities: [], msgType: type, parent: nil, content: content)
        try socket.send(frames)
        return try WireCodec.decode(frames, signer: factory.signer).msgID
    }

    func receive(_ socket: ZMQSocket, timeout: Int = 15000) throws -> IncomingMessage? {
        guard try ZMQSocket.poll([socket], timeoutMilliseconds: timeout)[0] else { return nil }
        return try WireCodec.decode(try socket.receive(), signer: factory.signer)
    }

    func ping(_ bytes: [UInt8] = Array("ping".utf8)) throws -> [UInt8]? {
        try hb.send([bytes])
        guard try ZMQSocket.poll([hb], timeoutMilliseconds: 3000)[0] else { return nil }
        return try hb.receive().first
    }
}

/// Echoes every comm message back with "echo" set, and says hello on open.
final class EchoTarget: CommTarget {
    func opened(_ comm: Comm, data: JSONValue) { comm.send(["hello": .string(comm.id)]) }
    func received(_ comm: Comm, data: JSONValue) { comm.send(["echo": data]) }
    func closed(_ comm: Comm, data: JSONValue) {}
}

final class KernelServerTests: XCTestCase {
    var server: KernelServer!
    var client: TestClient!
    var interpreter: TestInterpreter!
    var info: ConnectionInfo!
    var directory: URL!

    override func setUpWithError() throws {
        directory = URL(fileURLWithPath: "/tmp/gk-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        info = ConnectionInfo(transport: .ipc, ip: directory.appendingPathComponent("k").path, shellPort: 1,
                              iopubPort: 2, stdinPort: 3, controlPort: 4, hbPort: 5, key: Array("secret".utf8))
        interpreter = TestInterpreter()
        server = try KernelServer(connection: info, interpreter: interpreter, log: { _ in })
        server.register(commTarget: EchoTarget(), name: "echo")
        server.start()
        client = try TestClient(info)
        try waitForIOPub()
    }

    override func tearDown() {
        client?.close()
        server?.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Repeats kernel_info until its busy status reaches our SUB socket.
    func waitForIOPub() throws {
        for _ in 0..<200 {
            let id = try client.send(client.shell, "kernel_info_request", [:])
            XCTAssertNotNil(try client.receive(client.shell))
            if let message = try client.receive(client.iopub, timeout: 50), parent(message) == id {
                // The subscription may have joined between busy and idle.
                if message["execution_state"] != "idle" { _ = try collect(id) }
                return
            }
        }
        XCTFail("iopub never connected")
    }

    func parent(_ message: IncomingMessage) -> String? { message.parentID }

    func collect(_ id: String, timeout: Int = 15000) throws -> [IncomingMessage] {
        var collected: [IncomingMessage] = []
        while let message = try client.receive(client.iopub, timeout: timeout) {
            guard parent(message) == id else { continue }
            collected.append(message)
            if message.msgType == "status", message["execution_state"] == "idle" { return collected }
        }
        XCTFail("no idle status for \(id)")
        return collected
    }

    func execute(_ code: String, extra: [String: JSONValue] = [:]) throws -> (IncomingMessage?, [IncomingMessage]) {
        var content: [String: JSONValue] = ["code": .string(code), "silent": false, "store_history": true,
                                            "user_expressions": [:], "allow_stdin": false, "stop_on_error": true]
        for (key, value) in extra { content[key] = value }
        let id = try client.send(client.shell, "execute_request", .object(content))
        let reply = try client.receive(client.shell)
        return (reply, try collect(id))
    }

    func testKernelInfo() throws {
        let id = try client.send(client.shell, "kernel_info_request", [:])
        let reply = try XCTUnwrap(client.receive(client.shell))
        XCTAssertEqual(reply.msgType, "kernel_info_reply")
        XCTAssertEqual(reply.parentID, id)
        XCTAssertEqual(reply["protocol_version"], "5.4")
        XCTAssertEqual(reply["language_info"]?["name"], "testlang")
        XCTAssertEqual(reply["language_info"]?["file_extension"], ".tst")
        XCTAssertEqual(reply.header["version"], "5.4")
        let statuses = try collect(id).map { $0["execution_state"]?.stringValue }
        XCTAssertEqual(statuses, ["busy", "idle"])
    }

    func testExecutePublishesInputOutputsAndCounts() throws {
        let (reply, messages) = try execute("echo hello, world")
        XCTAssertEqual(reply?["status"], "ok")
        XCTAssertEqual(messages.map(\.msgType), ["status", "execute_input", "stream", "status"])
        XCTAssertEqual(messages[1]["code"], "echo hello, world")
        XCTAssertEqual(messages[2]["name"], "stdout")
        XCTAssertEqual(messages[2]["text"], "hello, world\n")
        let first = try XCTUnwrap(reply?["execution_count"]?.intValue)
        let (second, outputs) = try execute("result 2")
        XCTAssertEqual(second?["execution_count"]?.intValue, first + 1)
        let result = try XCTUnwrap(outputs.first { $0.msgType == "execute_result" })
        XCTAssertEqual(result["data"]?["text/plain"], "2")
        XCTAssertEqual(result["execution_count"]?.intValue, first + 1)
    }

    func testDisplayUpdateAndClear() throws {
        let (_, shown) = try execute("show <svg/>")
        let display = try XCTUnwrap(shown.first { $0.msgType == "display_data" })
        XCTAssertEqual(display["transient"]?["display_id"], "d1")
        XCTAssertEqual(display["data"]?["image/svg+xml"], "<svg/>")
        let (_, updated) = try execute("update d1")
        XCTAssertEqual(updated.first { $0.msgType == "update_display_data" }?["transient"]?["display_id"], "d1")
        let (_, cleared) = try execute("clear")
        XCTAssertEqual(cleared.first { $0.msgType == "clear_output" }?["wait"], false)
    }

    func testSilentPublishesNothingButStatus() throws {
        let (first, _) = try execute("pass")
        let (reply, messages) = try execute("echo quiet", extra: ["silent": true])
        XCTAssertEqual(messages.map(\.msgType), ["status", "status"])
        XCTAssertEqual(reply?["execution_count"], first?["execution_count"])
    }

    func testErrorPublishesAndRepliesAndAbortsQueued() throws {
        let failing = try client.send(client.shell, "execute_request", ["code": "sleep 0.2", "stop_on_error": true])
        _ = failing
        let errorID = try client.send(client.shell, "execute_request", ["code": "fail", "stop_on_error": true])
        let queued = try client.send(client.shell, "execute_request", ["code": "echo never", "stop_on_error": true])
        var replies: [String: IncomingMessage] = [:]
        for _ in 0..<3 {
            let reply = try XCTUnwrap(client.receive(client.shell))
            replies[reply.parentID ?? ""] = reply
        }
        XCTAssertEqual(replies[errorID]?["status"], "error")
        XCTAssertEqual(replies[errorID]?["ename"], "TestError")
        XCTAssertEqual(replies[queued]?["status"], "aborted")
        let errorOutputs = try collect(errorID)
        XCTAssertEqual(errorOutputs.filter { $0.msgType == "error" }.count, 1)
        let (after, _) = try execute("echo again")
        XCTAssertEqual(after?["status"], "ok")
    }

    func testCompleteInspectIsCompleteHistoryComms() throws {
        _ = try execute("result 1")
        _ = try execute("result 2")
        try client.send(client.shell, "complete_request", ["code": "ec", "cursor_pos": 2])
        let complete = try XCTUnwrap(client.receive(client.shell))
        XCTAssertEqual(complete["matches"], ["echo"])
        XCTAssertEqual(complete["cursor_end"], 2)
        try client.send(client.shell, "inspect_request", ["code": "echo", "cursor_pos": 4, "detail_level": 0])
        XCTAssertEqual(try client.receive(client.shell)?["found"], true)
        try client.send(client.shell, "is_complete_request", ["code": "echo \\"])
        let incomplete = try XCTUnwrap(client.receive(client.shell))
        XCTAssertEqual(incomplete["status"], "incomplete")
        XCTAssertEqual(incomplete["indent"], "  ")
        try client.send(client.shell, "history_request", ["hist_access_type": "tail", "n": 2, "output": true, "raw": true])
        let history = try XCTUnwrap(client.receive(client.shell)?["history"]?.arrayValue)
        XCTAssertEqual(history.count, 2)
        XCTAssertEqual(history[1].arrayValue?[2], ["result 2", "2"])
        try client.send(client.shell, "comm_info_request", [:])
        XCTAssertEqual(try client.receive(client.shell)?["comms"], [:])
        let open = try client.send(client.shell, "comm_open", ["comm_id": "c1", "target_name": "nobody", "data": [:]])
        let messages = try collect(open)
        XCTAssertEqual(messages.first { $0.msgType == "comm_close" }?["comm_id"], "c1")
    }

    func testCommLifecycleWithRegisteredTarget() throws {
        let open = try client.send(client.shell, "comm_open", ["comm_id": "c9", "target_name": "echo", "data": [:]])
        XCTAssertEqual(try collect(open).first { $0.msgType == "comm_msg" }?["data"], ["hello": "c9"])
        try client.send(client.shell, "comm_info_request", ["target_name": "echo"])
        XCTAssertEqual(try client.receive(client.shell)?["comms"], ["c9": ["target_name": "echo"]])
        let message = try client.send(client.shell, "comm_msg", ["comm_id": "c9", "data": ["x": 1]])
        XCTAssertEqual(try collect(message).first { $0.msgType == "comm_msg" }?["data"], ["echo": ["x": 1]])
        let close = try client.send(client.shell, "comm_close", ["comm_id": "c9", "data": [:]])
        XCTAssertEqual(try collect(close).map(\.msgType), ["status", "status"])
        try client.send(client.shell, "comm_info_request", [:])
        XCTAssertEqual(try client.receive(client.shell)?["comms"], [:])
    }

    func testStdinRoundTrip() throws {
        let id = try client.send(client.shell, "execute_request", ["code": "ask name?", "allow_stdin": true])
        let request = try XCTUnwrap(client.receive(client.stdin))
        XCTAssertEqual(request.msgType, "input_request")
        XCTAssertEqual(request["prompt"], "name?")
        try client.send(client.stdin, "input_reply", ["value": "Ada"])
        XCTAssertEqual(try client.receive(client.shell)?["status"], "ok")
        XCTAssertEqual(try collect(id).first { $0.msgType == "stream" }?["text"], "got Ada\n")
    }

    func testHeartbeatAndControlAnswerWhileACellRuns() throws {
        let id = try client.send(client.shell, "execute_request", ["code": "sleep 30"])
        while let message = try client.receive(client.iopub), message.msgType != "execute_input" {}
        XCTAssertEqual(try client.ping(), Array("ping".utf8))
        try client.send(client.control, "kernel_info_request", [:])
        XCTAssertEqual(try client.receive(client.control, timeout: 2000)?.msgType, "kernel_info_reply")
        try client.send(client.control, "interrupt_request", [:])
        XCTAssertEqual(try client.receive(client.control, timeout: 2000)?["status"], "ok")
        let reply = try XCTUnwrap(client.receive(client.shell, timeout: 3000))
        XCTAssertEqual(reply["status"], "error")
        XCTAssertEqual(reply["ename"], "KeyboardInterrupt")
        _ = try collect(id)
    }

    func testPipelinedRequestsNeverStall() throws {
        var pending = Set<String>()
        var sent = 0, received = 0
        while received < 500 {
            while pending.count < 32 && sent < 500 {
                pending.insert(try client.send(client.shell, "execute_request", ["code": "pass"]))
                sent += 1
            }
            let reply = try XCTUnwrap(client.receive(client.shell, timeout: 5000), "stalled after \(received)")
            XCTAssertNotNil(pending.remove(reply.parentID ?? ""))
            received += 1
        }
    }

    func testMalformedInputIsDroppedAndKernelKeepsServing() throws {
        try client.shell.send([Array("garbage".utf8)])
        try client.shell.send([Array("a".utf8), Array("b".utf8), Array("c".utf8)])
        try client.shell.send([WireCodec.delimiter, Array("bad sig".utf8), Array("{}".utf8), Array("{}".utf8),
                               Array("{}".utf8), Array("{}".utf8)])
        // Correctly signed, but truncated content and wrong field types: error replies.
        let header = Array("{\"msg_id\":\"t1\",\"msg_type\":\"execute_request\",\"session\":\"s\",\"username\":\"u\",\"version\":\"5.4\",\"date\":\"\"}".utf8)
        let signed = [header, Array("{}".utf8), Array("{}".utf8), Array("{\"code\": \"ec".utf8)]
        try client.shell.send([WireCodec.delimiter, client.factory.signer.signature(signed)] + signed)
        XCTAssertEqual(try client.receive(client.shell)?["ename"], "ProtocolError")
        try client.send(client.shell, "execute_request", ["code": 42])
        XCTAssertEqual(try client.receive(client.shell)?["evalue"], "field 'code' must be a string")
        try client.send(client.shell, "no_such_request", [:])
        try client.send(client.shell, "execute_request", ["code": .string(String(repeating: "x", count: 2_000_000))])
        XCTAssertEqual(try client.receive(client.shell, timeout: 30000)?["status"], "error")
        XCTAssertEqual(try client.ping(), Array("ping".utf8))
        XCTAssertEqual(try execute("echo still here").0?["status"], "ok")
    }

    func testShutdownRepliesThenStops() throws {
        let id = try client.send(client.control, "shutdown_request", ["restart": true])
        let reply = try XCTUnwrap(client.receive(client.control))
        XCTAssertEqual(reply.parentID, id)
        XCTAssertEqual(reply["restart"], true)
        XCTAssertTrue(server.waitForShutdown())
        XCTAssertEqual(interpreter.shutdownCalls, [true])
        server.stop() // a second stop is harmless
    }
}
