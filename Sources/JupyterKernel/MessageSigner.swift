// HMAC-SHA256 signing and constant-time verification of Jupyter messages (OpenSSL).
//
// The signature covers header, parent_header, metadata and content, in that order, as
// the exact bytes sent. With an empty key signing is off: the signature frame is empty
// and incoming signatures are not checked.

import COpenSSL

/// Signs and verifies the four JSON frames of a Jupyter message.
///
/// Thread-safe: every call builds its own OpenSSL MAC context from a shared, immutable
/// algorithm handle, so shell, control and iopub can sign concurrently.
public final class MessageSigner: @unchecked Sendable {
    private let key: [UInt8]
    private let mac: OpaquePointer?

    /// - Parameter key: the connection file's key as UTF-8 bytes; empty disables signing.
    public init(key: [UInt8]) {
        self.key = key
        mac = key.isEmpty ? nil : EVP_MAC_fetch(nil, "HMAC", nil)
    }

    deinit { if let mac { EVP_MAC_free(mac) } }

    /// Whether messages are signed at all.
    public var isEnabled: Bool { !key.isEmpty }

    /// The lowercase hex HMAC over the frames, or empty bytes when signing is off.
    public func signature(_ frames: [[UInt8]]) -> [UInt8] {
        guard let mac, let context = EVP_MAC_CTX_new(mac) else { return [] }
        defer { EVP_MAC_CTX_free(context) }
        var digestName = Array("SHA256".utf8CString)
        var digestOut = [UInt8](repeating: 0, count: 64)
        var length = 0
        let ok: Bool = digestName.withUnsafeMutableBufferPointer { name in
            var params = [OSSL_PARAM_construct_utf8_string("digest", name.baseAddress, 0), OSSL_PARAM_construct_end()]
            guard key.withUnsafeBufferPointer({ EVP_MAC_init(context, $0.baseAddress, $0.count, &params) }) == 1 else {
                return false
            }
            for frame in frames {
                guard frame.withUnsafeBufferPointer({ EVP_MAC_update(context, $0.baseAddress, $0.count) }) == 1 else {
                    return false
                }
            }
            return EVP_MAC_final(context, &digestOut, &length, digestOut.count) == 1
        }
        guard ok else { return [] }
        return Self.hex(digestOut.prefix(length))
    }

    /// Whether `signature` is the right one for `frames`, compared in constant time.
    /// Always true when signing is off.
    public func verify(signature: [UInt8], frames: [[UInt8]]) -> Bool {
        guard isEnabled else { return true }
        let expected = self.signature(frames)
        guard !expected.isEmpty, expected.count == signature.count else { return false }
        return expected.withUnsafeBytes { a in
            signature.withUnsafeBytes { b in CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0 }
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    static func hex<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0xF)])
        }
        return out
    }
}
