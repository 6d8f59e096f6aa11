"""A playbook as a git revision has it, for ``runner plan --diff REV``.

The repository holding the playbook is found from the playbook's folder (``git rev-parse
--show-toplevel``), and its whole tree at ``REV`` is unpacked into a temporary folder (``git
archive``), so that the playbook, its includes, the repository's connector files (and their
hooks), and the files a body reads are all as ``REV`` had them, found where they were. The
environment is not taken from ``REV``: both sides are planned in today's, so that the diff shows
what the change to the playbooks does, not what the environments differ in.

A playbook not in a git work tree, ``git`` missing, or a revision git does not know is a
command line that does not add up (exit 2), with what to do. A playbook that ``REV`` does not
have yet is not an error: every request it sends is new (:attr:`Revision.path` is then None).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.errors import InvalidInput, RunnerError

# tarfile's own checks as well where it has them (3.12, and 3.10.12 and 3.11.4 on): no device,
# nothing outside the folder; and no warning that 3.14 changes the default
_FILTER: dict[str, Any] = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}


@dataclass(frozen=True)
class Revision:
    """A git revision as ``runner plan --diff`` reads it."""
    rev: str  # as the user wrote it: HEAD~1, origin/main
    commit: str  # its abbreviated commit id
    folder: Path  # the repository's tree at rev, unpacked
    relative: str  # the playbook's path in the repository
    path: Path | None  # the playbook at rev; None: rev does not have it
    root: Path | None  # the include root at rev, when one was given

    def where(self, text: str) -> str:
        """``text`` (an error, a file name) with the unpacked folder named as ``REV:``."""
        return text.replace(f"{self.folder}/", f"{self.rev}:")


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise InvalidInput("--diff compares with a git revision, and git is not installed "
                           "(or not on PATH)", hint="install git, or plan without --diff") from None


@contextmanager
def at_revision(playbook: str | Path, rev: str, root: str | Path | None = None
                ) -> Iterator[Revision]:
    """The playbook's repository as ``rev`` has it, in a temporary folder removed after."""
    file = Path(playbook).absolute()
    if not file.is_file():
        raise InvalidInput(f"{playbook}: no such playbook file", hint="check the path")
    found = _git(file.parent, "rev-parse", "--show-toplevel")
    if found.returncode != 0:
        raise InvalidInput(f"--diff {rev}: {playbook} is not in a git repository",
                           hint="--diff compares the playbook with the same file at a git "
                           "revision: run it on a playbook inside a git work tree")
    top = Path(found.stdout.decode().strip()).resolve()
    known = _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options",
                 f"{rev}^{{commit}}") if not rev.startswith("-") else None
    if known is None or known.returncode != 0:
        raise InvalidInput(f"--diff {rev}: the repository {top} has no revision {rev!r}",
                           hint="give a commit, branch or tag it has (git log --oneline "
                           "lists them), e.g. --diff HEAD~1 or --diff origin/main")
    commit = known.stdout.decode().strip()
    relative = file.resolve().relative_to(top).as_posix()
    root_rel = _inside(top, root) if root is not None else None
    has_it = _git(top, "cat-file", "-e", f"{commit}:{relative}").returncode == 0
    folder = Path(tempfile.mkdtemp(prefix="runner-plan-"))
    try:
        _unpack(top, commit, rev, folder)
        yield Revision(rev=rev, commit=commit[:7], folder=folder, relative=relative,
                       path=folder / relative if has_it else None,
                       root=folder / root_rel if root_rel is not None else None)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _inside(top: Path, root: str | Path) -> str:
    try:
        return Path(root).resolve().relative_to(top).as_posix()
    except ValueError:
        raise InvalidInput(f"--root {root} is outside the repository {top}",
                           hint="with --diff, the include root is taken at the revision "
                           "too: give a folder of the repository") from None


def _unpack(top: Path, commit: str, rev: str, folder: Path) -> None:
    with subprocess.Popen(["git", "archive", "--format=tar", commit], cwd=top,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        try:
            with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
                for member in tar:
                    if _plain(member):
                        tar.extract(member, folder, set_attrs=False, **_FILTER)
        except (tarfile.TarError, OSError) as e:
            proc.kill()
            raise RunnerError(f"--diff {rev}: the repository's files at {rev} could not be "
                              f"unpacked: {e}") from None
        error = proc.stderr.read().decode(errors="replace").strip()
    if proc.returncode != 0:
        raise InvalidInput(f"--diff {rev}: git archive failed: {error}",
                           hint="check the revision with git show")


def _plain(member: tarfile.TarInfo) -> bool:
    """A file, a folder or a link that stays inside the tree: a plan reads nothing else, and a
    link that leads out of it is left out rather than followed."""
    if not _within(member.name):
        return False
    if member.issym():
        return not member.linkname.startswith("/") and _within(
            os.path.join(os.path.dirname(member.name), member.linkname))
    return member.isfile() or member.isdir()


def _within(name: str) -> bool:
    normal = os.path.normpath(name)
    return not os.path.isabs(normal) and normal != ".." and not normal.startswith("../")
