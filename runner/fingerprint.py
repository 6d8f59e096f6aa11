"""What a run was started from: a content hash of its playbook, of each playbook it includes,
and of each step, kept in the run's record so that a resume, or a worker taking the run up, can
tell that the playbook changed under the run.

The journal is keyed by step position (``steps/2``): a step inserted before the create would
make a resume restore the wrong steps and send the create again. So a changed playbook is not
resumed as it is: :func:`differences` says what changed (which file, which steps were added,
removed, changed or moved), and :func:`runner.fingerprint_remap.key_map` carries the journal
over to the new positions, step by step, by id and content (``runner resume --remap``).

Hashes are of the parsed YAML (canonical JSON), not of the bytes: a comment or a re-indented
line changes nothing a run does, so it does not count as a change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runner.errors import InvalidInput
from runner.fingerprint_remap import key_map, structural
from runner.journal import ResumeState
from runner.model import Playbook, Step

VERSION = 1


def _digest(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _raw(playbook: Playbook, step: Step) -> Any:
    node: Any = playbook.doc.data
    for part in step.path:
        node = node[part]
    return node


def fingerprint(playbook: Playbook) -> dict[str, Any]:
    """``files``: each playbook file's hash; ``steps``: for each step (by its journal key
    without loop iterations), its id, trail, where it is, and two hashes: ``own`` (the step's
    YAML) and ``hash`` (that and, for an include, everything the included playbook holds)."""
    # a loaded playbook never changes, and a batch hands the same one to every row (each run
    # records it, and a resumed row checks it): hashed once per playbook, not per run
    cached: dict[str, Any] | None = playbook.__dict__.get("_fingerprint")
    if cached is None:
        files: dict[str, str] = {}
        steps: dict[str, dict[str, Any]] = {}
        _walk(playbook, "", "", files, steps)
        cached = {"version": VERSION, "files": files, "steps": steps}
        playbook.__dict__["_fingerprint"] = cached  # frozen dataclass: set past __setattr__
    return cached


def _walk(playbook: Playbook, prefix: str, trail: str, files: dict[str, str],
          steps: dict[str, dict[str, Any]]) -> str:
    """Record ``playbook``'s steps under ``prefix``; return the hash of all it holds."""
    parts = [_digest(playbook.doc.data)]
    files[str(Path(playbook.file).resolve())] = parts[0]
    for step in (*playbook.steps, *playbook.finally_steps):
        key = f"{prefix}{step.path[0]}/{step.path[1]}"
        own = _digest(_raw(playbook, step))
        entry = steps[key] = {"id": step.id, "trail": trail + step.id, "own": own,
                              "hash": own, "at": f"{step.location.file}:{step.location.line}"}
        if step.include is not None:  # listed before the steps it includes
            entry["hash"] = _digest([own, _walk(step.include, key + ">", f"{trail}{step.id} > ",
                                                files, steps)])
        parts.append(entry["hash"])
    return _digest(parts)


def same(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    """``new`` is what ``old`` was (a run recorded before fingerprints has none: not checked).
    The file hashes cover every step: lines that moved (a comment added) do not count."""
    return old is None or old.get("files") == new["files"]


def differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What changed from ``old`` to ``new``, one phrase per file or step, for a message."""
    out: list[str] = []
    old_files, new_files = old.get("files") or {}, new["files"]
    for path in sorted(set(old_files) | set(new_files)):
        if path not in new_files:
            out.append(f"{path} is no longer included")
        elif path not in old_files:
            out.append(f"{path} is now included")
        elif old_files[path] != new_files[path]:
            out.append(f"{path} changed")
    before = {s["trail"]: (k, s) for k, s in (old.get("steps") or {}).items()}
    after = {s["trail"]: (k, s) for k, s in new["steps"].items()}
    for trail, (key, s) in after.items():
        if trail not in before:
            out.append(f"step '{trail}' was added ({s['at']})")
        elif before[trail][1]["hash"] != s["hash"]:
            out.append(f"step '{trail}' changed ({s['at']})")
        elif before[trail][0] != key:
            out.append(f"step '{trail}' moved from {before[trail][0]} to {key} ({s['at']})")
    for trail, (key, s) in before.items():
        if trail not in after:
            out.append(f"step '{trail}' was removed (it was {key}, {s['at']})")
    return out


def check(run_id: str, stored: Mapping[str, Any] | None, playbook: Playbook,
          state: ResumeState, *, remap: bool = False, worker: bool = False) -> ResumeState:
    """The journal ``state`` to resume ``run_id`` with, from ``playbook`` as it is now.

    Unchanged (or a run recorded before fingerprints): ``state`` as it is. Changed: refused with
    what changed, unless ``remap`` (then the steps that kept their id and content are carried
    over to their new positions; one that sent a request not safe to repeat must be among them).
    ``worker``: the check of a worker whose checkout may differ from the submitter's.
    """
    now = fingerprint(playbook)
    if stored is None or same(stored, now):
        return state
    changes = "; ".join(differences(stored, now)) or "its content changed"
    if not remap:
        if worker:
            raise InvalidInput(
                f"run {run_id} was not run: this worker's copy of {playbook.file} differs "
                f"from the one the run was recorded with: {changes}",
                hint="every worker must run the same checkout as whoever submitted the run: "
                f"update this worker's, then runner resume {run_id}")
        raise InvalidInput(
            f"run {run_id} was started from another version of {playbook.file}: {changes}",
            hint="undo the change and resume; or resume with --remap, which carries the "
            "finished steps over by id and content (changed steps run again, a call not safe to "
            "repeat is never sent again); or start a new run")
    carried, stuck = state.remapped(key_map(stored, now))
    if stuck:
        steps = stored.get("steps") or {}
        names = ", ".join(f"'{steps.get(structural(k), {}).get('trail', k)}'" for k in stuck)
        raise InvalidInput(
            f"run {run_id} cannot be resumed with --remap: step {names} sent a request not safe "
            f"to repeat, and was changed, moved into another step or removed since ({changes})",
            hint="undo the change to that step and resume, or check on the vendor's side what "
            "the first attempt did and start a new run")
    return carried
