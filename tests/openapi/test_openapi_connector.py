"""`runner connector new --from DOC NAME` on two real public OpenAPI 3 documents: the one
jupyterlab_server ships in its wheel (rest-api.yml, committed here with its licence) and
Alvaria's AutoFacilitate reference, written from the vendor's public page
(alvaria-autofacilitate.yaml says where each part comes from). The generated connector validates,
its operations are in the repository's editor schema, and playbooks run over real HTTP against
the generated simulator (through the installed `runner` command, and in-process for the secret
check)."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import yaml
from helpers import cli

from runner.errors import EXIT_INVALID, EXIT_OK

HERE = Path(__file__).parent
JUPYTER = HERE / "jupyterlab-server-rest-api.yml"
ALVARIA = HERE / "alvaria-autofacilitate.yaml"

JUPYTER_PLAYBOOK = """\
name: jupyterlab settings and workspaces
connectors:
  lab: {use: jupyterlab}
steps:
  - id: settings
    call: lab.get_settings_by_schema_name
    with: {schema_name: "@jupyterlab/shortcuts-extension:shortcuts"}
    assert:
      - "response.status_code == 200"
      - schema: {openapi: rest-api.yml, operation: get_settings_by_schema_name}
  - id: save
    call: lab.put_workspaces_by_space_name
    with: {space_name: lab, data: {layout: 1}, metadata: {id: lab}}
    assert: "response.status_code == 204"
  - id: licenses
    call: lab.get_licenses
    with: {full_text: false, format: json}
    extract: {bundles: $.bundles}
    assert:
      schema: {openapi: rest-api.yml, operation: get_licenses}
  - id: drop
    call: lab.delete_workspaces_by_space_name
    with: {space_name: lab}
"""
ALVARIA_PLAYBOOK = """\
name: trigger a service and read its result
connectors:
  af: {use: autofacilitate}
steps:
  - id: execute
    call: af.execute
    with: {orgId: acme, vsn: survey, triggerParameters: {key: value}}
    extract: {uuid: $.triggerUUID}
    assert: "response.json.message.startswith('Successfully triggered')"
  - id: result
    call: af.result
    with: {orgId: acme, vsn: survey, triggerUUID: "{{ uuid }}"}
    assert: "response.status_code == 204"
"""


def _repo(root: Path, doc: Path, name: str, playbook: str) -> Path:
    (root / "playbooks").mkdir(parents=True)
    shutil.copy(doc, root / "playbooks" / ("rest-api.yml" if doc == JUPYTER else doc.name))
    (root / "playbooks" / "p.yaml").write_text(playbook)
    proc = cli("connector", "new", "--from", str(doc), name, cwd=root)
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    assert f"connectors/{name}.yaml" in proc.stdout
    return root


def _with_schema(node: object, call: str) -> dict:
    """The editor schema's ``with:`` rule for ``call: <call>``."""
    if isinstance(node, dict):
        if node.get("if", {}).get("properties", {}).get("call", {}).get("const") == call:
            return dict(node["then"]["properties"]["with"])
        values: list = list(node.values())
    else:
        values = list(node) if isinstance(node, list) else []
    for v in values:
        found = _with_schema(v, call)
        if found:
            return found
    return {}


def test_jupyterlab_servers_document_becomes_a_connector_that_runs(tmp_path: Path) -> None:
    repo = _repo(tmp_path, JUPYTER, "jupyterlab", JUPYTER_PLAYBOOK)
    written = yaml.safe_load((repo / "connectors" / "jupyterlab.yaml").read_text())
    ops = written["operations"]
    assert len(ops) == 12
    licenses = ops["get_licenses"]
    assert licenses["method"] == "GET" and licenses["path"] == "/lab/api/licenses/"
    assert licenses["params"]["full_text"] == {"type": "boolean", "in": "query",
                                               "description": "Return full license texts"}
    assert licenses["params"]["format"]["enum"] == ["csv", "json", "markdown"]
    assert licenses["summary"] == "License report"
    put = ops["put_settings_by_schema_name"]
    assert put["params"]["schema_name"]["in"] == "path" and put["params"]["raw"]["in"] == "json"
    assert put["success"] == [204]
    assert written["auth"] == {"scheme": "none"}

    proc = cli("validate", "playbooks/p.yaml", cwd=repo)
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    proc = cli("schema", cwd=repo)
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    schema = json.loads((repo / "schemas" / "playbook.schema.json").read_text())
    names = schema["$defs"]["step"]["properties"]["call"]["anyOf"][0]["enum"]
    assert {"jupyterlab.get_licenses", "jupyterlab.put_workspaces_by_space_name"} <= set(names)
    with_ = _with_schema(schema, "jupyterlab.get_licenses")
    # with: completes the parameters, typed
    assert with_["properties"]["full_text"]["anyOf"][0] == {"type": "boolean"}
    assert with_["properties"]["full_text"]["description"] == "Return full license texts"
    assert with_["properties"]["format"]["type"] == "string"

    proc = cli("run", "playbooks/p.yaml", "--store", str(tmp_path / "runs.db"), cwd=repo)
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    assert "4 passed" in proc.stdout, proc.stdout


