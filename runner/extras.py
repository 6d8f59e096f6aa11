"""The optional parts of runner, each behind an extra of pyproject.toml, and the one check a
feature makes before it imports one: :func:`need`.

The core install (``pip install runner``) runs, validates and plans playbooks against the five
vendors, records runs in SQLite and serves the sandbox. What only some users need is an extra
(docs/install.md): its packages are imported only inside the functions that use them, and such
a function calls :func:`need` first, so that a missing package is a :class:`MissingExtra` (exit
4, which extra to install) and never an ``ImportError`` traceback. :data:`EXTRAS` is the one
table of which importable modules each extra gives; the requirements themselves (names,
versions) are pyproject.toml's, read from the installed metadata for the hint.
"""

from __future__ import annotations

from runner.errors import EXIT_NOT_INSTALLED, InvalidInput

# extra -> the top-level modules it makes importable (what :func:`need` looks for)
EXTRAS: dict[str, tuple[str, ...]] = {
    # runs on workers through a Celery broker (Redis), a PostgreSQL (any SQLAlchemy) store
    "scale": ("celery", "redis", "sqlalchemy", "psycopg"),
    "ui": ("starlette", "uvicorn"),  # runner ui
    "notify": ("apprise",),  # notify: targets
    "lsp": ("pygls", "lsprotocol"),  # runner lsp
    # --trace, RUNNER_TRACES: the SDK and its OTLP/HTTP exporter (opentelemetry is a namespace)
    "traces": ("opentelemetry.sdk", "opentelemetry.exporter.otlp.proto.http"),
}


class MissingExtra(InvalidInput):
    """A feature was asked for whose extra is not installed. An :class:`InvalidInput` for the
    code that handles those (a batch row, a worker's job: recorded, the others go on), with an
    exit code of its own, so that a script can tell "install more" from "fix the playbook"."""

    exit_code = EXIT_NOT_INSTALLED


def missing(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported here (found without importing them)."""
    from importlib.util import find_spec

    out = []
    for name in EXTRAS[extra]:
        try:
            found = find_spec(name) is not None
        except (ImportError, ValueError):  # a broken package counts as absent
            found = False
        if not found:
            out.append(name)
    return out


def absent(extra: str, what: str, error: ImportError) -> MissingExtra:
    """The error for an extra that :func:`need` found but that fails to import (a broken or
    half-installed package): the same message and exit code, naming what failed."""
    return MissingExtra(f"{what} needs the {extra} extra, which does not import "
                        f"({error.name or error})", hint=install_hint(extra))


def need(extra: str, what: str) -> None:
    """Raise :class:`MissingExtra` unless every module of ``extra`` is importable; ``what``
    names the feature in the message (``runner worker``, ``--broker``, ``a PostgreSQL store``).
    """
    absent = missing(extra)
    if absent:
        raise MissingExtra(f"{what} needs the {extra} extra, which is not installed "
                           f"({', '.join(absent)} missing)", hint=install_hint(extra))


def requirements(extra: str) -> list[str]:
    """The requirements pyproject.toml gives ``extra``, as the installed metadata has them."""
    from importlib.metadata import PackageNotFoundError, requires

    try:
        lines = requires("runner") or []
    except PackageNotFoundError:
        return []
    marker = f'extra == "{extra}"'
    return [line.split(";")[0].strip() for line in lines if marker in line.replace("'", '"')]


def install_hint(extra: str) -> str:
    """How to add ``extra``: with pip into runner's environment, or with pipx."""
    hint = f"pip install 'runner[{extra}]' into runner's environment"
    reqs = requirements(extra)
    if reqs:
        hint += f" (with pipx: pipx inject runner {' '.join(repr(r) for r in reqs)})"
    return hint
