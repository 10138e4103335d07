"""A kernel whose launcher dies must exit (as ipykernel does within about 2 s): SIGKILL the
process that started it through jupyter_client and watch the kernel's pid go away. Also when
the launcher gave no JPY_PARENT_PID (the kernel then watches for being re-parented)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

LAUNCHER = textwrap.dedent("""
    import os, sys, time
    from jupyter_client import KernelManager
    km = KernelManager(kernel_name="graphsmith")
    env = dict(os.environ)
    if sys.argv[2] == "no-parent-pid":
        # A launcher that does not say who it is: jupyter_client's launcher adds JPY_PARENT_PID,
        # so start the kernel by hand here.
        import json, subprocess, tempfile
        km.write_connection_file()
        cmd = [a.replace("{connection_file}", km.connection_file) for a in km.kernel_spec.argv]
        env.pop("JPY_PARENT_PID", None)
        p = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL)
        pid = p.pid
    else:
        km.start_kernel()
        pid = km.provisioner.pid if hasattr(km.provisioner, "pid") else km.provisioner.process.pid
    with open(sys.argv[1], "w") as f:
        f.write(str(pid))
    time.sleep(600)
""")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its new parent) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("mode", ["jupyter-client", "no-parent-pid"])
def test_kernel_exits_when_its_launcher_is_killed(tmp_path, mode):
    pid_file = tmp_path / "kernel.pid"
    launcher = subprocess.Popen([sys.executable, "-c", LAUNCHER, str(pid_file), mode], env=os.environ.copy(),
                                start_new_session=True)
    deadline = time.time() + 30
    while not pid_file.exists() or not pid_file.read_text():
        assert time.time() < deadline, "launcher did not start a kernel"
        assert launcher.poll() is None, "launcher died early"
        time.sleep(0.05)
    kernel_pid = int(pid_file.read_text())
    time.sleep(0.5)  # past the kernel's start
    assert alive(kernel_pid)
    launcher.send_signal(signal.SIGKILL)
    launcher.wait()
    killed_at = time.time()
    while alive(kernel_pid) and time.time() - killed_at < 10:
        time.sleep(0.05)
    gone_after = time.time() - killed_at
    if alive(kernel_pid):
        os.kill(kernel_pid, signal.SIGKILL)
        pytest.fail(f"kernel {kernel_pid} still running 10 s after its launcher was killed")
    assert gone_after < 3.0, f"kernel took {gone_after:.1f} s to exit"