def test_alvarias_document_becomes_a_connector_with_its_auth(tmp_path: Path) -> None:
    repo = _repo(tmp_path, ALVARIA, "autofacilitate", ALVARIA_PLAYBOOK)
    written = yaml.safe_load((repo / "connectors" / "autofacilitate.yaml").read_text())
    assert written["auth"] == {"scheme": "oauth2_client_credentials",
                               "token_url": "{{ settings.token_url }}",
                               "form": {"scope": "autofacilitateapi"}}
    assert written["headers"] == {"x-api-key": "{{ settings.x_api_key }}"}
    assert written["settings"]["x_api_key"]["secret"] is True
    assert written["settings"]["client_secret"]["secret"] is True
    assert "myaspect.{region}.id" in written["settings"]["token_url"]["default"]
    execute = written["operations"]["execute"]
    # the documented error answers are said, and Authorization / x-api-key are not parameters
    assert "422 Unprocessable Entity" in execute["description"]
    assert set(execute["params"]) == {"orgId", "vsn", "triggerParameters", "callbackUrls"}
    assert execute["params"]["triggerParameters"]["type"] == "object"
    assert written["operations"]["result"]["success"] == [204]
    assert "response.json.message" in written["errors"][0]["message"]

    proc = cli("validate", "playbooks/p.yaml", cwd=repo)
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    proc = cli("schema", cwd=repo)
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    schema = json.loads((repo / "schemas" / "playbook.schema.json").read_text())
    assert set(_with_schema(schema, "autofacilitate.execute")["required"]) == {"orgId", "vsn"}
    assert _with_schema(schema, "autofacilitate.result")["properties"]["triggerUUID"]
    proc = cli("run", "playbooks/p.yaml", "--store", str(tmp_path / "runs.db"), cwd=repo)
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    assert "uuid = 1234" in proc.stdout


def test_the_generated_simulator_checks_credentials_and_keeps_them_secret(tmp_path: Path) -> None:
    from runner import api
    from runner.sandbox import Sandbox

    repo = _repo(tmp_path, ALVARIA, "autofacilitate", ALVARIA_PLAYBOOK)
    sandbox, out = Sandbox(), io.StringIO()
    report = tmp_path / "report.json"
    result = api.run(repo / "playbooks" / "p.yaml", sandbox=sandbox, stream=out, store=False,
                     progress=False, report_json=report)
    assert result.status == "passed", out.getvalue()
    sim = sandbox.simulators["autofacilitate"]
    assert sim.calls["token"] == 1 and sim.calls["execute"] == 1
    secrets = sim.secret_values()
    assert len(secrets) == 3  # the client secret, the x-api-key, the token it handed out
    for text in (out.getvalue(), report.read_text()):
        assert not [s for s in secrets if s in text]
    # without the credentials the simulator refuses, as the vendor does
    import urllib.error
    import urllib.request

    sim.start()
    try:
        urllib.request.urlopen(urllib.request.Request(
            sim.url + "/via/v2/organizations/a/autoFacilitate/execute/b", method="POST",
            data=b"{}"))
        raise AssertionError("a request without credentials was answered")
    except urllib.error.HTTPError as e:
        assert e.code == 401
    finally:
        sim.stop()


SMALL = {
    "openapi": "3.1.0",
    "info": {"title": "Orders"},
    "servers": [{"url": "https://shop.example.com/api/v2"}],
    "components": {
        "securitySchemes": {"key": {"type": "apiKey", "in": "query", "name": "key"},
                            "session": {"type": "apiKey", "in": "cookie", "name": "sid"}},
        "schemas": {"Order": {"type": "object", "required": ["id"],
                              "properties": {"id": {"type": "integer"},
                                             "note": {"type": ["string", "null"]}}}},
    },
    "security": [{"key": [], "session": []}],
    "paths": {
        "/health": {"get": {"operationId": "health", "security": [], "responses": {"200": {
            "description": "up", "content": {"application/json": {"example": {"up": True}}}}}}},
        "/orders": {
            "post": {"operationId": "createOrder",
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": {"type": "array",
                                    "items": {"$ref": "#/components/schemas/Order"}}}}},
                     "responses": {"201": {"description": "made", "content": {"application/json": {
                         "schema": {"$ref": "#/components/schemas/Order"},
                         "examples": {"one": {"value": {"id": 7, "note": None}}}}}}}},
            "get": {"operationId": "listOrders",
                    "parameters": [{"name": "limit", "in": "query", "required": True,
                                    "schema": {"type": "integer", "default": 10}},
                                   {"name": "trace", "in": "cookie", "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "ok", "content": {"application/json": {
                        "schema": {"type": "array",
                                   "items": {"$ref": "#/components/schemas/Order"}}}}}}},
        },
    },
}


