"""Baseline: 1 login + N GETs with urllib3, as a user would write it by hand.

``python bench/scripts/urllib3_calls.py BASE_URL N``: the same requests, filter and checks as
requests_calls.py beside it, on one urllib3.PoolManager (keep-alive).
"""

import json
import os
import sys

import urllib3

base, n = sys.argv[1], int(sys.argv[2])
http = urllib3.PoolManager(timeout=30)
token = os.environ.get("BENCH_TOKEN")
if not token:
    r = http.request("POST", base + "/login",
                     json={"username": "bench", "password": os.environ["BENCH_PASSWORD"]})
    assert r.status == 200, r.status
    token = json.loads(r.data)["token"]
headers = {"Authorization": f"Bearer {token}"}
for i in range(n):
    r = http.request("GET", f"{base}/items/{i}", headers=headers)
    assert r.status == 200, r.status
    ids = [it["id"] for it in json.loads(r.data)["items"] if it["kind"] == "b"]
    assert ids == [f"{i}-1", f"{i}-4", f"{i}-7", f"{i}-10"], f"item {i}: kind b is {ids}"
