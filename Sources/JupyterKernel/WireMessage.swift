// Jupyter wire framing: splitting a received ZeroMQ multipart message into routing
// identities and the signed JSON frames, and building outgoing messages.
//
//   [identities…] "<IDS|MSG>" signature header parent_header metadata content [buffers…]
//
// Incoming frames are untrusted: every way a message can be malformed becomes a
// `WireError` naming the problem, never a crash. The parent header of a reply is the
// request's header frame copied byte for byte, as clients route outputs by it.

import Foundation

/// Why a received multipart message was dropped.
public enum WireError: Error, Equatable, CustomStringConvertible {
    case missingDelimiter
    case tooFewFrames(Int)
    case badSignature
    case badHeader(String)

    /// What was wrong, for the kernel log.
    public var description: String {
        switch self {
        case .missingDelimiter: return "no <IDS|MSG> delimiter frame"
        case .tooFewFrames(let n): return "expected signature and 4 JSON frames after the delimiter, got \(n) frames"
        case .badSignature: return "signature does not match (wrong key or tampered message)"
        case .badHeader(let why): return "invalid header: \(why)"
        }
    }
}

/// A received, verified Jupyter message.
public struct IncomingMessage {
    /// Routing prefix, copied to the front of the reply.
    public var identities: [[UInt8]]
    /// The header frame as received, reused verbatim as the reply's parent_header.
    public var rawHeader: [UInt8]
    /// The parent_header frame as received (clients use it to route kernel messages).
    public var rawParentHeader: [UInt8]
    /// The parsed header (msg_id, msg_type, session, ...).
    public var header: [String: JSONValue]
    /// `msg_type` from the header.
    public var msgType: String
    /// `msg_id` from the header (empty when missing).
    public var msgID: String
    /// The content object, or nil when the content frame is not a JSON object
    /// (handlers answer such requests with an error reply).
    public var content: [String: JSONValue]?
    /// Why content is nil, if it is.
    public var contentProblem: String?
    /// The metadata object (empty when absent or malformed).
    public var metadata: [String: JSONValue]
    /// Raw binary frames after content (comm messages use them).
    public var buffers: [[UInt8]]

    /// The parent's msg_id, parsed on demand (the kernel itself never needs it).
    public var parentID: String? {
        (try? JSONParser.parse(rawParentHeader))?["msg_id"]?.stringValue
    }

    /// A content field, or nil when content is missing or has no such key.
    public subscript(field: String) -> JSONValue? { content?[field] }
}

/// Frame-level encoding and decoding of Jupyter messages.
public enum WireCodec {
    /// The delimiter between routing identities and the signed frames.
    public static let delimiter: [UInt8] = Array("<IDS|MSG>".utf8)

    /// Splits and verifies a received multipart message.
    public static func decode(_ frames: [[UInt8]], signer: MessageSigner) throws -> IncomingMessage {
        guard let split = frames.firstIndex(of: delimiter) else { throw WireError.missingDelimiter }
        let rest = frames.count - split - 1
        guard rest >= 5 else { throw WireError.tooFewFrames(rest) }
        let signature = frames[split + 1]
        let signed = Array(frames[(split + 2)...(split + 5)])
        guard signer.verify(signature: signature, frames: signed) else { throw WireError.badSignature }

        let header: [String: JSONValue]
        do {
            guard let object = try JSONParser.parse(signed[0]).objectValue else { throw WireError.badHeader("not an object") }
            header = object
        } catch let error as JSONParseError {
            throw WireError.badHeader(error.description)
        }
        guard let msgType = header["msg_type"]?.stringValue, !msgType.isEmpty else {
            throw WireError.badHeader("missing msg_type")
        }
        let msgID = header["msg_id"]?.stringValue ?? ""

        var content: [String: JSONValue]?
        var problem: String?
        do {
            if let object = try JSONParser.parse(signed[3]).objectValue { content = object } else { problem = "content is not a JSON object" }
        } catch let error as JSONParseError {
            problem = "content: \(error.description)"
        }
        let metadata = (try? JSONParser.parse(signed[2]).objectValue) ?? [:]
        return IncomingMessage(
            identities: Array(frames[..<split]), rawHeader: signed[0], rawParentHeader: signed[1], header: header, msgType: msgType,
            msgID: msgID, content: content, contentProblem: problem, metadata: metadata,
            buffers: Array(frames[(split + 6)...]))
    }
}

/// Builds signed outgoing messages for one kernel session.
///
/// Holds the session id and username that go into every header. Thread-safe (only
/// immutable state; the signer is thread-safe).
public final class MessageFactory: @unchecked Sendable {
    /// One per kernel process; a new one after restart tells clients the kernel restarted.
    public let session: String
    /// The `username` header field.
    public let username: String
    /// Signs every outgoing message and verifies incoming ones.
    public let signer: MessageSigner
    /// The protocol version announced in every header.
    public static let protocolVersion = "5.4"

    /// A factory for one kernel process (a fresh session id by default).
    public init(signer: MessageSigner, session: String = newMessageID(), username: String = "graphsmith") {
        self.signer = signer
        self.session = session
        self.username = username
    }

    /// The four signed frames plus signature for a message, without routing prefix.
    /// `parent` is a header frame received earlier, or nil for `{}`.
    public func frames(msgType: String, parent: [UInt8]?, content: [UInt8],
                       metadata: [UInt8] = Array("{}".utf8)) -> [[UInt8]] {
        var header = JSONWriter(capacity: 200)
        header.writeRaw("{\"msg_id\":")
        header.writeString(newMessageID())
        header.writeRaw(",\"session\":")
        header.writeString(session)
        header.writeRaw(",\"username\":")
        header.writeString(username)
        header.writeRaw(",\"date\":")
        header.writeString(isoTimestamp())
        header.writeRaw(",\"msg_type\":")
        header.writeString(msgType)
        header.writeRaw(",\"version\":\"5.4\"}")
        let signed = [header.bytes, parent ?? Array("{}".utf8), metadata, content]
        return [signer.signature(signed)] + signed
    }

    /// A complete multipart message: identities (or an iopub topic), delimiter, signature, frames.
    public func message(identities: [[UInt8]], msgType: String, parent: [UInt8]?, content: JSONValue,
                        metadata: JSONValue = .object([:])) -> [[UInt8]] {
        identities + [WireCodec.delimiter]
            + frames(msgType: msgType, parent: parent, content: JSONWriter.encode(content),
                     metadata: JSONWriter.encode(metadata))
    }
}

/// A fresh random UUID in lowercase, for msg_id and session.
public func newMessageID() -> String {
    UUID().uuidString.lowercased()
}

/// Now as ISO-8601 UTC with microseconds, e.g. `2026-01-31T12:00:00.123456Z`, the form
/// jupyter_client parses.
public func isoTimestamp() -> String {
    var now = timeval()
    gettimeofday(&now, nil)
    var seconds = now.tv_sec
    var parts = tm()
    gmtime_r(&seconds, &parts)
    func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
    return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))T"
        + "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))."
        + "\(pad(Int(now.tv_usec), 6))Z"
}
