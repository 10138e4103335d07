// A thin, safe layer over libzmq: a context, sockets, multipart send/receive and poll.
//
// Only what the kernel needs. Errors are values (`ZMQError`), never crashes; a closed
// or terminated context shows up as `ZMQError.terminated` so threads can end cleanly.

import CZMQ
import Glibc

/// A libzmq failure, with errno's text.
public enum ZMQError: Error, CustomStringConvertible, Equatable {
    /// The context was shut down: the owning thread should close its socket and return.
    case terminated
    /// A non-blocking call had nothing to do.
    case wouldBlock
    /// Any other failure, with the call that failed.
    case failed(String, errno: Int32)

    static func last(_ call: String) -> ZMQError {
        let code = zmq_errno()
        if code == ETERM { return .terminated }
        if code == EAGAIN { return .wouldBlock }
        return .failed(call, errno: code)
    }

    /// Human-readable text, with libzmq's errno message.
    public var description: String {
        switch self {
        case .terminated: return "ZeroMQ context terminated"
        case .wouldBlock: return "ZeroMQ operation would block"
        case .failed(let call, let code): return "\(call) failed: \(String(cString: zmq_strerror(code)))"
        }
    }
}

/// Owns a libzmq context. Sockets must be closed before `terminate()` returns.
public final class ZMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    /// Creates a context (one per process is plenty: it owns libzmq's I/O thread).
    public init() throws {
        guard let handle = zmq_ctx_new() else { throw ZMQError.last("zmq_ctx_new") }
        self.handle = handle
    }

    /// Makes every blocking call on this context's sockets return `.terminated`.
    public func shutdown() { zmq_ctx_shutdown(handle) }

    /// Waits until all sockets are closed and pending messages sent (bounded by linger).
    public func terminate() {
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }
}

/// One ZeroMQ socket. Not thread-safe: use it from one thread at a time.
public final class ZMQSocket: @unchecked Sendable {
    /// Socket kinds the kernel uses.
    public enum Kind {
        case router, dealer, pub, sub, rep, req, pair, push, pull
        var raw: Int32 {
            switch self {
            case .router: return ZMQ_ROUTER
            case .dealer: return ZMQ_DEALER
            case .pub: return ZMQ_PUB
            case .sub: return ZMQ_SUB
            case .rep: return ZMQ_REP
            case .req: return ZMQ_REQ
            case .pair: return ZMQ_PAIR
            case .push: return ZMQ_PUSH
            case .pull: return ZMQ_PULL
            }
        }
    }

    private(set) var handle: UnsafeMutableRawPointer?

    /// Opens a socket of `kind` with a bounded linger (1 s).
    public init(context: ZMQContext, kind: Kind) throws {
        guard let handle = zmq_socket(context.handle, kind.raw) else { throw ZMQError.last("zmq_socket") }
        self.handle = handle
        // Bounded linger: deliver pending replies on exit, but never hang for a vanished client.
        try setOption(ZMQ_LINGER, Int32(1000))
    }

    deinit { close() }

    /// Closes the socket (idempotent).
    public func close() {
        if let handle { zmq_close(handle) }
        handle = nil
    }

    /// Sets an integer socket option.
    public func setOption(_ option: Int32, _ value: Int32) throws {
        var value = value
        guard let handle, zmq_setsockopt(handle, option, &value, MemoryLayout<Int32>.size) == 0 else {
            throw ZMQError.last("zmq_setsockopt")
        }
    }

    /// Sets a bytes socket option (for example `ZMQ_SUBSCRIBE`).
    public func setOption(_ option: Int32, bytes: [UInt8]) throws {
        guard let handle, bytes.withUnsafeBytes({ zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }) == 0 else {
            throw ZMQError.last("zmq_setsockopt")
        }
    }

    /// Binds to an endpoint such as `tcp://127.0.0.1:5555`.
    public func bind(_ endpoint: String) throws {
        guard let handle, zmq_bind(handle, endpoint) == 0 else {
            let code = zmq_errno()
            throw ZMQError.failed("bind \(endpoint)", errno: code)
        }
    }

    /// Connects to an endpoint.
    public func connect(_ endpoint: String) throws {
        guard let handle, zmq_connect(handle, endpoint) == 0 else { throw ZMQError.last("connect \(endpoint)") }
    }

    /// The endpoint actually bound (useful after binding port 0 or `*`).
    public var lastEndpoint: String {
        guard let handle else { return "" }
        var buffer = [CChar](repeating: 0, count: 256)
        var size = buffer.count
        guard zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Sends all frames as one multipart message.
    public func send(_ frames: [[UInt8]], dontWait: Bool = false) throws {
        guard let handle else { throw ZMQError.terminated }
        for (index, frame) in frames.enumerated() {
            var flags: Int32 = index < frames.count - 1 ? ZMQ_SNDMORE : 0
            if dontWait { flags |= ZMQ_DONTWAIT }
            while true {
                let rc = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, flags) }
                if rc >= 0 { break }
                if zmq_errno() == EINTR { continue }
                throw ZMQError.last("zmq_send")
            }
        }
    }

    /// Receives one multipart message. Blocks unless `dontWait`; `.wouldBlock` when nothing is queued.
    public func receive(dontWait: Bool = false) throws -> [[UInt8]] {
        guard let handle else { throw ZMQError.terminated }
        var frames: [[UInt8]] = []
        var message = zmq_msg_t()
        zmq_msg_init(&message)
        defer { zmq_msg_close(&message) }
        while true {
            let rc = zmq_msg_recv(&message, handle, dontWait && frames.isEmpty ? ZMQ_DONTWAIT : 0)
            if rc < 0 {
                if zmq_errno() == EINTR { continue }
                throw ZMQError.last("zmq_msg_recv")
            }
            let size = zmq_msg_size(&message)
            if size > 0, let data = zmq_msg_data(&message) {
                frames.append(Array(UnsafeRawBufferPointer(start: data, count: size)))
            } else {
                frames.append([])
            }
            if zmq_msg_more(&message) == 0 { return frames }
        }
    }

    /// Waits up to `timeoutMilliseconds` (-1: forever) for the sockets to be readable;
    /// returns which ones are.
    public static func poll(_ sockets: [ZMQSocket], timeoutMilliseconds: Int) throws -> [Bool] {
        var items = sockets.map { zmq_pollitem_t(socket: $0.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0) }
        while true {
            let rc = zmq_poll(&items, Int32(items.count), timeoutMilliseconds)
            if rc >= 0 { break }
            if zmq_errno() == EINTR { continue }
            throw ZMQError.last("zmq_poll")
        }
        return items.map { $0.revents & Int16(ZMQ_POLLIN) != 0 }
    }
}
