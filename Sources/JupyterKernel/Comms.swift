// Comms: long-lived, two-way channels between a frontend widget and the kernel.
//
// The core tracks open comms and routes comm_open/comm_msg/comm_close to registered
// targets; a comm_open for a target nobody registered is answered with comm_close on
// iopub, as the protocol asks. Languages register targets through `KernelServer`.

/// A kernel-side endpoint that frontends can open comms to, by target name.
///
/// Called on the shell thread, like the interpreter.
public protocol CommTarget: AnyObject {
    /// A frontend opened a comm; `comm` can send messages back.
    func opened(_ comm: Comm, data: JSONValue)
    /// A message arrived on an open comm.
    func received(_ comm: Comm, data: JSONValue)
    /// The frontend closed the comm.
    func closed(_ comm: Comm, data: JSONValue)
}

/// One open comm, as seen by its target.
public struct Comm {
    /// The comm_id the frontend chose.
    public let id: String
    /// The target it was opened to.
    public let targetName: String
    let publish: (_ msgType: String, _ content: JSONValue) -> Void

    /// Sends `comm_msg` with `data` to the frontend (over iopub).
    public func send(_ data: JSONValue) {
        publish("comm_msg", .object(["comm_id": .string(id), "data": data]))
    }

    /// Closes the comm from the kernel side.
    public func close(_ data: JSONValue = .object([:])) {
        publish("comm_close", .object(["comm_id": .string(id), "data": data]))
    }
}
