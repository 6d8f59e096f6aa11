"""``runner lsp`` over stdio, as an editor talks to it: initialize, didOpen / didChange, the
diagnostics it publishes, completion, hover and definition (tests/lsp/session.py)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lsp.session import RUNNER, Editor, Session, t  # t: lsprotocol's types, if installed

BADGE = """\
name: badge
inputs:
  logon: {type: string, description: Windows logon name}
  domain: {type: string, default: CORP}
connectors:
  ndd: {use: nddprint}
steps:
  - id: codes
    call: ndd.card_codes
    with:
      LogonName: "{{ inputs.logon }}"
      DomainName: "{{ inputs.domain }}"
    extract:
      first: $.cardCodes[0]
  - id: part
    include: part.yaml
    with:
      code: "{{ first }}"
"""
PART = """\
name: part
inputs:
  code: {type: string}
steps:
  - assert: "inputs.code != ''"
"""


@pytest.fixture(scope="module")
def lsp() -> Iterator[Session]:
    """One ``runner lsp`` for the module (started, initialized, shut down at the end)."""
    session = Session()
    try:
        yield session
    finally:
        session.close()


def _files(tmp_path: Path, text: str = BADGE) -> Path:
    (tmp_path / "part.yaml").write_text(PART, encoding="utf-8")
    path = tmp_path / "badge.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _validate(path: Path) -> str:
    done = subprocess.run([RUNNER, "validate", str(path)], capture_output=True, text=True)
    return done.stdout + done.stderr


def test_a_good_playbook_with_an_alias_has_no_diagnostics(lsp: Session, tmp_path: Path) -> None:
    path = _files(tmp_path)
    assert _validate(path).startswith("ok:")

    async def scenario(ed: Editor) -> None:
        uri = await ed.open(path)
        assert await ed.diagnostics(uri) == []

    lsp(scenario)


def test_a_misspelled_key_is_validates_message_once_at_its_line(
        lsp: Session, tmp_path: Path) -> None:
    path = _files(tmp_path)
    bad = BADGE.replace("    extract:", "    extarct:")
    path.write_text(bad, encoding="utf-8")
    said = _validate(path)  # the same words on the command line
    assert "unknown key 'extarct'" in said and "did you mean 'extract'?" in said

    async def scenario(ed: Editor) -> None:
        uri = await ed.open(path)
        (d,) = await ed.diagnostics(uri)
        assert d.range.start == t.Position(12, 4)
        assert d.range.end == t.Position(12, 11)  # the key, not its colon
        assert d.message == ("step 'codes': unknown key 'extarct'\n"
                             "hint: did you mean 'extract'?")
        assert d.severity == t.DiagnosticSeverity.Error

    lsp(scenario)


def test_every_schema_error_is_one_diagnostic_in_the_files_order(
        lsp: Session, tmp_path: Path) -> None:
    bad = BADGE.replace("    extract:", "    extarct:").replace(
        "  - id: part\n", "  - id: part\n    nmae: the part\n")
    path = _files(tmp_path, bad)
    first = _validate(path)  # validate says the first; the editor shows both, worded alike
    assert "unknown key 'extarct'" in first and "nmae" not in first

    async def scenario(ed: Editor) -> None:
        uri = await ed.open(path)
        one, two = await ed.diagnostics(uri)
        assert (one.range.start, one.message) == (
            t.Position(12, 4), "step 'codes': unknown key 'extarct'\nhint: did you mean 'extract'?")
        assert (two.range.start, two.range.end) == (t.Position(15, 4), t.Position(15, 8))
        assert two.message == "step 'part': unknown key 'nmae'\nhint: did you mean 'name'?"

    lsp(scenario)


def test_the_unsaved_buffer_is_checked_not_the_file(lsp: Session, tmp_path: Path) -> None:
    path = _files(tmp_path)

    async def scenario(ed: Editor) -> None:
        uri = await ed.open(path)
        assert await ed.diagnostics(uri) == []
        # typed, not saved: an alias that is not declared, and then fixed again
        await ed.change(uri, BADGE.replace("call: ndd.card_codes", "call: nd.card_codes"))
        (d,) = await ed.diagnostics(uri, after=1)
        assert d.range.start.line == 8
        assert "connector 'nd' is not declared" in d.message
        assert "did you mean 'ndd'?" in d.message
        # an operation the alias's connector does not have: validate's did-you-mean
        await ed.change(uri, BADGE.replace("call: ndd.card_codes", "call: ndd.card_code"))
        (d,) = await ed.diagnostics(uri, after=2)
        assert (d.range.start, d.range.end) == (t.Position(8, 10), t.Position(8, 23))
        assert d.message.startswith("step 'codes' > call: unknown operation 'ndd.card_code'\n"
                                    "hint: did you mean 'card_codes'?")
        await ed.change(uri, BADGE)
        assert await ed.diagnostics(uri, after=3) == []

    lsp(scenario)


def test_a_problem_in_an_included_playbook_is_shown_there_and_on_the_include(
        lsp: Session, tmp_path: Path) -> None:
    path = _files(tmp_path)
    (tmp_path / "part.yaml").write_text(PART.replace("inputs.code != ''", "cod != ''"),
                                        encoding="utf-8")

    async def scenario(ed: Editor) -> None:
        uri = await ed.open(path)
        (here,) = await ed.diagnostics(uri)
        assert here.range.start.line == 15  # include: part.yaml
        assert "undefined variable 'cod'" in here.message and "part.yaml:5:" in here.message
        (there,) = await ed.diagnostics((tmp_path / "part.yaml").resolve().as_uri())
        assert there.range.start.line == 4

    lsp(scenario)


def test_completion_of_a_call_offers_the_aliases_operations(lsp: Session, tmp_path: Path) -> None:
    text = BADGE.replace("    call: ndd.card_codes", "    call: ")
    path = _files(tmp_path, text)

    async def scenario(ed: Editor) -> None:
        uri = await ed.open(path)
        items = await ed.completion(uri, 8, 10)
        labels = [i.label for i in items]
        assert {"ndd.card_codes", "ndd.add_card_code", "ndd.pin_codes"} <= set(labels)
        assert "nddprint.card_codes" not in labels  # the connector's name is not an alias here
        assert len(labels) == len(set(labels))
        card = items[labels.index("ndd.card_codes")]
        assert isinstance(card.text_edit, t.TextEdit)
        assert card.text_edit.new_text == "ndd.card_codes"
        assert card.text_edit.range == t.Range(t.Position(8, 10), t.Position(8, 10))

    lsp(scenario)


def test_completion_under_with_offers_the_operations_parameters_once(
        lsp: Session, tmp_path: Path) -> None:
    text = BADGE.replace("    call: ndd.card_codes", "    call: ndd.add_card_code").replace(
        '      DomainName: "{{ inputs.domain }}"\n', "      \n")
    path = _files(tmp_path, text)

    async def scenario(ed: Editor) -> None:
        uri = await ed.open(path)
        labels = [i.label for i in await ed.completion(uri, 11, 6)]
        # LogonName is written already; the required ones come first
        assert labels == ["CardCode", "DomainName", "ReplaceUniqueCardCode"]
        items = await ed.completion(uri, 11, 6)
        assert [i.sort_text for i in items][:2] == ["0CardCode", "0DomainName"]

    lsp(scenario)


def test_step_keys_are_offered_once_each(lsp: Session, tmp_path: Path) -> None:
    text = BADGE.replace("    extract:\n      first: $.cardCodes[0]\n", "    \n")
    path = _files(tmp_path, text)

    async def scenario(ed: Editor) -> None:
        uri = await ed.open(path)
        labels = [i.label for i in await ed.completion(uri, 12, 4)]
        assert len(labels) == len(set(labels))
        assert "extract" in labels and "assert" in labels
        assert "with" not in labels and "call" not in labels  # written already
        assert "sleep" not in labels  # a call step is not a sleep

    lsp(scenario)


def test_completion_inside_braces_offers_inputs_and_extracted_names(
        lsp: Session, tmp_path: Path) -> None:
    text = BADGE.replace('      code: "{{ first }}"', '      code: "{{ ')
    path = _files(tmp_path, text)

    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "prod.yaml").write_text(
        "secrets:\n  badge_pin: {secret: BADGE_PIN}\n", encoding="utf-8")

    async def scenario(ed: Editor) -> None:
        uri = await ed.open(path)
        labels = [i.label for i in await ed.completion(uri, 17, 16)]
        assert {"inputs.logon", "inputs.domain", "first", "steps.codes"} <= set(labels)
        assert "secrets.badge_pin" in labels  # the environment files' names, never a value
        typed = BADGE.replace('      code: "{{ first }}"', '      code: "{{ inputs.lo')
        await ed.change(uri, typed)
        items = await ed.completion(uri, 17, 25)
        assert [i.label for i in items] == ["inputs.logon"]
        edit = items[0].text_edit
        assert isinstance(edit, t.TextEdit)
        assert edit.range.start == t.Position(17, 16)  # the dotted word replaced whole

    lsp(scenario)


def test_a_loop_variable_is_offered_inside_its_own_step_only(
        lsp: Session, tmp_path: Path) -> None:
    text = BADGE + ('  - id: each\n    loop: "{{ inputs.logon }}"\n    loop_var: who\n'
                    '    assert: "{{ w }}"\n  - assert: "{{ w }}"\n')
    path = _files(tmp_path, text)

    async def scenario(ed: Editor) -> None:
        uri = await ed.open(path)
        inside = [i.label for i in await ed.completion(uri, 21, 17)]
        assert inside == ["who"]
        after = [i.label for i in await ed.completion(uri, 22, 17)]
        assert after == []  # nothing named w... outside the loop

    lsp(scenario)


def test_include_completes_the_playbooks_beside_it(lsp: Session, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "other.yaml").write_text(PART, encoding="utf-8")
    text = BADGE.replace("    include: part.yaml", "    include: ")
    path = _files(tmp_path, text)

    async def scenario(ed: Editor) -> None:
        uri = await ed.open(path)
        labels = [i.label for i in await ed.completion(uri, 15, 13)]
        assert labels == ["part.yaml", "sub/other.yaml"]  # not badge.yaml itself

    lsp(scenario)


def test_hover_on_a_call_through_an_alias_and_on_a_parameter(lsp: Session, tmp_path: Path) -> None:
    path = _files(tmp_path)

    async def scenario(ed: Editor) -> None:
        uri = await ed.open(path)
        said = await ed.hover(uri, 8, 14)
        assert "**ndd.card_codes** (alias of `nddprint`)" in said
        assert "The user's card codes" in said  # the summary
        assert "identificadores físicos" in said  # the vendor doc's own words
        assert "`POST /api/v1/users/card-codes`" in said
        assert "`LogonName` string, required: Windows logon name" in said
        param = await ed.hover(uri, 10, 8)
        assert param.startswith("**LogonName** (string, required)")
        named = await ed.hover(uri, 10, 25)  # inputs.logon in the template
        assert named == "**inputs.logon** (string)\n\nWindows logon name"

    lsp(scenario)


def test_definition_of_an_include_is_its_file(lsp: Session, tmp_path: Path) -> None:
    path = _files(tmp_path)

    async def scenario(ed: Editor) -> None:
        uri = await ed.open(path)
        found = await ed.definition(uri, 15, 15)
        assert isinstance(found, t.Location)
        assert found.uri == (tmp_path / "part.yaml").resolve().as_uri()
        op = await ed.definition(uri, 8, 14)
        assert isinstance(op, t.Location) and op.uri.endswith("/nddprint/connector.yaml")
        source = Path(op.uri.removeprefix("file://")).read_text(encoding="utf-8")
        assert source.splitlines()[op.range.start.line].strip() == "card_codes:"

    lsp(scenario)


def test_a_file_that_is_not_a_playbook_gets_no_diagnostics(lsp: Session, tmp_path: Path) -> None:
    path = tmp_path / "env.yaml"
    path.write_text("connectors:\n  ndd: {base_url: http://x}\n", encoding="utf-8")

    async def scenario(ed: Editor) -> None:
        uri = await ed.open(path)
        assert await ed.diagnostics(uri) == []

    lsp(scenario)


def test_runner_lsp_without_pygls_says_what_to_install(tmp_path: Path) -> None:
    # a pygls that cannot be imported, first on the path
    (tmp_path / "pygls").mkdir()
    (tmp_path / "pygls" / "__init__.py").write_text("raise ImportError('no', name='pygls')\n")
    done = subprocess.run([sys.executable, "-m", "runner.cli", "lsp"], capture_output=True,
                          text=True, env={"PYTHONPATH": str(tmp_path)}, stdin=subprocess.DEVNULL)
    assert done.returncode == 4, done.stderr  # an extra to install (docs/cli.md)
    assert "runner lsp needs the lsp extra" in done.stderr and "pygls" in done.stderr
    assert "runner[lsp]" in done.stderr


def test_completion_works_while_another_line_is_broken(lsp: Session, tmp_path: Path) -> None:
    # an open quote on line 10 breaks the YAML; the call in finally still completes
    text = BADGE.replace('"{{ inputs.logon }}"', '"{{ inputs.logon') + "finally:\n  - call:"
    path = _files(tmp_path, text)

    async def scenario(ed: Editor) -> None:
        uri = await ed.open(path)
        (broken,) = await ed.diagnostics(uri)
        assert broken.message.startswith("invalid YAML")
        items = await ed.completion(uri, 19, 9)
        edits = {i.label: i.text_edit for i in items}
        edit = edits["ndd.pin_codes"]
        assert isinstance(edit, t.TextEdit)
        assert edit.new_text == " ndd.pin_codes"  # right after the colon: a space first

    lsp(scenario)


TICKETS = """\
name: tickets
settings:
  base_url: {required: true}
operations:
  open_ticket:
    summary: Open a ticket
    method: POST
    path: /tickets
    params:
      title: {type: string, required: true, description: one line}
"""


def test_a_repositorys_own_connector_file_completes_and_is_a_definition(
        lsp: Session, tmp_path: Path) -> None:
    (tmp_path / "connectors").mkdir()
    (tmp_path / "connectors" / "tickets.yaml").write_text(TICKETS, encoding="utf-8")
    text = ("name: t\nconnectors:\n  desk: {file: connectors/tickets.yaml}\n"
            "steps:\n  - call: desk.open_ticket\n    with:\n      \n")
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")

    async def scenario(ed: Editor) -> None:
        uri = await ed.open(path)
        (d,) = await ed.diagnostics(uri)
        assert d.message == "step #1 > with: expected a mapping, got nothing"  # validate's
        labels = [i.label for i in await ed.completion(uri, 6, 6)]
        assert labels == ["title"]
        found = await ed.definition(uri, 2, 18)
        assert isinstance(found, t.Location)
        assert found.uri == (tmp_path / "connectors" / "tickets.yaml").resolve().as_uri()

    lsp(scenario)
