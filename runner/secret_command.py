"""The ``command`` secret source: ``{secret: {command: [op, read, "op://vault/item/field"]}}``
runs the argv (no shell) in the environment file's folder and takes what it prints, less one
trailing newline, as the value — the way git credential helpers and the ``pass``, ``op`` and
``vault`` command-line tools are used. ``{secret: {command: {argv: [...], timeout: 10}}}``
gives a timeout other than :data:`TIMEOUT` seconds.

What it prints on stdout is never shown, in no message; what it says on stderr is (a failing
``op`` says why there: not signed in, no such item), its last lines only.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from typing import Any

from runner.errors import InvalidInput
from runner.secret_source import SecretRequest

TIMEOUT = 30.0
_STDERR_LINES = 5
_USAGE = ("write {secret: {command: [PROGRAM, ARG, ...]}} or "
          "{secret: {command: {argv: [PROGRAM, ...], timeout: SECONDS}}}")


class CommandSource:
    def fetch(self, arg: Any, request: SecretRequest) -> str:
        argv, timeout = _parse(arg, request)
        named = f"secret command '{argv[0]}' (for {request.what})"
        at = f"{request.where}: " if request.where else ""
        try:
            proc = subprocess.run(argv, capture_output=True, timeout=timeout,
                                  cwd=request.base, stdin=subprocess.DEVNULL, check=False)
        except FileNotFoundError:
            raise InvalidInput(f"{at}{named}: no such program",
                               hint="install it, or give its full path") from None
        except PermissionError:
            raise InvalidInput(f"{at}{named}: not executable",
                               hint=f"chmod +x {argv[0]}, or give the program that runs it"
                               ) from None
        except subprocess.TimeoutExpired:
            raise InvalidInput(f"{at}{named} did not finish within {timeout:g} s",
                               hint="it may be waiting for a sign-in; sign in first, or give "
                               "{argv: [...], timeout: SECONDS}") from None
        if proc.returncode != 0:
            said = _last_lines(proc.stderr)
            raise InvalidInput(f"{at}{named} exited {proc.returncode}"
                               + (f": {said}" if said else " and said nothing on stderr"),
                               hint="run it yourself to see why (its output is never shown "
                               "here)")
        try:
            out = proc.stdout.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"{at}{named} printed something that is not UTF-8 text",
                               hint="a secret is read as text; base64-encode binary ones"
                               ) from None
        value = out[:-2] if out.endswith("\r\n") else out[:-1] if out.endswith("\n") else out
        if not value:
            raise InvalidInput(f"{at}{named} printed nothing",
                               hint="it must print the secret on stdout")
        return value


def _parse(arg: Any, request: SecretRequest) -> tuple[list[str], float]:
    timeout: Any = TIMEOUT
    if isinstance(arg, Mapping):
        if not set(arg) <= {"argv", "timeout"} or "argv" not in arg:
            raise _bad(request)
        timeout = arg.get("timeout", TIMEOUT)
        arg = arg["argv"]
    if not isinstance(arg, list) or not arg or \
            not all(isinstance(a, (str, int, float)) and not isinstance(a, bool) for a in arg):
        raise _bad(request)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise _bad(request)
    return [str(a) for a in arg], float(timeout)


def _bad(request: SecretRequest) -> InvalidInput:
    at = f"{request.where}: " if request.where else ""
    return InvalidInput(f"{at}the secret command (for {request.what}) must be a list of "
                        "words, the program first", hint=_USAGE)


def _last_lines(stderr: bytes) -> str:
    text = stderr.decode("utf-8", "replace").strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    shown = " / ".join(lines[-_STDERR_LINES:])
    return shown[:500]
