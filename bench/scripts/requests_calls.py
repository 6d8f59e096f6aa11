"""Baseline: 1 login + N GETs with requests, as a user would write it by hand.

``python bench/scripts/requests_calls.py BASE_URL N``: POST /login, then GET /items/<i> for i
in 0..N-1, each answer parsed, its items filtered on kind == 'b', the ids checked (what
bench/playbooks/process-calls.yaml extracts and asserts). With $BENCH_TOKEN set, that bearer
token is sent and there is no login (bench/playbooks/process-one.yaml's one request).
"""

import os
import sys

import requests

base, n = sys.argv[1], int(sys.argv[2])
with requests.Session() as s:
    token = os.environ.get("BENCH_TOKEN")
    if not token:
        r = s.post(base + "/login", json={"username": "bench",
                                          "password": os.environ["BENCH_PASSWORD"]}, timeout=30)
        r.raise_for_status()
        token = r.json()["token"]
    s.headers["Authorization"] = f"Bearer {token}"
    for i in range(n):
        r = s.get(f"{base}/items/{i}", timeout=30)
        r.raise_for_status()
        ids = [it["id"] for it in r.json()["items"] if it["kind"] == "b"]
        assert ids == [f"{i}-1", f"{i}-4", f"{i}-7", f"{i}-10"], f"item {i}: kind b is {ids}"
