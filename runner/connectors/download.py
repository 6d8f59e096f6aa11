"""``save-to:``: an answer's body streamed to a file rather than kept in memory.

The bytes go to a temporary file beside the target (same folder, so the rename cannot cross
file systems) and the temporary file is renamed over the target only once the whole body has
arrived: a transfer that breaks, or runs past ``max_response_bytes``, leaves no half file and
leaves an older file of that name as it was. The path is relative to the current directory, as
``curl -o`` and Hurl's ``--output`` read theirs; missing folders are made. The body is decoded
as its Content-Encoding says (a gzip transfer is saved unzipped), but a file that is itself
gzipped (``report.csv.gz`` with no Content-Encoding) is saved as it came.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

from runner.errors import TransportError

CHUNK = 64 * 1024


def target_path(given: str) -> Path:
    """Where ``save-to: given`` writes, made absolute against the current directory."""
    return Path(given).expanduser().absolute()


def save_body(r: Any, given: str, max_bytes: int, declared: int | None) -> tuple[str, int]:
    """Stream the urllib3 response ``r`` to ``given``; the absolute path and bytes written.
    Raises TransportError (the file is not written) for an answer over ``max_bytes`` or cut
    short of its Content-Length, and for a file that cannot be written."""
    target = target_path(given)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    except OSError as e:
        raise _unwritable(given, e) from None
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in r.stream(CHUNK, decode_content=True):
                size += len(chunk)
                if size > max_bytes:
                    raise TransportError(f"the answer is over the limit of {max_bytes:,} "
                                         f"bytes; nothing was saved to {given}", sent=True,
                                         final=True, hint="raise the connector's "
                                         "max_response_bytes setting if the file is expected")
                out.write(chunk)
        if declared is not None and "content-encoding" not in r.headers and size < declared:
            raise TransportError(f"the answer was cut short ({size:,} of {declared:,} bytes); "
                                 f"nothing was saved to {given}", sent=True)
        os.replace(tmp, target)
    except OSError as e:
        _remove(tmp)
        raise _unwritable(given, e) from None
    except BaseException:
        _remove(tmp)
        raise
    return str(target), size


def _remove(tmp: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def _unwritable(given: str, e: OSError) -> TransportError:
    return TransportError(f"cannot save the answer to {given}: {e.strerror or e}", sent=True,
                          final=True, hint="save-to: is relative to the current directory; "
                          "check the folder exists or can be made, and can be written")
