"""Each file under tests/bad_envs is rejected with the expected message and line, and no value
written in it is echoed (an environment file is where a secret would be misplaced)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import ROOT

from runner.environment import load_environment
from runner.errors import PlaybookError

BAD = sorted((ROOT / "tests" / "bad_envs").glob("*.yaml"))


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_rejected_without_echoing_values(path: Path) -> None:
    m = re.match(r"# expect: (\d+): (.+)", path.read_text().splitlines()[0])
    assert m
    line, text = int(m.group(1)), m.group(2).strip()
    with pytest.raises(PlaybookError) as info:
        load_environment(str(path))
    rendered = info.value.render()
    assert text in rendered
    assert info.value.location is not None and info.value.location.line == line, rendered
    assert "hunter2" not in rendered


def test_the_corpus_of_bad_inputs_is_big_enough() -> None:
    playbooks = list((ROOT / "tests" / "bad_playbooks").glob("*.yaml"))
    assert len(playbooks) + len(BAD) >= 40
