"""A minimal raw-pyzmq Jupyter client, so tests can send what real clients never would."""
from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import os
import time
import uuid

import zmq

DELIM = b"<IDS|MSG>"


class RawClient:
    def __init__(self, info: dict, ctx: zmq.Context | None = None):
        self.info = info
        self.key = info["key"].encode()
        self.ctx = ctx or zmq.Context.instance()
        self.session = str(uuid.uuid4())
        ident = f"raw-{uuid.uuid4()}".encode()
        self.shell = self._connect(zmq.DEALER, "shell_port", ident)
        self.control = self._connect(zmq.DEALER, "control_port")
        self.stdin = self._connect(zmq.DEALER, "stdin_port", ident)
        self.iopub = self._connect(zmq.SUB, "iopub_port")
        self.iopub.setsockopt(zmq.SUBSCRIBE, b"")
        self.hb = self._connect(zmq.REQ, "hb_port")

    def _endpoint(self, port_name: str) -> str:
        if self.info.get("transport", "tcp") == "ipc":
            return f"ipc://{self.info['ip']}-{self.info[port_name]}"
        return f"tcp://{self.info['ip']}:{self.info[port_name]}"

    def _connect(self, kind, port_name, ident=None):
        sock = self.ctx.socket(kind)
        sock.setsockopt(zmq.LINGER, 0)
        if ident:
            sock.setsockopt(zmq.IDENTITY, ident)
        sock.connect(self._endpoint(port_name))
        return sock

    def close(self):
        for s in (self.shell, self.control, self.stdin, self.iopub, self.hb):
            s.close(linger=0)

    def sign(self, frames):
        if not self.key:
            return b""
        mac = hmac.new(self.key, digestmod=hashlib.sha256)
        for f in frames:
            mac.update(f)
        return mac.hexdigest().encode()

    def frames(self, msg_type: str, content, msg_id: str | None = None):
        header = {
            "msg_id": msg_id or str(uuid.uuid4()), "msg_type": msg_type, "session": self.session,
            "username": "test", "date": datetime.datetime.now(datetime.timezone.utc).isoformat(), "version": "5.4",
        }
        body = [json.dumps(header).encode(), b"{}", b"{}",
                content if isinstance(content, bytes) else json.dumps(content).encode()]
        return header["msg_id"], [DELIM, self.sign(body)] + body

    def send(self, sock, msg_type: str, content) -> str:
        msg_id, frames = self.frames(msg_type, content)
        sock.send_multipart(frames)
        return msg_id

    def execute(self, code: str, **extra) -> str:
        content = {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                   "allow_stdin": False, "stop_on_error": True}
        content.update(extra)
        return self.send(self.shell, "execute_request", content)

    @staticmethod
    def parse(frames):
        i = frames.index(DELIM)
        header, parent, _meta, content = (json.loads(f) for f in frames[i + 2:i + 6])
        return {"header": header, "parent_header": parent, "content": content, "msg_type": header["msg_type"],
                "signature": frames[i + 1], "signed": frames[i + 2:i + 6]}

    def recv(self, sock, timeout: float = 10.0):
        if not sock.poll(int(timeout * 1000)):
            return None
        msg = self.parse(sock.recv_multipart())
        expected = self.sign(msg["signed"])
        assert hmac.compare_digest(expected, msg["signature"]), "kernel sent a badly signed message"
        return msg

    def reply(self, msg_id: str, sock=None, timeout: float = 10.0):
        sock = sock or self.shell
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.recv(sock, max(0.01, deadline - time.monotonic()))
            if msg and msg["parent_header"].get("msg_id") == msg_id:
                return msg
        return None

    def iopub_until_idle(self, msg_id: str, timeout: float = 10.0):
        out = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.recv(self.iopub, max(0.01, deadline - time.monotonic()))
            if msg is None or msg["parent_header"].get("msg_id") != msg_id:
                continue
            out.append(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return out
        raise AssertionError(f"no idle for {msg_id}; got {[m['msg_type'] for m in out]}")

    def wait_iopub_ready(self, timeout: float = 10.0):
        """PUB drops messages until our SUB is connected: repeat kernel_info until iopub shows up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg_id = self.send(self.shell, "kernel_info_request", {})
            assert self.reply(msg_id) is not None
            while True:
                msg = self.recv(self.iopub, 0.2)
                if msg is None:
                    break
                if msg["parent_header"].get("msg_id") == msg_id:
                    self.iopub_until_idle(msg_id) if msg["content"].get("execution_state") != "idle" else None
                    return
        raise AssertionError("iopub never delivered")

    def drain_iopub(self, quiet: float = 0.1) -> int:
        """Reads iopub until it has been quiet for `quiet` s. PUB/SUB drops messages once
        the queues are full (1000 each), so a test that ignores iopub for thousands of
        requests must drain before it expects fresh outputs (jupyter_client's channel
        thread does this continuously)."""
        n = 0
        while self.recv(self.iopub, quiet) is not None:
            n += 1
        return n

    def ping(self, payload: bytes = b"ping", timeout: float = 5.0) -> bytes | None:
        self.hb.send(payload)
        if not self.hb.poll(int(timeout * 1000)):
            return None
        return self.hb.recv()


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
