"""What every command shares: the ``runner`` group, error handling, common options.

Exit codes: 0 ok · 1 a step or assertion failed · 2 the playbook, environment or command line is
invalid · 3 internal error (a log file is written) · 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from runner import __version__

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int) -> None:
    click.echo(message, err=True)
    sys.exit(code)


def guarded(func: F) -> F:
    """Map runner's errors to exit codes and a message; never show a traceback."""
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
        except click.exceptions.Exit:
            raise
        except Exception:
            import tempfile
            import traceback

            with tempfile.NamedTemporaryFile("w", prefix="runner-crash-", suffix=".log",
                                             delete=False) as log:
                traceback.print_exc(file=log)
            _fail(f"internal error: this is a bug in runner, not in your playbook.\n"
                  f"  the details are in {log.name}; please attach it to a bug report",
                  EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]


def parse_inputs(pairs: tuple[str, ...]) -> dict[str, str]:
    from runner.errors import InvalidInput

    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"-i {pair!r} is not key=value", hint="write -i hostname=NTB1")
        out[key.strip()] = value
    return out


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="runner")
def main() -> None:
    """Run declarative YAML playbooks against vendor APIs."""


env_option = click.option("--env", "-e", "env", default="sandbox", show_default=True,
                          help="sandbox, a name under environments/, or an environment file")
store_option = click.option("--store", default=None, metavar="PATH|URL",
                            help="run history: a SQLite file or a SQLAlchemy URL "
                            "(default: $RUNNER_STORE or ~/.local/state/runner/runs.db)")
root_option = click.option("--root", type=click.Path(), metavar="DIR",
                           help="the folder include: must stay inside "
                           "(default: the playbook's folder)")
inputs_option = click.option("--input", "-i", "inputs", multiple=True, metavar="KEY=VALUE",
                             help="a playbook input (repeatable)")


def exit_as_run(status: str) -> None:
    from runner.results import INTERRUPTED, PASSED

    if status == INTERRUPTED:
        sys.exit(130)
    sys.exit(0 if status == PASSED else 1)

# -- the scheduling and worker commands ----------------------------------------------------
broker_option = click.option(
    "--broker", envvar="RUNNER_BROKER", metavar="URL",
    help="the Celery broker, e.g. redis://127.0.0.1:6379/0 (default: $RUNNER_BROKER)")
queue_option = click.option("--queue", default="runner", show_default=True,
                            help="the broker queue the runs go through")
stale_option = click.option("--stale-after", default=30.0, show_default=True, metavar="SECONDS",
                            help="a running run silent this long is taken to be dead "
                            "and resumed")
