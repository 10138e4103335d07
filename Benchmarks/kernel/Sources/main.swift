// kernel-bench: what one large output costs the kernel itself, without any client.
//
// Builds the same 1 MB SVG display_data message the round-trip benchmark uses (1,032,093
// characters) and times, per message: content serialization (JSONWriter), header,
// HMAC-SHA256 signing, and frame assembly — everything the kernel does before handing
// bytes to ZeroMQ. Also times parsing a 1 MB request and a trivial execute_reply.
// Prints one JSON object. Run: swift run -c release kernel-bench [iterations]

import Foundation
import JupyterKernel

func svgPayload() -> String {
    var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1000\" height=\"1000\">"
    for i in 0..<18000 {
        svg += "<rect x=\"\(i % 1000)\" y=\"\(i / 1000)\" width=\"1\" height=\"1\" fill=\"#123456\"/>"
    }
    return svg + "</svg>"
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let rank = max(0, min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))
    return sorted[rank]
}

func measure(_ iterations: Int, _ body: () -> Int) -> [String: Double] {
    var sink = 0
    for _ in 0..<max(3, iterations / 10) { sink &+= body() }
    var samples: [Double] = []
    for _ in 0..<iterations {
        let start = DispatchTime.now().uptimeNanoseconds
        sink &+= body()
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    samples.sort()
    if sink == 42 { print("") }
    return ["p50_ms": (percentile(samples, 50) * 1000).rounded() / 1000,
            "p99_ms": (percentile(samples, 99) * 1000).rounded() / 1000]
}

let iterations = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 200
let svg = svgPayload()
let factory = MessageFactory(signer: MessageSigner(key: Array(newMessageID().utf8)))
let parent = Array("{\"msg_id\":\"\(newMessageID())\",\"msg_type\":\"execute_request\",\"session\":\"s\",\"username\":\"u\",\"date\":\"2026-01-01T00:00:00.000000Z\",\"version\":\"5.4\"}".utf8)
let bundle: JSONValue = ["data": ["image/svg+xml": .string(svg), "text/plain": "<Graph view>"],
                         "metadata": [:], "transient": [:]]

let large = measure(iterations) {
    let frames = [Array("kernel.s.display_data".utf8), WireCodec.delimiter]
        + factory.frames(msgType: "display_data", parent: parent, content: JSONWriter.encode(bundle))
    return frames.reduce(0) { $0 + $1.count }
}
let serializeOnly = measure(iterations) { JSONWriter.encode(bundle).count }
let encoded = JSONWriter.encode(bundle)
let signOnly = measure(iterations) { factory.signer.signature([parent, [], [], encoded]).count }
let parseLarge = measure(iterations) { (try? JSONParser.parse(encoded)) == nil ? 0 : 1 }
let trivial = measure(iterations * 50) {
    factory.message(identities: [[1, 2, 3]], msgType: "execute_reply", parent: parent,
                    content: ["status": "ok", "execution_count": 7, "payload": [], "user_expressions": [:]]).count
}

let report: JSONValue = [
    "svg_chars": .int(Int64(svg.utf8.count)),
    "iterations": .int(Int64(iterations)),
    "large_display_data_build_and_sign": .object(large.mapValues { .double($0) }),
    "large_serialize_only": .object(serializeOnly.mapValues { .double($0) }),
    "large_sign_only": .object(signOnly.mapValues { .double($0) }),
    "large_parse": .object(parseLarge.mapValues { .double($0) }),
    "trivial_reply_build_and_sign": .object(trivial.mapValues { .double($0) }),
]
print(JSONWriter.string(report))