def test_what_cannot_be_mapped_is_said_and_examples_are_answered(tmp_path: Path) -> None:
    doc = tmp_path / "orders.json"
    doc.write_text(json.dumps(SMALL))
    proc = cli("connector", "new", "--from", str(doc), "shop", cwd=tmp_path)
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    assert "not mapped: security scheme 'session' (apiKey)" in proc.stdout, proc.stdout
    assert "cookie parameter 'trace' not mapped" in proc.stdout, proc.stdout
    text = (tmp_path / "connectors" / "shop.yaml").read_text()
    assert "# - list_orders: cookie parameter 'trace' not mapped" in text
    written = yaml.safe_load(text)
    assert written["auth"] == {"scheme": "api_key", "value": "{{ settings.api_key }}",
                               "in": "query", "name": "key"}
    create = written["operations"]["create_order"]
    assert create["params"] == {"body": {"type": "array", "required": True, "in": "json",
                                         "description": "the request's whole body"}}
    assert create["json"] == "{{ body }}" and create["success"] == [201]
    assert written["operations"]["list_orders"]["params"]["limit"]["default"] == 10
    assert written["operations"]["health"]["auth"] is False  # security: []
    (tmp_path / "p.yaml").write_text("""\
name: orders
connectors: {shop: {use: shop}}
steps:
  - call: shop.health
    assert: "response.json.up"
  - id: create
    call: shop.create_order
    with: {body: [{id: 7}]}
    extract: {id: $.id}
    assert: {schema: {openapi: orders.json, operation: createOrder}}
  - id: list
    call: shop.list_orders
    assert: {schema: {openapi: orders.json, operation: list_orders}}
""")
    proc = cli("run", "p.yaml", "--store", str(tmp_path / "runs.db"), cwd=tmp_path)
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    assert "id = 7" in proc.stdout  # the documented example, from examples:


def test_a_document_that_is_not_openapi_3_is_refused(tmp_path: Path) -> None:
    doc = tmp_path / "swagger.yaml"
    doc.write_text("swagger: '2.0'\ninfo: {title: old}\npaths: {}\n")
    proc = cli("connector", "new", "--from", str(doc), "old", cwd=tmp_path)
    assert proc.returncode == EXIT_INVALID
    assert "not an OpenAPI 3 document" in proc.stderr + proc.stdout
    external = dict(SMALL, paths={"/x": {"get": {"responses": {"200": {
        "$ref": "other.yaml#/components/responses/Ok"}}}}})
    doc.write_text(json.dumps(external))
    proc = cli("connector", "new", "--from", str(doc), "x", cwd=tmp_path)
    assert proc.returncode == EXIT_INVALID
    assert "a reference to another file" in proc.stderr + proc.stdout
    assert not (tmp_path / "connectors" / "x.yaml").exists()
    proc = cli("connector", "new", "--from", str(ALVARIA), "alvaria", cwd=tmp_path)
    assert proc.returncode == EXIT_INVALID
    assert "'alvaria' is an installed connector's name" in proc.stderr + proc.stdout


def test_an_existing_connector_file_is_kept(tmp_path: Path) -> None:
    _repo(tmp_path, ALVARIA, "autofacilitate", ALVARIA_PLAYBOOK)
    proc = cli("connector", "new", "--from", str(ALVARIA), "autofacilitate", cwd=tmp_path)
    assert proc.returncode == EXIT_INVALID and "--force" in proc.stderr + proc.stdout
    proc = cli("connector", "new", "--from", str(ALVARIA), "autofacilitate", "--force",
               cwd=tmp_path)
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr


PETS = {
    "openapi": "3.0.3", "info": {"title": "Pets"},
    "paths": {
        "/pets/{id}": {"get": {"operationId": "getPet", "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {"200": {"description": "a pet", "content": {"application/json": {
                "example": {"name": "Rex"}}}}}}},
        "/pets/mine": {"get": {"operationId": "myPets", "responses": {"200": {
            "description": "mine", "content": {"application/json": {"example": [
                {"name": "Tom"}]}}}}}},
    },
}


def test_a_literal_path_beside_a_parameter_reaches_its_own_route(tmp_path: Path) -> None:
    # get_pet sorts before my_pets: without the guard, /pets/{id} would answer /pets/mine
    doc = tmp_path / "pets.json"
    doc.write_text(json.dumps(PETS))
    proc = cli("connector", "new", "--from", str(doc), "pets", "--out", "repo", cwd=tmp_path)
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    written = yaml.safe_load((tmp_path / "repo" / "connectors" / "pets.yaml").read_text())
    assert written["operations"]["get_pet"]["params"]["id"]["type"] == "integer"
    (tmp_path / "repo" / "p.yaml").write_text("""\
name: pets
connectors: {pets: {use: pets}}
steps:
  - call: pets.my_pets
    assert: "response.json[0].name == 'Tom'"
  - call: pets.get_pet
    with: {id: 3}
    assert: "response.json.name == 'Rex'"
""")
    proc = cli("run", "p.yaml", "--store", str(tmp_path / "runs.db"), cwd=tmp_path / "repo")
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
