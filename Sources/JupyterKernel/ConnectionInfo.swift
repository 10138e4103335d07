// The connection file a Jupyter frontend writes before starting a kernel: transport,
// address, the five ports and the signing key. This file parses it and turns it into
// ZeroMQ endpoints; it does not open any socket.

import Foundation

/// Why a connection file could not be used, naming the file and the field.
public struct ConnectionFileError: Error, CustomStringConvertible, Equatable {
    /// What is wrong, naming the file and field.
    public var message: String
    /// The message, for printing.
    public var description: String { message }
}

/// The contents of a Jupyter connection file.
public struct ConnectionInfo: Equatable, Sendable {
    /// The ZeroMQ transport the frontend chose.
    public enum Transport: String, Sendable { case tcp, ipc }

    /// tcp or ipc, as the frontend chose.
    public var transport: Transport
    /// IP address for tcp; a path prefix for ipc.
    public var ip: String
    /// Shell channel port (ROUTER: requests and replies).
    public var shellPort: Int
    /// IOPub channel port (PUB: status and outputs).
    public var iopubPort: Int
    /// Stdin channel port (ROUTER: input_request).
    public var stdinPort: Int
    /// Control channel port (ROUTER: interrupt, shutdown).
    public var controlPort: Int
    /// Heartbeat port (REP: echo).
    public var hbPort: Int
    /// The HMAC key as its UTF-8 bytes (Jupyter never hex-decodes it). Empty means unsigned.
    public var key: [UInt8]
    /// For example `hmac-sha256`.
    public var signatureScheme: String
    /// The kernelspec name the frontend started (informational).
    public var kernelName: String

    /// Builds connection info directly (tests and tools that start a kernel themselves).
    public init(transport: Transport = .tcp, ip: String = "127.0.0.1", shellPort: Int, iopubPort: Int,
                stdinPort: Int, controlPort: Int, hbPort: Int, key: [UInt8],
                signatureScheme: String = "hmac-sha256", kernelName: String = "") {
        self.transport = transport
        self.ip = ip
        self.shellPort = shellPort
        self.iopubPort = iopubPort
        self.stdinPort = stdinPort
        self.controlPort = controlPort
        self.hbPort = hbPort
        self.key = key
        self.signatureScheme = signatureScheme
        self.kernelName = kernelName
    }

    /// Reads and parses a connection file.
    public static func load(path: String) throws -> ConnectionInfo {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConnectionFileError(message: "cannot read connection file '\(path)'")
        }
        do {
            return try parse(Array(data))
        } catch let error as ConnectionFileError {
            throw ConnectionFileError(message: "connection file '\(path)': \(error.message)")
        }
    }

    /// Parses connection-file JSON.
    public static func parse(_ bytes: [UInt8]) throws -> ConnectionInfo {
        let json: JSONValue
        do {
            json = try JSONParser.parse(bytes)
        } catch let error as JSONParseError {
            throw ConnectionFileError(message: error.description)
        }
        guard json.objectValue != nil else { throw ConnectionFileError(message: "the top level must be a JSON object") }

        func port(_ name: String) throws -> Int {
            guard let value = json[name] else { throw ConnectionFileError(message: "missing '\(name)'") }
            guard let port = value.intValue, (0...65535).contains(port) else {
                throw ConnectionFileError(message: "'\(name)' must be a port number 0-65535")
            }
            return Int(port)
        }
        func string(_ name: String, default fallback: String) throws -> String {
            guard let value = json[name], value != .null else { return fallback }
            guard let string = value.stringValue else { throw ConnectionFileError(message: "'\(name)' must be a string") }
            return string
        }

        let transportName = try string("transport", default: "tcp")
        guard let transport = Transport(rawValue: transportName) else {
            throw ConnectionFileError(message: "unsupported transport '\(transportName)' (expected tcp or ipc)")
        }
        let scheme = try string("signature_scheme", default: "hmac-sha256")
        let key = try string("key", default: "")
        if !key.isEmpty && scheme != "hmac-sha256" {
            throw ConnectionFileError(message: "unsupported signature_scheme '\(scheme)' (only hmac-sha256)")
        }
        return ConnectionInfo(
            transport: transport, ip: try string("ip", default: "127.0.0.1"),
            shellPort: try port("shell_port"), iopubPort: try port("iopub_port"),
            stdinPort: try port("stdin_port"), controlPort: try port("control_port"),
            hbPort: try port("hb_port"), key: Array(key.utf8), signatureScheme: scheme,
            kernelName: try string("kernel_name", default: ""))
    }

    /// The ZeroMQ endpoint for a port: `tcp://ip:port` or `ipc://ip-port`.
    public func endpoint(port: Int) -> String {
        switch transport {
        case .tcp: return "tcp://\(ip):\(port)"
        case .ipc: return "ipc://\(ip)-\(port)"
        }
    }

    /// This info as connection-file JSON (used by tests and tools that start a kernel).
    public var json: JSONValue {
        .object([
            "transport": .string(transport.rawValue), "ip": .string(ip),
            "shell_port": .int(Int64(shellPort)), "iopub_port": .int(Int64(iopubPort)),
            "stdin_port": .int(Int64(stdinPort)), "control_port": .int(Int64(controlPort)),
            "hb_port": .int(Int64(hbPort)), "key": .string(String(decoding: key, as: UTF8.self)),
            "signature_scheme": .string(signatureScheme), "kernel_name": .string(kernelName),
        ])
    }
}
