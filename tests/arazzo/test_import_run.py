"""Imported workflows run: the published pet-coupons example's buy-available-pet (with its
included place-order) and a written depot workflow (a form body with a secret input, a
header from an earlier step's output, an onFailure retry as a poll) over real HTTP against
WSGI apps written here, served by cheroot on loopback, with `runner run` as a user types it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from runner import api
from tests.helpers import cli
from tests.wsgi_servers import serving

DATA = Path(__file__).resolve().parent.parent / "data" / "arazzo"
SECRET = "s3cr3t-client-value-9431"
TOKEN = "tok-from-the-depot-7781"


class App:
    """A WSGI app that records each request and answers from ``route``."""

    def __init__(self, route: Any) -> None:
        self.route, self.seen = route, []  # type: ignore[var-annotated]

    def __call__(self, environ: dict[str, Any], start: Any) -> list[bytes]:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size).decode() if size else ""
        request = {"method": environ["REQUEST_METHOD"], "path": environ["PATH_INFO"],
                   "query": parse_qs(environ.get("QUERY_STRING", "")), "body": body,
                   "headers": {k[5:].replace("_", "-").lower(): v for k, v in environ.items()
                               if k.startswith("HTTP_")}}
        self.seen.append(request)
        status, answer, headers = self.route(request, len(self.seen))
        start(status, [("Content-Type", "application/json"), *headers])
        return [json.dumps(answer).encode()]


def petstore(r: dict[str, Any], _n: int) -> tuple[str, Any, list[tuple[str, str]]]:
    if r["method"] == "GET" and r["path"] == "/v3/pet/findByStatus":
        return "200 OK", [{"id": 7, "name": "Rex"}], []
    if r["method"] == "POST" and r["path"] == "/v3/store/order":
        return "200 OK", {"id": 99, **json.loads(r["body"])}, []
    return "404 Not Found", {"error": "no such route"}, []


@pytest.fixture
def store_env(tmp_path: Path) -> dict[str, str]:
    return {"RUNNER_STORE": str(tmp_path / "runs.db"), "HOME": str(tmp_path),
            "NO_PROXY": "127.0.0.1"}


def test_a_published_workflow_runs(tmp_path: Path, store_env: dict[str, str]) -> None:
    out = tmp_path / "pets"
    api.import_arazzo(DATA / "pet-coupons.arazzo.yaml", out, sources={})
    app = App(petstore)
    with serving(app) as url:
        env = tmp_path / "lab.yaml"
        env.write_text(f"connectors:\n  pet_coupons: {{base_url: '{url}/v3'}}\n")
        run = cli("run", str(out / "buy-available-pet.yaml"), "--env", str(env),
                  env=store_env)
    assert run.returncode == 0, run.stdout + run.stderr
    find, order = app.seen
    assert find["query"] == {"status": ["available"], "page": ["1"], "pageSize": ["10"]}
    assert order["method"] == "POST"
    assert json.loads(order["body"]) == {"petId": 7, "quantity": None, "couponCode": None,
                                         "status": "placed", "complete": False}
    assert "outputs:\n  buy_pet_order_id: 99\n" in run.stdout, run.stdout


@pytest.fixture
def depot() -> Iterator[tuple[str, App]]:
    def route(r: dict[str, Any], n: int) -> tuple[str, Any, list[tuple[str, str]]]:
        if r["path"] == "/depot/token" and r["method"] == "POST":
            form = parse_qs(r["body"])
            if form.get("client_secret") != [SECRET]:
                return "401 Unauthorized", {"error": "bad secret"}, []
            return "200 OK", {"access_token": TOKEN, "echo": form["client_secret"][0]}, []
        if r["path"] == "/depot/parcels/P-1" and r["headers"].get("x-api-token") == TOKEN:
            polls = sum(1 for s in app.seen if s["path"].startswith("/depot/parcels"))
            state = "delivered" if polls >= 3 else "in transit"
            return ("200 OK", {"state": state, "signature": {"name": "A. Smith"}},
                    [("X-Request-Id", f"req-{n}")])
        return "404 Not Found", {"error": "no such parcel"}, []

    app = App(route)
    with serving(app) as url:
        yield url, app


def test_a_retry_a_form_and_a_secret(tmp_path: Path, store_env: dict[str, str],
                                     depot: tuple[str, App]) -> None:
    url, app = depot
    out = tmp_path / "depot"
    done = api.import_arazzo(DATA / "local" / "depot.arazzo.yaml", out, sources={})
    assert done.not_mapped == [
        "workflow track-parcel step wait-delivered: successCriteria '^\\\\{' of type regex: "
        "only simple conditions become asserts (left out)"]
    env = tmp_path / "lab.yaml"
    env.write_text(f"connectors:\n  depot: {{base_url: '{url}/depot'}}\n")
    report = tmp_path / "report.json"
    run = cli("run", str(out / "track-parcel.yaml"), "--env", str(env), "-i", "parcel=P-1",
              "-i", f"client_secret={SECRET}", "--report-json", str(report), env=store_env)
    assert run.returncode == 0, run.stdout + run.stderr
    token, *polls = app.seen
    assert parse_qs(token["body"]) == {"grant_type": ["client_credentials"],
                                       "client_secret": [SECRET]}
    assert len(polls) == 3 and all(p["headers"]["x-api-token"] == TOKEN for p in polls)
    result = json.loads(report.read_text())
    assert result["status"] == "passed" and result["outputs"] == {"signed_by": "A. Smith"}
    history = cli("history", env=store_env)
    store = Path(store_env["RUNNER_STORE"]).read_bytes()
    for text in (run.stdout, run.stderr, report.read_text(), history.stdout):
        assert SECRET not in text  # the form's secret input, and the server's echo of it
    assert SECRET.encode() not in store


def test_a_retry_that_runs_out(tmp_path: Path, store_env: dict[str, str]) -> None:
    def route(r: dict[str, Any], _n: int) -> tuple[str, Any, list[tuple[str, str]]]:
        if r["path"] == "/depot/token":
            return "200 OK", {"access_token": TOKEN}, []
        return "200 OK", {"state": "in transit", "signature": {"name": ""}}, []

    out = tmp_path / "depot"
    api.import_arazzo(DATA / "local" / "depot.arazzo.yaml", out, sources={})
    app = App(route)
    with serving(app) as url:
        env = tmp_path / "lab.yaml"
        env.write_text(f"connectors:\n  depot: {{base_url: '{url}/depot'}}\n")
        run = cli("run", str(out / "track-parcel.yaml"), "--env", str(env), "-i",
                  "parcel=P-1", "-i", f"client_secret={SECRET}", env=store_env)
    assert run.returncode == 1, run.stdout + run.stderr
    assert len(app.seen) == 1 + 6  # the token, then retryLimit 5 tries after the first
    assert "track-parcel.yaml:" in run.stdout + run.stderr  # the failed step's file:line
    assert os.environ.get("RUNNER_DEBUG") or "Traceback" not in run.stderr
