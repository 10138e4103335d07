"""Hostile and heavy traffic over raw ZeroMQ: after each case the heartbeat must still
answer and a cell must still run; memory must not grow without bound."""
from __future__ import annotations

import os
import signal
import time

import pytest
import zmq
from jupyter_client import KernelManager

from rawclient import DELIM, RawClient, rss_kb


@pytest.fixture(scope="module")
def kernel():
    km = KernelManager(kernel_name="graphsmith")
    km.start_kernel()
    client = RawClient(km.get_connection_info(session=False) | {"key": km.session.key.decode()})
    client.wait_iopub_ready()
    yield km, client
    client.close()
    km.shutdown_kernel(now=False)


def assert_alive(client: RawClient):
    client.drain_iopub()
    assert client.ping(b"still there?") == b"still there?"
    msg_id = client.execute("echo alive")
    reply = client.reply(msg_id)
    assert reply is not None and reply["content"]["status"] == "ok"
    outputs = client.iopub_until_idle(msg_id)
    assert any(m["msg_type"] == "stream" and m["content"]["text"] == "alive\n" for m in outputs)


def test_garbage_frames(kernel):
    _, client = kernel
    client.shell.send_multipart([b"\x00\xff garbage"])
    client.shell.send_multipart([b"a", b"b", b"c", b"d"])
    client.control.send_multipart([b"\xde\xad\xbe\xef"] * 9)
    assert_alive(client)


def test_missing_delimiter(kernel):
    _, client = kernel
    _, frames = client.frames("execute_request", {"code": "echo no"})
    client.shell.send_multipart([f for f in frames if f != DELIM])
    assert_alive(client)


def test_wrong_signature_is_dropped(kernel):
    _, client = kernel
    msg_id, frames = client.frames("execute_request", {"code": "echo forged"})
    frames[1] = b"0" * 64
    client.shell.send_multipart(frames)
    assert client.reply(msg_id, timeout=0.5) is None
    assert_alive(client)


def test_truncated_json_gets_error_reply(kernel):
    _, client = kernel
    msg_id, frames = client.frames("execute_request", b'{"code": "echo tr')
    frames[1] = client.sign(frames[2:6])
    client.shell.send_multipart(frames)
    reply = client.reply(msg_id)
    assert reply["content"]["status"] == "error"
    client.iopub_until_idle(msg_id)
    # A truncated header cannot even be answered: it is dropped.
    _, frames = client.frames("execute_request", {"code": "x"})
    frames[2] = frames[2][:10]
    frames[1] = client.sign(frames[2:6])
    client.shell.send_multipart(frames)
    assert_alive(client)


def test_wrong_field_types(kernel):
    _, client = kernel
    for content in ({"code": 42}, {"code": "echo x", "silent": "yes"}, [1, 2, 3], {"code": None}):
        msg_id = client.send(client.shell, "execute_request", content)
        reply = client.reply(msg_id)
        assert reply["content"]["status"] == "error", content
    msg_id = client.send(client.shell, "complete_request", {"code": "ech", "cursor_pos": "end"})
    assert client.reply(msg_id)["content"]["status"] == "error"
    msg_id = client.send(client.shell, "history_request", {"hist_access_type": 7})
    assert client.reply(msg_id)["content"]["status"] == "error"
    assert_alive(client)


def test_unknown_msg_type(kernel):
    _, client = kernel
    msg_id = client.send(client.shell, "frobnicate_request", {})
    states = [m["content"].get("execution_state") for m in client.iopub_until_idle(msg_id)]
    assert states == ["busy", "idle"]
    client.send(client.control, "frobnicate_request", {})
    assert_alive(client)


def test_ten_megabyte_request(kernel):
    _, client = kernel
    code = "echo " + "x" * (10 * 1024 * 1024)
    msg_id = client.execute(code)
    reply = client.reply(msg_id, timeout=60)
    assert reply is not None and reply["content"]["status"] == "ok"
    outputs = client.iopub_until_idle(msg_id, timeout=60)
    stream = [m for m in outputs if m["msg_type"] == "stream"]
    assert len(stream[0]["content"]["text"]) >= 10 * 1024 * 1024
    assert_alive(client)


