"""Text shown on a terminal with its control characters made visible.

Bytes from a server (an error message, an answer's body) or from a file name can hold terminal
control sequences: ``ESC[2J`` clears the screen, OSC 8 forges a hyperlink, OSC 52 writes the
clipboard, a bare CR overwrites the line. Every text runner writes for a terminal (the console
report, the live line, error messages, ``runner history`` and ``runner show``) goes through
:func:`printable`; JSON outputs escape control characters by themselves.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline (which the console's own layout uses), DEL, and C1 controls
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with each control character written as ``\\xNN``: ESC shows as ``\\x1b``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
