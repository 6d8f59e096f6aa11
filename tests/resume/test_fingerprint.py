"""Fingerprints of a playbook and its includes, what changed between two, and how journal keys
of an edited playbook are carried over (--remap), on real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import InvalidInput
from runner.fingerprint import check, differences, fingerprint, same
from runner.fingerprint_remap import key_map, structural
from runner.journal import ResumeState
from runner.playbook import load_playbook

TOP = """\
name: top
steps:
  - id: a
    assert: ["1 == 1"]
  - id: sub
    include: sub.yaml
  - id: b
    assert: ["2 == 2"]
finally:
  - id: z
    assert: ["3 == 3"]
"""
SUB = """\
name: sub
steps:
  - id: s1
    assert: ["4 == 4"]
  - id: s2
    assert: ["5 == 5"]
"""


def write(tmp_path: Path, top: str = TOP, sub: str = SUB) -> Path:
    (tmp_path / "sub.yaml").write_text(sub)
    (tmp_path / "top.yaml").write_text(top)
    return tmp_path / "top.yaml"


def fp(path: Path) -> dict:
    return fingerprint(load_playbook(path))


def test_every_step_and_file_is_fingerprinted(tmp_path: Path) -> None:
    got = fp(write(tmp_path))
    assert set(got["files"]) == {str(tmp_path / "top.yaml"), str(tmp_path / "sub.yaml")}
    assert {k: s["trail"] for k, s in got["steps"].items()} == {
        "steps/0": "a", "steps/1": "sub", "steps/1>steps/0": "sub > s1",
        "steps/1>steps/1": "sub > s2", "steps/2": "b", "finally/0": "z"}
    assert got["steps"]["steps/1>steps/1"]["at"] == f"{tmp_path / 'sub.yaml'}:5"
    include = got["steps"]["steps/1"]
    assert include["own"] != include["hash"]  # the include's hash covers what it includes
    assert got["steps"]["steps/0"]["own"] == got["steps"]["steps/0"]["hash"]


def test_comments_and_layout_do_not_count(tmp_path: Path) -> None:
    old = fp(write(tmp_path))
    new = fp(write(tmp_path, "# a comment\n" + TOP.replace('["1 == 1"]', '\n      - "1 == 1"')))
    assert same(old, new) and same(None, new)
    assert differences(old, new) == []


def test_a_change_in_an_included_file_names_the_file_and_the_step(tmp_path: Path) -> None:
    old = fp(write(tmp_path))
    new = fp(write(tmp_path, sub=SUB.replace("5 == 5", "6 == 6")))
    assert not same(old, new)
    sub = tmp_path / "sub.yaml"
    assert differences(old, new) == [f"{sub} changed",
                                     f"step 'sub' changed ({tmp_path}/top.yaml:5)",
                                     f"step 'sub > s2' changed ({sub}:5)"]


def test_added_removed_and_moved_steps(tmp_path: Path) -> None:
    old = fp(write(tmp_path))
    edited = TOP.replace("  - id: b\n    assert: [\"2 == 2\"]\n", "").replace(
        "  - id: a\n", "  - id: new\n    assert: [\"7 == 7\"]\n  - id: a\n")
    new = fp(write(tmp_path, edited))
    top = tmp_path / "top.yaml"
    assert differences(old, new) == [
        f"{top} changed", f"step 'new' was added ({top}:3)",
        f"step 'a' moved from steps/0 to steps/1 ({top}:5)",
        f"step 'sub' moved from steps/1 to steps/2 ({top}:7)",
        f"step 'sub > s1' moved from steps/1>steps/0 to steps/2>steps/0 ({tmp_path}/sub.yaml:3)",
        f"step 'sub > s2' moved from steps/1>steps/1 to steps/2>steps/1 ({tmp_path}/sub.yaml:5)",
        f"step 'b' was removed (it was steps/2, {top}:7)"]
    new_files = dict(new, files={**new["files"], "/elsewhere.yaml": "x"})
    del new_files["files"][str(tmp_path / "sub.yaml")]
    lines = differences(old, new_files)
    assert "/elsewhere.yaml is now included" in lines
    assert f"{tmp_path / 'sub.yaml'} is no longer included" in lines


def test_key_map_follows_ids_and_content(tmp_path: Path) -> None:
    old = fp(write(tmp_path))
    inserted = TOP.replace("  - id: a\n", "  - id: new\n    assert: [\"7 == 7\"]\n  - id: a\n")
    new = fp(write(tmp_path, inserted, SUB.replace("5 == 5", "6 == 6")))
    to = key_map(old, new)
    assert to("steps/0") == "steps/1"  # a moved, unchanged
    assert to("steps/2") == "steps/3"  # b
    assert to("finally/0") == "finally/0"
    assert to("steps/1") is None  # the include changed (what it includes did)
    assert to("steps/1>steps/0") == "steps/2>steps/0"  # its unchanged step is carried
    assert to("steps/1>steps/1") is None  # its changed one is not
    assert to("steps/0[3]") == "steps/1[3]"  # a loop iteration keeps its index
    assert to("steps/9") is None and to("nonsense") is None


def test_key_map_needs_the_parent_include_unchanged_in_itself(tmp_path: Path) -> None:
    old = fp(write(tmp_path))
    new = fp(write(tmp_path, TOP.replace("include: sub.yaml", "include: sub.yaml\n    when: true")))
    to = key_map(old, new)
    assert to("steps/1>steps/0") is None  # the include itself changed: nothing under it
    assert to("steps/0") == "steps/0"


def test_structural_drops_loop_iterations() -> None:
    assert structural("steps/2[1]>steps/0[12]") == "steps/2>steps/0"
    assert structural("finally/0") == "finally/0"


def state(**kw: object) -> ResumeState:
    s = ResumeState()
    for k, v in kw.items():
        setattr(s, k, v)
    return s


def test_check_passes_unchanged_and_refuses_changed(tmp_path: Path) -> None:
    path = write(tmp_path)
    old = fp(path)
    journal = state(finished={"steps/0": {"status": "passed"}})
    assert check("r", old, load_playbook(path), journal) is journal
    assert check("r", None, load_playbook(path), journal) is journal
    write(tmp_path, TOP.replace("1 == 1", "8 == 8"))
    with pytest.raises(InvalidInput) as caught:
        check("r", old, load_playbook(path), journal)
    assert caught.value.message.startswith(f"run r was started from another version of {path}: ")
    assert "--remap" in (caught.value.hint or "")
    with pytest.raises(InvalidInput) as caught:
        check("r", old, load_playbook(path), journal, worker=True)
    assert f"run r was not run: this worker's copy of {path} differs" in caught.value.message
    assert "runner resume r" in (caught.value.hint or "")


def test_remap_carries_what_maps_and_refuses_an_unsafe_step_that_does_not(tmp_path: Path) -> None:
    path = write(tmp_path)
    old = fp(path)
    write(tmp_path, TOP.replace("  - id: a\n",
                                "  - id: new\n    assert: [\"7 == 7\"]\n  - id: a\n"))
    journal = state(finished={"steps/0": {"status": "passed"}, "steps/2": {"status": "passed"}},
                    unsafe_outcome={"steps/1>steps/0": "unknown"},
                    answers={"steps/1>steps/0": {"status": 504}},
                    unsafe_sent={"steps/1>steps/0", "steps/2"})
    carried = check("r", old, load_playbook(path), journal, remap=True)
    assert carried.finished == {"steps/1": {"status": "passed"}, "steps/3": {"status": "passed"}}
    assert carried.unsafe_outcome == {"steps/2>steps/0": "unknown"}
    assert carried.answers == {"steps/2>steps/0": {"status": 504}}
    assert carried.unsafe_sent == {"steps/2>steps/0", "steps/3"}

    write(tmp_path, TOP.replace("2 == 2", "9 == 9"))  # b, which sent one, changed
    with pytest.raises(InvalidInput) as caught:
        check("r", old, load_playbook(path), journal, remap=True)
    assert "cannot be resumed with --remap: step 'b' sent a request not safe to repeat" \
        in caught.value.message
    dropped = state(finished={"steps/2": {"status": "passed"}})  # b sent nothing unsafe
    assert check("r", old, load_playbook(path), dropped, remap=True).finished == {}
