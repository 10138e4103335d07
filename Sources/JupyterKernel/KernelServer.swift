// The kernel process: binds the five Jupyter sockets and serves them on their own
// threads, so heartbeat and control (interrupt, shutdown) answer while a cell runs.
//
//   shell     ROUTER  one thread: requests handled one at a time, in order; the only
//                     thread that calls the interpreter. Also polls an inproc wake
//                     socket so a shutdown on control can stop it.
//   control   ROUTER  own thread: kernel_info, interrupt, shutdown.
//   stdin     ROUTER  used by the shell thread for input_request while a cell runs.
//   iopub     PUB     one socket behind a lock; every thread publishes through it (a
//                     PUB socket is not thread-safe; a mutex gives the memory barrier
//                     libzmq requires and costs less than a hop to a publisher thread).
//   heartbeat REP     own thread, echoes bytes.
//
// Every socket is read by a thread blocked in zmq_poll/zmq_msg_recv, never through an
// edge-triggered ZMQ_FD, so pipelined requests cannot stall. Malformed or badly signed
// messages are logged to stderr and dropped; nothing a client sends can crash the kernel.

import Dispatch
import Foundation
import Glibc

/// Serves one `KernelInterpreter` over the Jupyter protocol.
public final class KernelServer: @unchecked Sendable {
    private let connection: ConnectionInfo
    private let interpreter: KernelInterpreter
    private let factory: MessageFactory
    private let log: @Sendable (String) -> Void
    private let kernelInfo: KernelInfo

    private let context: ZMQContext
    private let shell: ZMQSocket
    private let control: ZMQSocket
    private let stdin: ZMQSocket
    private let heartbeat: ZMQSocket
    private let iopub: ZMQSocket
    private let iopubLock = NSLock()
    private let wakeSender: ZMQSocket
    private let wakeReceiver: ZMQSocket
    private let wakeLock = NSLock()

    /// Raised by interrupt_request and SIGINT; polled by the running cell.
    public let cancellation = CancellationFlag()

    // Shell-thread state (touched only by the shell thread).
    private var executionCount = 0
    private var history = History()
    private var commTargets: [String: CommTarget] = [:]
    private var openComms: [String: Comm] = [:]
    /// Header of the shell request being served: the parent of comm messages a target sends.
    private var currentParent: [UInt8]?
    /// Shell requests that were queued when an execute failed with stop_on_error.
    private var queuedAtFailure: [[[UInt8]]] = []

    private let stateLock = NSLock()
    private var shutdownRestart: Bool?
    private var stopped = false
    /// Signalled by the control (or shell) thread once a shutdown_request was answered.
    private let shutdownRequested = DispatchSemaphore(value: 0)
    /// Signalled by the shell thread after `interpreter.shutdown` returned.
    private let shellFinished = DispatchSemaphore(value: 0)
    private let threadsDone = DispatchGroup()
    private var signalSource: DispatchSourceSignal?

    /// Creates the sockets and binds them. Cheap: nothing heavy happens before the
    /// first kernel_info_reply, which keeps cold start short.
    ///
    /// - Parameters:
    ///   - connection: the parsed connection file.
    ///   - interpreter: the language; called only on the shell thread.
    ///   - log: where diagnostics go (the kernel's stderr ends up in the server log).
    public init(connection: ConnectionInfo, interpreter: KernelInterpreter,
                log: @escaping @Sendable (String) -> Void = KernelServer.standardErrorLog) throws {
        self.connection = connection
        self.interpreter = interpreter
        self.log = log
        self.kernelInfo = interpreter.kernelInfo
        factory = MessageFactory(signer: MessageSigner(key: connection.key))
        context = try ZMQContext()
        shell = try ZMQSocket(context: context, kind: .router)
        control = try ZMQSocket(context: context, kind: .router)
        stdin = try ZMQSocket(context: context, kind: .router)
        heartbeat = try ZMQSocket(context: context, kind: .rep)
        iopub = try ZMQSocket(context: context, kind: .pub)
        wakeReceiver = try ZMQSocket(context: context, kind: .pair)
        wakeSender = try ZMQSocket(context: context, kind: .pair)
        let wakeEndpoint = "inproc://graphsmith-wake-\(factory.session)"
        try wakeReceiver.bind(wakeEndpoint)
        try wakeSender.connect(wakeEndpoint)
        try shell.bind(connection.endpoint(port: connection.shellPort))
        try control.bind(connection.endpoint(port: connection.controlPort))
        try stdin.bind(connection.endpoint(port: connection.stdinPort))
        try iopub.bind(connection.endpoint(port: connection.iopubPort))
        try heartbeat.bind(connection.endpoint(port: connection.hbPort))
    }