def test_client_disconnecting_mid_reply(kernel):
    km, _ = kernel
    info = km.get_connection_info(session=False) | {"key": km.session.key.decode()}
    for _ in range(20):
        leaver = RawClient(info)
        leaver.execute("help")
        leaver.execute("echo " + "y" * 200_000)
        leaver.close()
    fresh = RawClient(info)
    try:
        fresh.wait_iopub_ready()
        assert_alive(fresh)
    finally:
        fresh.close()


def test_ten_thousand_executes_in_a_row(kernel):
    km, client = kernel
    pid = km.provisioner.pid
    rss_before = None
    for i in range(10_000):
        msg_id = client.execute("x = 1")
        reply = client.reply(msg_id)
        assert reply is not None and reply["content"]["status"] == "ok", i
        if i == 1000:
            rss_before = rss_kb(pid)
    # Drain iopub (statuses) so the kernel's PUB queue is not what we measure.
    client.drain_iopub()
    growth = rss_kb(pid) - rss_before
    assert growth < 20_000, f"RSS grew by {growth} kB over 9,000 executes"
    assert_alive(client)


def test_thirty_two_pipelined_in_flight(kernel):
    _, client = kernel
    pending, sent, done = set(), 0, 0
    total = 2000
    while done < total:
        while len(pending) < 32 and sent < total:
            pending.add(client.execute("print 1 + 1"))
            sent += 1
        msg = client.recv(client.shell, timeout=10)
        assert msg is not None, f"stalled after {done} replies with {len(pending)} in flight"
        pending.discard(msg["parent_header"]["msg_id"])
        done += 1
    assert not pending
    assert_alive(client)


def test_interrupt_during_long_cell_by_message(kernel):
    _, client = kernel
    client.drain_iopub()
    msg_id = client.execute("sleep 30")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # wait until the cell has started
        msg = client.recv(client.iopub, 1)
        if msg and msg["msg_type"] == "execute_input" and msg["parent_header"]["msg_id"] == msg_id:
            break
    assert client.ping() == b"ping", "heartbeat must answer while a cell runs"
    start = time.monotonic()
    int_id = client.send(client.control, "interrupt_request", {})
    assert client.reply(int_id, sock=client.control)["content"]["status"] == "ok"
    reply = client.reply(msg_id, timeout=5)
    assert time.monotonic() - start < 2
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    assert_alive(client)


def test_interrupt_during_long_cell_by_sigint(kernel):
    km, client = kernel
    msg_id = client.execute("sleep 30")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        msg = client.recv(client.iopub, 1)
        if msg and msg["msg_type"] == "execute_input" and msg["parent_header"]["msg_id"] == msg_id:
            break
    os.kill(km.provisioner.pid, signal.SIGINT)
    reply = client.reply(msg_id, timeout=5)
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    assert km.is_alive()
    assert_alive(client)


def test_stop_on_error_aborts_queued_executes(kernel):
    _, client = kernel
    first = client.execute("sleep 0.3")
    failing = client.execute("nosuchcommand")
    queued = [client.execute("echo queued") for _ in range(3)]
    replies = {}
    for _ in range(5):
        msg = client.recv(client.shell, 10)
        replies[msg["parent_header"]["msg_id"]] = msg["content"]
    assert replies[first]["status"] == "ok"
    assert replies[failing]["status"] == "error"
    assert [replies[q]["status"] for q in queued] == ["aborted"] * 3
    assert_alive(client)


def test_restart_and_shutdown():
    km = KernelManager(kernel_name="graphsmith")
    km.start_kernel()
    try:
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=30)
        session_before = kc.kernel_info(reply=True)["header"]["session"]
        km.restart_kernel(now=False)
        kc.wait_for_ready(timeout=30)
        reply = kc.kernel_info(reply=True)
        assert reply["header"]["session"] != session_before, "a restarted kernel has a new session"
        kc.stop_channels()
        start = time.monotonic()
        km.shutdown_kernel(now=False)
        assert time.monotonic() - start < 2.0
        assert not km.is_alive()
    finally:
        if km.has_kernel and km.is_alive():
            km.shutdown_kernel(now=True)
