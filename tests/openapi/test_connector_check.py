"""`runner connector check NAME --against DOC`: where a connector and an OpenAPI document
disagree (exit 1, one line each), agreeing (exit 0), a document that is not one (exit 2)."""

from __future__ import annotations

import shutil
from pathlib import Path

from helpers import cli

from runner.errors import EXIT_FAILED, EXIT_INVALID, EXIT_OK

HERE = Path(__file__).parent
JUPYTER = HERE / "jupyterlab-server-rest-api.yml"
ALVARIA = HERE / "alvaria-autofacilitate.yaml"


def _new(root: Path, doc: Path, name: str) -> Path:
    proc = cli("connector", "new", "--from", str(doc), name, cwd=root)
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    return root / "connectors" / f"{name}.yaml"


def test_a_generated_connector_agrees_with_its_document(tmp_path: Path) -> None:
    _new(tmp_path, JUPYTER, "jupyterlab")
    proc = cli("connector", "check", "jupyterlab", "--against", str(JUPYTER), cwd=tmp_path)
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    assert "agrees" in proc.stdout


def test_the_built_in_alvaria_connector_agrees_with_alvarias_document(tmp_path: Path) -> None:
    # orgId comes from a setting in the built-in's paths ({{ settings.org_id }}), its body
    # from a json: template: neither is a disagreement
    proc = cli("connector", "check", "alvaria", "--against", str(ALVARIA), cwd=tmp_path)
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr


def test_every_kind_of_disagreement_is_named(tmp_path: Path) -> None:
    path = _new(tmp_path, JUPYTER, "jupyterlab")
    text = path.read_text()
    # an operation gone, a parameter's type changed, one added, one made optional, a method
    # changed and an operation the document does not have
    start = text.index("  get_themes_by_theme_file:")
    end = text.index("  get_translations:")
    text = text[:start] + text[end:]
    text = text.replace("      full_text:\n        type: boolean", "      full_text:\n"
                        "        type: string")
    text = text.replace("    path: /lab/api/settings/\n", "    path: /lab/api/settings/\n"
                        "    params:\n      page: {type: integer}\n")
    text = text.replace("method: DELETE", "method: POST")
    text += ("  reboot:\n    method: POST\n    path: /lab/api/reboot\n")
    path.write_text(text)
    proc = cli("connector", "check", "jupyterlab", "--against", str(JUPYTER), cwd=tmp_path)
    assert proc.returncode == EXIT_FAILED, proc.stdout + proc.stderr
    out = proc.stdout
    assert "missing        get_themes_by_theme_file: GET /lab/api/themes/{theme_file}" in out
    assert "type           get_licenses: 'full_text' is boolean in the document, string" in out
    assert "param-extra    get_settings: 'page' (query) is not in the document" in out
    assert "method         delete_workspaces_by_space_name: the document says DELETE" in out
    assert "extra          reboot: POST /lab/api/reboot" in out
    assert "5 disagreement(s)" in out, out


def test_required_and_placement_disagreements(tmp_path: Path) -> None:
    path = _new(tmp_path, ALVARIA, "autofacilitate")
    text = path.read_text().replace("""      triggerUUID:
        type: string
        required: true
        in: path""", """      triggerUUID:
        type: string
        in: path""").replace("""      vsn:
        type: string
        required: true
        in: path
        description: Service name to trigger""", """      vsn:
        type: string
        required: true
        in: query
        description: Service name to trigger""")
    path.write_text(text)
    proc = cli("connector", "check", "autofacilitate", "--against", str(ALVARIA), cwd=tmp_path)
    assert proc.returncode == EXIT_FAILED, proc.stdout + proc.stderr
    assert "required       result: 'triggerUUID' is required by the document" in proc.stdout
    assert "in             execute: 'vsn' goes in path in the document, in query" in proc.stdout


def test_a_missing_document_or_connector_is_invalid_input(tmp_path: Path) -> None:
    proc = cli("connector", "check", "alvaria", "--against", str(tmp_path / "none.yaml"),
               cwd=tmp_path)
    assert proc.returncode == EXIT_INVALID
    assert "cannot read" in proc.stderr + proc.stdout
    shutil.copy(ALVARIA, tmp_path / "a.yaml")
    proc = cli("connector", "check", "nosuch", "--against", "a.yaml", cwd=tmp_path)
    assert proc.returncode == EXIT_INVALID, proc.stdout + proc.stderr
