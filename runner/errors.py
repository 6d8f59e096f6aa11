"""Every error runner raises, under one root, with the exit code the CLI maps it to.

    RunnerError                       exit 3 unless a subclass says otherwise
     ├── InvalidInput                 exit 2: the playbook, environment or command line is wrong
     │    ├── PlaybookError           ... at a known file:line:col, with a path of named items
     │    │    └── NotAPlaybook       ... in a file that is not a playbook (none of its lines shown)
     │    └── MissingExtra            exit 4: a feature whose extra is not installed
     │                                (runner.extras: which one to install)
     ├── StepFailed                   exit 1: a step or an assertion failed at run time
     │    ├── AssertionFailed         an `assert` expression was false
     │    ├── VendorError             the vendor answered with an error (HTTP or in the body)
     │    ├── TransportError          no usable answer (connection, timeout, broken body)
     │    │    └── CircuitOpen        not sent: the connector's breaker is open (limits:)
     │    └── Unsendable              the request cannot be sent as it is (a header's value)
     ├── Interrupted                  exit 130: Ctrl-C, SIGTERM
     └── InternalError                exit 3: an unexpected exception (a bug, a full disk) ended
                                      a run, which is recorded ``errored``

Vendor and transport exceptions (requests, lxml, json) are translated at one boundary, the
HTTP layer in ``runner.connectors.http``; the engine attaches the step.

Beside the tree, :class:`StoreError`: the run store's database failed (a full disk, a lock
held too long, PostgreSQL gone). It is not a ``RunnerError``: nobody's input caused it, and
the engine records it as ``errored`` through :meth:`InternalError.of`. Its kinds, and the
translation of each driver's exceptions into them, are :mod:`runner.store_db`.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_NOT_INSTALLED = 4  # a feature the command needs is an extra that is not installed


@dataclass(frozen=True)
class Location:
    """Where a node of a YAML file starts (1-based line and column)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class RunnerError(Exception):
    exit_code = EXIT_INTERNAL
    # the file:line of the step it happened in, when a run was in one (the step loop sets it;
    # the run's error, in history and reports, starts with it)
    where = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        out = f"error: {self.message}"
        if self.hint:
            out += f"\n  hint: {self.hint}"
        return out

    def with_hint(self) -> str:
        """The message and, on a line of its own, what to do: for a line about one run among
        many (``runner resume --stale``, ``--batch``), where the message alone says only what
        is wrong."""
        return self.message + (f"\n  hint: {self.hint}" if self.hint else "")


class InvalidInput(RunnerError):
    exit_code = EXIT_INVALID


class PlaybookError(InvalidInput):
    """An error at a place in a file: shown with file:line:col, the named path and the source."""

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        path: str = "",
        hint: str | None = None,
        show_source: bool = True,
    ) -> None:
        super().__init__(message, hint=hint)
        self.location = location
        self.path = path
        self.show_source = show_source  # off for files that may hold secrets

    def render(self) -> str:
        where = f"{self.location}: " if self.location else ""
        named = f"{self.path}: " if self.path else ""
        out = [f"error: {where}{named}{self.message}"]
        if self.location and self.show_source:
            out += source_excerpt(self.location)
        if self.hint:
            out.append(f"  hint: {self.hint}")
        return "\n".join(out)


class NotAPlaybook(PlaybookError):
    """A file loaded as a playbook is not one (no top-level ``steps:``): it may be anything,
    a secrets file included on purpose among them, so none of its lines is ever shown."""

    def __init__(self, message: str, *, location: Location | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message, location=location, hint=hint, show_source=False)


class StepFailed(RunnerError):
    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, hint: str | None = None, step: str = "") -> None:
        super().__init__(message, hint=hint)
        self.step = step

    def render(self) -> str:
        prefix = f"step '{self.step}' failed: " if self.step else ""
        out = f"error: {prefix}{self.message}"
        if self.hint:
            out += f"\n  hint: {self.hint}"
        return out


