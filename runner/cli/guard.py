"""How a command ends: runner's errors become an exit code and a message, never a traceback.

Exit codes: 0 ok · 1 a step or assertion failed · 2 the playbook, environment or command line is
invalid · 3 internal error (the run is recorded ``errored``; a log file is written) · 130
interrupted (Ctrl-C or SIGTERM; the run is recorded ``interrupted``, resumable).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int) -> NoReturn:
    try:
        click.echo(message, err=True)
    except OSError:  # stderr is gone too: the exit code is all that is left to say it
        pass
    sys.exit(code)


def crash_log(traceback_text: str) -> str:
    """Write an internal error's traceback to a log file; its path, for the message. With
    ``RUNNER_DEBUG=1`` the traceback goes to stderr as well."""
    import os
    import tempfile

    if os.environ.get("RUNNER_DEBUG", "") not in ("", "0"):
        click.echo(traceback_text.rstrip(), err=True)
    try:
        with tempfile.NamedTemporaryFile("w", prefix="runner-crash-", suffix=".log",
                                         delete=False) as log:
            log.write(traceback_text)
    except OSError as e:  # the temporary folder's disk is full too
        return f"no log file ({e.strerror or e}; RUNNER_DEBUG=1 shows the traceback)"
    return log.name


def _internal(e: Exception) -> str:
    import traceback

    from runner.errors import InternalError

    error = InternalError.of(e)
    where = crash_log(traceback.format_exc())
    if error.message.startswith("internal error"):
        return (f"internal error: this is a bug in runner, not in your playbook.\n"
                f"  the details are in {where}; please attach it to a bug report")
    return f"error: {error.message}\n  hint: {error.hint}\n  the details are in {where}"


def _reader_gone() -> bool:
    """Whether stdout's reader has closed its end (a pipe or socket then polls as an error or
    a hang-up): a ``BrokenPipeError`` that is not about stdout is a bug, this one is not."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll() (Windows), no stdout at all
        return False


def _stdout_closed() -> None:
    """``runner run ... | head``: once the reader has gone, what is still buffered for it
    goes nowhere, so that exiting does not fail on it (the exit code stays the run's)."""
    import os

    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass


def guarded(func: F) -> F:
    """Map runner's errors to exit codes and a message; never show a traceback (unless
    ``RUNNER_DEBUG=1``: then it goes to stderr too)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from runner.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, RunnerError

        try:
            return func(*args, **kwargs)
        except RunnerError as e:
            from runner.printable import printable

            redactor = kwargs.get("_redactor")
            text = e.render()
            _fail(printable(redactor.redact(text) if redactor else text), e.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted", EXIT_INTERRUPTED)
        except BrokenPipeError as e:
            if not _reader_gone():  # a socket of ours, not stdout's reader: a bug
                _fail(_internal(e), EXIT_INTERNAL)
            sys.exit(0)  # `runner history | head -1`: the reader has all it wanted
        except click.exceptions.Exit:
            raise
        except Exception as e:
            _fail(_internal(e), EXIT_INTERNAL)
        finally:
            _stdout_closed()

    return wrapper  # type: ignore[return-value]


def sigterm_as_ctrl_c() -> None:
    """SIGTERM (systemd stopping a unit, a CI job cancelled) stops a run here as Ctrl-C does:
    its ``finally`` steps run, it is recorded ``interrupted`` and can be resumed; exit 130.
    Only the first SIGTERM does: more of them (a supervisor that repeats it) do not cut the
    ``finally`` steps short."""
    import signal
    import threading

    from runner.errors import Terminated

    def handler(_signum: int, _frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated()

    if threading.current_thread() is threading.main_thread():  # where Python runs handlers
        signal.signal(signal.SIGTERM, handler)


def exit_as_run(result: Any) -> NoReturn:
    """Exit as the run ended: 0 passed, 1 failed, 130 interrupted, 3 errored (an internal
    error: a short message here, the traceback in a log file)."""
    from runner.errors import EXIT_INTERNAL, EXIT_INTERRUPTED

    if result.status == "errored":
        where = crash_log(result.traceback) if result.traceback else ""
        at = f" at {result.failed_step}" if result.failed_step else ""
        _fail(f"error: run {result.run_id} errored{at}: {result.error}"
              + (f"\n  hint: {result.hint}" if result.hint else "")
              + (f"\n  the details are in {where}" if where else ""), EXIT_INTERNAL)
    if result.status == "interrupted":
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(0 if result.status == "passed" else 1)