    /// Writes a line to stderr, which Jupyter servers keep in their log.
    public static let standardErrorLog: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data(("[graphsmith kernel] " + line + "\n").utf8))
    }

    /// The session id every message header carries.
    public var session: String { factory.session }

    /// Lets frontends open comms to `target` under `name`. Call before `start()`.
    public func register(commTarget target: CommTarget, name: String) {
        commTargets[name] = target
    }

    /// Publishes `status: starting` and starts the channel threads.
    public func start() {
        publish(msgType: "status", parent: nil, content: ["execution_state": "starting"])
        spawn("heartbeat") { [self] in heartbeatLoop() }
        spawn("control") { [self] in controlLoop() }
        spawn("shell") { [self] in shellLoop() }
    }

    /// Turns SIGINT into an interrupt of the running cell instead of killing the process
    /// (jupyter_client signals the whole process group on interrupt and before shutdown).
    public func installInterruptSignalHandler() {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [cancellation] in cancellation.cancel() }
        source.resume()
        signalSource = source
    }

    /// Blocks until a shutdown_request was served, lets the shell thread finish (at most
    /// 2 s, in case a command ignores the interrupt), then stops the threads and flushes
    /// pending messages. Returns whether the client asked for a restart.
    @discardableResult
    public func waitForShutdown() -> Bool {
        shutdownRequested.wait()
        if shellFinished.wait(timeout: .now() + 2) == .timedOut {
            log("the running cell ignored the interrupt; shutting down without it")
        }
        let restart = stateLock.withLock { shutdownRestart } ?? false
        stop()
        return restart
    }

    /// Stops all threads and closes the sockets (also used by tests). Idempotent.
    public func stop() {
        let first = stateLock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        context.shutdown()
        let finished = threadsDone.wait(timeout: .now() + 2) == .success
        iopubLock.withLock { iopub.close() }
        wakeLock.withLock { wakeSender.close() }
        wakeReceiver.close()
        if finished {
            // All sockets are closed: this flushes queued replies (bounded by linger).
            context.terminate()
        } else {
            log("a cell did not stop within 2 s of shutdown; exiting without flushing")
        }
    }

    private func spawn(_ name: String, _ body: @escaping @Sendable () -> Void) {
        threadsDone.enter()
        let thread = Thread { [threadsDone] in
            body()
            threadsDone.leave()
        }
        thread.name = "graphsmith-\(name)"
        thread.stackSize = 8 << 20
        thread.start()
    }

    // MARK: - Channel loops

    private func heartbeatLoop() {
        defer { heartbeat.close() }
        while true {
            do {
                let frames = try heartbeat.receive()
                try heartbeat.send(frames)
            } catch ZMQError.terminated {
                return
            } catch {
                log("heartbeat: \(error)")
            }
        }
    }

    private func controlLoop() {
        defer { control.close() }
        while true {
            let frames: [[UInt8]]
            do {
                frames = try control.receive()
            } catch ZMQError.terminated {
                return
            } catch {
                log("control: \(error)")
                continue
            }
            guard let message = decode(frames, channel: "control") else { continue }
            handleControl(message)
        }
    }

    private func shellLoop() {
        defer {
            shell.close()
            stdin.close()
        }
        while true {
            let ready: [Bool]
            do {
                ready = try ZMQSocket.poll([shell, wakeReceiver], timeoutMilliseconds: -1)
            } catch ZMQError.terminated {
                return
            } catch {
                log("shell poll: \(error)")
                continue
            }
            if ready[1] {
                _ = try? wakeReceiver.receive(dontWait: true)
                let restart = stateLock.withLock { shutdownRestart }
                if let restart {
                    interpreter.shutdown(restart: restart)
                    shellFinished.signal()
                    return
                }
            }
            if ready[0] {
                do {
                    let frames = try shell.receive(dontWait: true)
                    if let message = decode(frames, channel: "shell") { handleShell(message) }
                } catch ZMQError.terminated {
                    return
                } catch ZMQError.wouldBlock {
                    continue
                } catch {
                    log("shell: \(error)")
                }
            }
        }
    }

    private func decode(_ frames: [[UInt8]], channel: String) -> IncomingMessage? {
        do {
            return try WireCodec.decode(frames, signer: factory.signer)
        } catch {
            log("\(channel): dropped a message: \(error)")
            return nil
        }
    }

    // MARK: - Sending

    /// Publishes one iopub message; `parent` is the triggering request's header frame.
    private func publish(msgType: String, parent: [UInt8]?, content: JSONValue) {
        publish(msgType: msgType, parent: parent, contentBytes: JSONWriter.encode(content))
    }

    private func publish(msgType: String, parent: [UInt8]?, contentBytes: [UInt8]) {
        let topic = Array("kernel.\(factory.session).\(msgType)".utf8)
        let frames = [topic, WireCodec.delimiter] + factory.frames(msgType: msgType, parent: parent, content: contentBytes)
        iopubLock.withLock {
            do {
                try iopub.send(frames)
            } catch ZMQError.terminated {
                // Shutting down: outputs after shutdown have no reader.
            } catch {
                log("iopub: \(error)")
            }
        }
    }

    private func status(_ state: String, parent: IncomingMessage) {
        publish(msgType: "status", parent: parent.rawHeader, content: ["execution_state": .string(state)])
    }

    private func reply(_ request: IncomingMessage, on socket: ZMQSocket, content: JSONValue) {
        let replyType = request.msgType.hasSuffix("_request")
            ? String(request.msgType.dropLast("_request".count)) + "_reply" : request.msgType + "_reply"
        let frames = factory.message(identities: request.identities, msgType: replyType,
                                     parent: request.rawHeader, content: content)
        do {
            // A vanished client must not block the kernel: ROUTER drops unroutable replies.
            try socket.send(frames, dontWait: true)
        } catch ZMQError.terminated {
        } catch {
            log("reply \(replyType): \(error)")
        }
    }

    private static func errorContent(_ error: KernelError, extra: [String: JSONValue] = [:]) -> JSONValue {
        var content: [String: JSONValue] = [
            "status": "error", "ename": .string(error.name), "evalue": .string(error.value),
            "traceback": .array(error.traceback.map { .string($0) }),
        ]
        for (key, value) in extra { content[key] = value }
        return .object(content)
    }

    // MARK: - Control

    private func handleControl(_ message: IncomingMessage) {
        status("busy", parent: message)
        defer { status("idle", parent: message) }
        switch message.msgType {
        case "kernel_info_request":
            reply(message, on: control, content: kernelInfoContent())
        case "interrupt_request":
            cancellation.cancel()
            reply(message, on: control, content: ["status": "ok"])
        case "shutdown_request":
            let restart = message["restart"]?.boolValue ?? false
            reply(message, on: control, content: ["status": "ok", "restart": .bool(restart)])
            requestShutdown(restart: restart)
        default:
            log("control: ignoring unsupported message type '\(message.msgType)'")
        }
    }

    private func requestShutdown(restart: Bool) {
        stateLock.withLock { shutdownRestart = restart }
        cancellation.cancel()
        shutdownRequested.signal()
        wakeLock.withLock { _ = try? wakeSender.send([[1]], dontWait: true) }
    }

    // MARK: - Shell

    private func handleShell(_ message: IncomingMessage) {
        currentParent = message.rawHeader
        status("busy", parent: message)
        let failed = dispatchShell(message)
        status("idle", parent: message)
        if failed { abortQueuedExecutes() }
    }

    /// Handles one shell request; returns true when an execute failed with stop_on_error.
    private func dispatchShell(_ message: IncomingMessage) -> Bool {
        let known: Set<String> = [
            "kernel_info_request", "execute_request", "complete_request", "inspect_request",
            "is_complete_request", "history_request", "comm_info_request", "shutdown_request",
            "comm_open", "comm_msg", "comm_close",
        ]
        guard known.contains(message.msgType) else {
            log("shell: ignoring unknown message type '\(message.msgType)'")
            return false
        }
        guard let content = message.content else {
            let problem = message.contentProblem ?? "content missing"
            log("shell: \(message.msgType): \(problem)")
            if message.msgType.hasSuffix("_request") {
                reply(message, on: shell, content: Self.errorContent(
                    KernelError(name: "ProtocolError", value: problem), extra: executeExtra(message)))
            }
            return false
        }
        do {
            switch message.msgType {
            case "kernel_info_request": reply(message, on: shell, content: kernelInfoContent())
            case "execute_request": return try execute(message, content: content)
            case "complete_request": try complete(message, content: content)
            case "inspect_request": try inspect(message, content: content)
            case "is_complete_request": try isComplete(message, content: content)
            case "history_request": try historyRequest(message, content: content)
            case "comm_info_request": commInfo(message, content: content)
            case "shutdown_request":
                let restart = content["restart"]?.boolValue ?? false
                reply(message, on: shell, content: ["status": "ok", "restart": .bool(restart)])
                requestShutdown(restart: restart)
            case "comm_open", "comm_msg", "comm_close": try handleComm(message, content: content)
            default: break
            }
        } catch let error as FieldError {
            log("shell: \(message.msgType): \(error.message)")
            if message.msgType.hasSuffix("_request") {
                reply(message, on: shell, content: Self.errorContent(
                    KernelError(name: "ProtocolError", value: error.message), extra: executeExtra(message)))
            }
        } catch {
            log("shell: \(message.msgType): \(error)")
        }
        return false
    }

    private func executeExtra(_ message: IncomingMessage) -> [String: JSONValue] {
        message.msgType == "execute_request" ? ["execution_count": .int(Int64(executionCount))] : [:]
    }

    /// A request field of the wrong type.
    private struct FieldError: Error { var message: String }

    private func string(_ content: [String: JSONValue], _ key: String, default fallback: String? = nil) throws -> String {
        guard let value = content[key], value != .null else {
            if let fallback { return fallback }
            throw FieldError(message: "missing field '\(key)'")
        }
        guard let string = value.stringValue else { throw FieldError(message: "field '\(key)' must be a string") }
        return string
    }

    private func bool(_ content: [String: JSONValue], _ key: String, default fallback: Bool) throws -> Bool {
        guard let value = content[key], value != .null else { return fallback }
        guard let flag = value.boolValue else { throw FieldError(message: "field '\(key)' must be a boolean") }
        return flag
    }

    private func int(_ content: [String: JSONValue], _ key: String, default fallback: Int?) throws -> Int? {
        guard let value = content[key], value != .null else { return fallback }
        guard let number = value.intValue, abs(number) < 1 << 40 else {
            throw FieldError(message: "field '\(key)' must be an integer")
        }
        return Int(number)
    }

    private func kernelInfoContent() -> JSONValue {
        let info = kernelInfo
        var language: [String: JSONValue] = [
            "name": .string(info.languageName), "version": .string(info.languageVersion),
            "mimetype": .string(info.mimetype), "file_extension": .string(info.fileExtension),
        ]
        if let lexer = info.pygmentsLexer { language["pygments_lexer"] = .string(lexer) }
        if let mode = info.codemirrorMode { language["codemirror_mode"] = .string(mode) }
        return .object([
            "status": "ok", "protocol_version": .string(MessageFactory.protocolVersion),
            "implementation": .string(info.implementation),
            "implementation_version": .string(info.implementationVersion),
            "language_info": .object(language), "banner": .string(info.banner),
            "help_links": .array(info.helpLinks.map { .object(["text": .string($0.text), "url": .string($0.url)]) }),
            "debugger": false,
        ])
    }

    private func execute(_ message: IncomingMessage, content: [String: JSONValue]) throws -> Bool {
        let code = try string(content, "code")
        let silent = try bool(content, "silent", default: false)
        let storeHistory = silent ? false : try bool(content, "store_history", default: true)
        let allowStdin = try bool(content, "allow_stdin", default: false)
        let stopOnError = try bool(content, "stop_on_error", default: true)

        if storeHistory { executionCount += 1 }
        let count = executionCount
        let parent = message.rawHeader
        // Reset before execute_input: an interrupt sent once the client sees the cell start counts.
        cancellation.reset()
        if !silent {
            publish(msgType: "execute_input", parent: parent,
                    content: ["code": .string(code), "execution_count": .int(Int64(count))])
        }

        var resultText: String?
        let sink: (KernelOutput) -> Void = { [self] output in
            if case .executeResult(let data, _) = output { resultText = data["text/plain"]?.stringValue }
            guard !silent else { return }
            let (type, body) = Self.iopubMessage(for: output, executionCount: count)
            publish(msgType: type, parent: parent, contentBytes: body)
        }
        let reader: ((String, Bool) -> String?)? = allowStdin
            ? { [self] prompt, password in readInput(for: message, prompt: prompt, password: password) } : nil

        let request = ExecuteRequest(code: code, silent: silent, storeHistory: storeHistory,
                                     allowStdin: allowStdin, stopOnError: stopOnError)
        let context = ExecutionContext(executionCount: count, cancellation: cancellation,
                                       inputReader: reader, sink: sink)
        let outcome = interpreter.execute(request, context: context)
        if storeHistory { history.record(line: count, input: code, output: resultText) }

        switch outcome {
        case .ok(let payload):
            reply(message, on: shell, content: [
                "status": "ok", "execution_count": .int(Int64(count)),
                "payload": .array(payload), "user_expressions": .object([:]),
            ])
            return false
        case .error(let error):
            if !silent {
                let (type, body) = Self.iopubMessage(for: .error(error), executionCount: count)
                publish(msgType: type, parent: parent, contentBytes: body)
            }
            // Take the requests queued so far *before* replying: they were sent before the client
            // could know of the error, so they are the ones to abort. Anything sent after the
            // client sees this reply is a fresh request and must run.
            if stopOnError { queuedAtFailure = drainShellQueue() }
            reply(message, on: shell, content: Self.errorContent(
                error, extra: ["execution_count": .int(Int64(count)), "user_expressions": .object([:])]))
            return stopOnError
        }
    }

    /// The iopub message type and content bytes for one cell output.
    static func iopubMessage(for output: KernelOutput, executionCount: Int) -> (String, [UInt8]) {
        switch output {
        case .stream(let name, let text):
            return ("stream", JSONWriter.encode(["name": .string(name.rawValue), "text": .string(text)]))
        case .display(let data, let metadata, let displayID):
            var content: [String: JSONValue] = ["data": .object(data), "metadata": .object(metadata)]
            content["transient"] = displayID.map { .object(["display_id": .string($0)]) } ?? .object([:])
            return ("display_data", JSONWriter.encode(.object(content)))
        case .updateDisplay(let data, let metadata, let displayID):
            return ("update_display_data", JSONWriter.encode([
                "data": .object(data), "metadata": .object(metadata),
                "transient": ["display_id": .string(displayID)],
            ]))
        case .clearOutput(let wait):
            return ("clear_output", JSONWriter.encode(["wait": .bool(wait)]))
        case .executeResult(let data, let metadata):
            return ("execute_result", JSONWriter.encode([
                "execution_count": .int(Int64(executionCount)), "data": .object(data), "metadata": .object(metadata),
            ]))
        case .error(let error):
            return ("error", JSONWriter.encode([
                "ename": .string(error.name), "evalue": .string(error.value),
                "traceback": .array(error.traceback.map { .string($0) }),
            ]))
        }
    }

    /// Sends input_request on stdin with the execute request's identities and waits for
    /// input_reply; gives up (nil) when the cell is interrupted or the kernel stops.
    private func readInput(for request: IncomingMessage, prompt: String, password: Bool) -> String? {
        let frames = factory.message(identities: request.identities, msgType: "input_request",
                                     parent: request.rawHeader,
                                     content: ["prompt": .string(prompt), "password": .bool(password)])
        do {
            try stdin.send(frames, dontWait: true)
            while !cancellation.isCancelled {
                guard try ZMQSocket.poll([stdin], timeoutMilliseconds: 100)[0] else { continue }
                let received = try stdin.receive(dontWait: true)
                guard let message = decode(received, channel: "stdin") else { continue }
                if message.msgType == "input_reply" { return message["value"]?.stringValue ?? "" }
                log("stdin: ignoring '\(message.msgType)' while waiting for input_reply")
            }
        } catch {
            log("stdin: \(error)")
        }
        return nil
    }

    /// Requests waiting on the shell socket right now, without blocking.
    private func drainShellQueue() -> [[[UInt8]]] {
        var queued: [[[UInt8]]] = []
        while let frames = try? shell.receive(dontWait: true) { queued.append(frames) }
        return queued
    }

    /// After a failed execute with stop_on_error, answers every execute_request that was
    /// queued when it failed with status "aborted" (other queued requests are served normally).
    private func abortQueuedExecutes() {
        let queued = queuedAtFailure
        queuedAtFailure = []
        for frames in queued {
            guard let message = decode(frames, channel: "shell") else { continue }
            if message.msgType == "execute_request" {
                status("busy", parent: message)
                reply(message, on: shell, content: [
                    "status": "aborted", "execution_count": .int(Int64(executionCount)),
                    "payload": [], "user_expressions": .object([:]),
                ])
                status("idle", parent: message)
            } else {
                // Keep serving, but an execute failing in here must not recurse.
                currentParent = message.rawHeader
                status("busy", parent: message)
                _ = dispatchShell(message)
                status("idle", parent: message)
            }
        }
    }

    private func cursor(_ content: [String: JSONValue], code: String) throws -> Int {
        let length = code.unicodeScalars.count
        let position = try int(content, "cursor_pos", default: length) ?? length
        return min(max(0, position), length)
    }

    private func complete(_ message: IncomingMessage, content: [String: JSONValue]) throws {
        let code = try string(content, "code")
        let result = interpreter.complete(code: code, cursorPosition: try cursor(content, code: code))
        reply(message, on: shell, content: [
            "status": "ok", "matches": .array(result.matches.map { .string($0) }),
            "cursor_start": .int(Int64(result.cursorStart)), "cursor_end": .int(Int64(result.cursorEnd)),
            "metadata": .object(result.metadata),
        ])
    }

    private func inspect(_ message: IncomingMessage, content: [String: JSONValue]) throws {
        let code = try string(content, "code")
        let detail = try int(content, "detail_level", default: 0) ?? 0
        let result = interpreter.inspect(code: code, cursorPosition: try cursor(content, code: code), detailLevel: detail)
        reply(message, on: shell, content: [
            "status": "ok", "found": .bool(result.found), "data": .object(result.data),
            "metadata": .object(result.metadata),
        ])
    }

    private func isComplete(_ message: IncomingMessage, content: [String: JSONValue]) throws {
        let code = try string(content, "code")
        let body: JSONValue
        switch interpreter.isComplete(code: code) {
        case .complete: body = ["status": "complete"]
        case .incomplete(let indent): body = ["status": "incomplete", "indent": .string(indent)]
        case .invalid: body = ["status": "invalid"]
        case .unknown: body = ["status": "unknown"]
        }
        reply(message, on: shell, content: body)
    }

    private func historyRequest(_ message: IncomingMessage, content: [String: JSONValue]) throws {
        let output = try bool(content, "output", default: false)
        let unique = try bool(content, "unique", default: false)
        let access = try string(content, "hist_access_type", default: "tail")
        let entries: [HistoryEntry]
        switch access {
        case "tail":
            entries = history.tail(try int(content, "n", default: 10) ?? 10, unique: unique)
        case "range":
            entries = history.range(session: try int(content, "session", default: 0) ?? 0,
                                    start: try int(content, "start", default: 0) ?? 0,
                                    stop: try int(content, "stop", default: nil))
        case "search":
            entries = history.search(pattern: try string(content, "pattern", default: "*"),
                                     n: try int(content, "n", default: nil), unique: unique)
        default:
            throw FieldError(message: "hist_access_type must be tail, range or search, not '\(access)'")
        }
        let items: [JSONValue] = entries.map { entry in
            let input: JSONValue = output
                ? .array([.string(entry.input), entry.output.map { .string($0) } ?? .null]) : .string(entry.input)
            return .array([.int(Int64(entry.session)), .int(Int64(entry.line)), input])
        }
        reply(message, on: shell, content: ["status": "ok", "history": .array(items)])
    }

    private func commInfo(_ message: IncomingMessage, content: [String: JSONValue]) {
        let wanted = content["target_name"]?.stringValue
        var comms: [String: JSONValue] = [:]
        for (id, comm) in openComms where wanted == nil || wanted == comm.targetName {
            comms[id] = ["target_name": .string(comm.targetName)]
        }
        reply(message, on: shell, content: ["status": "ok", "comms": .object(comms)])
    }

    private func handleComm(_ message: IncomingMessage, content: [String: JSONValue]) throws {
        let id = try string(content, "comm_id")
        let data = content["data"] ?? .object([:])
        let parent = message.rawHeader
        switch message.msgType {
        case "comm_open":
            let targetName = try string(content, "target_name")
            guard let target = commTargets[targetName] else {
                log("comm_open: no target named '\(targetName)'; closing comm \(id)")
                publish(msgType: "comm_close", parent: parent, content: ["comm_id": .string(id), "data": .object([:])])
                return
            }
            let comm = Comm(id: id, targetName: targetName) { [self] type, body in
                // Comm messages belong to whatever request is being served when they are sent.
                publish(msgType: type, parent: currentParent ?? parent, content: body)
            }
            openComms[id] = comm
            target.opened(comm, data: data)
        case "comm_msg":
            guard let comm = openComms[id], let target = commTargets[comm.targetName] else {
                log("comm_msg: no open comm \(id)")
                return
            }
            target.received(comm, data: data)
        default:
            guard let comm = openComms.removeValue(forKey: id), let target = commTargets[comm.targetName] else {
                log("comm_close: no open comm \(id)")
                return
            }
            target.closed(comm, data: data)
        }
    }
}