class AssertionFailed(StepFailed):
    pass


class VendorError(StepFailed):
    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.status = status


class TransportError(StepFailed):
    def __init__(self, message: str, *, sent: bool | None = None, hint: str | None = None,
                 final: bool = False):
        super().__init__(message, hint=hint)
        self.sent = sent  # True/False when known whether the request reached the server
        self.final = final  # another try would fail the same way (a redirect loop): no retry
        self.attempts = 1  # tries made before giving up (the retry policy's)


class CircuitOpen(TransportError):
    """Not sent: the connector's circuit breaker is open after calls in a row that got no
    answer or a 5xx (``limits: {breaker: ...}``). Final (a retry now would be refused the
    same way) and ``sent`` False: the call was not applied, a resume may send it."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, sent=False, hint=hint, final=True)


class Unsendable(StepFailed):
    """The request cannot be put on the wire as it is (a header value outside Latin-1, a line
    break in a header): nothing was sent, and sending it again would fail the same way."""

    sent = False


class Interrupted(RunnerError):
    exit_code = EXIT_INTERRUPTED
    step = ""  # the step the run was in, when one was


class StoreError(Exception):
    """The run store's database failed; ``str()`` is the driver's own message, ``kind`` the
    name of the driver's exception. Here, at the bottom, so that the engine, the jobs and
    the CLI's guard recognise it without importing a database driver."""

    def __init__(self, message: str, *, kind: str = "") -> None:
        super().__init__(message)
        self.kind = kind or type(self).__name__


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised as Ctrl-C is (``runner.cli``), so a run stops the same way: its
    ``finally`` steps run and it is recorded ``interrupted``, resumable."""


class InternalError(RunnerError):
    """What the engine records when an exception it did not expect stops a run."""

    def __init__(self, message: str, *, hint: str | None = None, step: str = "") -> None:
        super().__init__(message, hint=hint)
        self.step = step

    @classmethod
    def of(cls, e: BaseException, *, step: str = "") -> InternalError:
        """The error to record for ``e``: a run store that failed (a full disk, the database
        gone) says so and how to go on; anything else is a bug in runner."""
        text = (str(e).strip().splitlines() or [""])[0][:200]
        if isinstance(e, StoreError):
            return cls(f"the run store failed: {text}", step=step,
                       hint="a run stops at once, so that nothing it does goes unrecorded; "
                       "free space on the store's disk (or bring its database back); a run it "
                       "stopped continues with runner resume RUN_ID")
        if isinstance(e, OSError) and e.errno == errno.ENOSPC:  # a report file, a crash log
            return cls(f"the disk is full: {text}", step=step,
                       hint="free space and run the command again (a run it stopped "
                       "continues with runner resume RUN_ID)")
        name = type(e).__name__
        return cls(f"internal error: {name}: {text}" if text else f"internal error: {name}",
                   step=step, hint="this is a bug in runner, not in your playbook; please "
                   "report it with the crash log")


def with_article(word: str) -> str:
    """``an integer``, ``a string``: a word with its indefinite article, for messages."""
    return f"{'an' if word[:1].lower() in tuple('aeiou') else 'a'} {word}"


def source_excerpt(loc: Location, context: int = 1) -> list[str]:
    """The lines around ``loc`` with a caret under its column (runn's pickStepYAML).

    Only for files known to be what they were loaded as (a playbook, a connector file): the
    callers turn ``show_source`` off for anything else, which may hold secrets.
    """
    try:
        lines = Path(loc.file).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    first = max(1, loc.line - context)
    last = min(len(lines), loc.line)
    width = len(str(last))
    out = []
    for n in range(first, last + 1):
        out.append(f"  {n:>{width}} | {lines[n - 1][:200]}")
    if 1 <= loc.line <= len(lines):
        out.append(f"  {'':>{width}} | {' ' * (loc.col - 1)}^")
    return out
