"""A YAML file's parse kept between processes, so that ``runner run`` of a playbook that has
not changed neither imports PyYAML nor parses it again (PyYAML's import is ~10 ms of every
start, its modules compiling dozens of regexes).

One entry per file (the name a hash of its absolute path), in ``parsed/`` beside the default
run store (the folder of ``$RUNNER_STORE`` when it is a path, else
``$XDG_STATE_HOME/runner``, ``~/.local/state/runner``): the file's data and the line and
column of every node, with a digest of the text it was parsed from and the stamp of the code
that parsed it (runner's version, the loader's file, Python's version). An entry is used only
when both match the file read now; anything else (no entry, another text, an entry that does
not read back) parses the text as before and writes the entry again, readable by its owner
only (the folder too). A document that failed
to load is never kept (its error is raised on every load), nor one holding values marshal
does not keep (a YAML date), nor one of a file over ``MAX_BYTES``. A folder that cannot be
written leaves the loader as it was: parsing every time.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import threading
from typing import Any

from runner import __version__

MAX_BYTES = 256 * 1024
FORMAT = 1


def _folder() -> str:
    store = os.environ.get("RUNNER_STORE")
    if store and "://" not in store:
        base = os.path.dirname(os.path.abspath(os.path.expanduser(store)))
    else:
        state = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
        base = os.path.join(state, "runner")
    return os.path.join(base, "parsed")


def _entry(file: str) -> str:
    name = hashlib.sha1(os.path.abspath(file).encode("utf-8", "surrogateescape")).hexdigest()
    return os.path.join(_folder(), name)


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def stamp(loader_file: str) -> str:
    """What an entry must have been written by: this format, runner's version, the loader's
    file as it is now, this Python."""
    try:
        mtime = os.stat(loader_file).st_mtime_ns
    except OSError:
        mtime = 0
    return f"{FORMAT}|{__version__}|{mtime}|{sys.version}"


def get(file: str, text: str, code: str) -> tuple[Any, list[tuple[Any, int, int]]] | None:
    """The data and the (path, line, column) of each node of ``file`` as parsed from
    ``text`` by ``code`` (a :func:`stamp`), if kept; else None."""
    if len(text) > MAX_BYTES:
        return None
    try:
        with open(_entry(file), "rb") as f:
            kept = marshal.loads(f.read())
        written_by, digest, data, locations = kept
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if written_by != code or digest != _digest(text):
        return None
    return data, locations


def put(file: str, text: str, code: str, data: Any,
        locations: list[tuple[Any, int, int]]) -> None:
    """Keep the parse of ``text`` for ``file``; nothing when it cannot be kept."""
    if len(text) > MAX_BYTES:
        return
    try:
        blob = marshal.dumps((code, _digest(text), data, locations))
    except ValueError:  # a value marshal does not keep (a date): parsed every time
        return
    entry = _entry(file)
    part = f"{entry}.{os.getpid()}.{threading.get_ident()}.part"
    try:
        os.makedirs(os.path.dirname(entry), mode=0o700, exist_ok=True)
        # readable by its owner only: the file it copies may be (an environment file)
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.replace(part, entry)  # whole or not at all, for a reader at the same moment
    except OSError:
        try:
            os.unlink(part)
        except OSError:
            pass


def forget(file: str) -> None:
    """Drop ``file``'s entry, if any: its text holds what must not be copied (a literal that a
    connector, which the keep rule could not know of, declares secret)."""
    try:
        os.unlink(_entry(file))
    except OSError:
        pass
