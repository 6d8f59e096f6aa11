"""Running a command with its stdout on a pseudo-terminal of 160 columns, as a person at a
terminal runs it (the console's live line and colour are for terminals only)."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import termios
import time

from helpers import ROOT


def on_a_terminal(cmd: list[str], env: dict[str, str], *, hang_up_after: int = 0,
                  timeout: float = 60) -> tuple[int, str, str]:
    """Run ``cmd`` with its stdout on a pseudo-terminal of 160 columns: its exit code, what it
    wrote there, and its stderr. ``hang_up_after``: close the terminal after that many bytes."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    proc = subprocess.Popen(cmd, stdout=slave, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            cwd=ROOT, env=env)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not data:
            break
        chunks.append(data)
        if hang_up_after and sum(map(len, chunks)) >= hang_up_after:
            break
    os.close(master)
    assert proc.stderr is not None
    err = proc.stderr.read().decode("utf-8", "replace")
    return proc.wait(timeout=timeout), b"".join(chunks).decode("utf-8", "replace"), err
