"""Baseline: 1 login + N GETs with the standard library's http.client, by hand.

``python bench/scripts/httpclient_calls.py BASE_URL N``: the same requests, filter and checks
as requests_calls.py beside it, on one keep-alive HTTPConnection (no pool, no retries, no
redirects: the floor of what Python can do).
"""

import http.client
import json
import os
import sys
from urllib.parse import urlsplit

base, n = sys.argv[1], int(sys.argv[2])
url = urlsplit(base)
conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
token = os.environ.get("BENCH_TOKEN")
if not token:
    body = json.dumps({"username": "bench", "password": os.environ["BENCH_PASSWORD"]})
    conn.request("POST", url.path + "/login", body=body,
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    assert r.status == 200, r.status
    token = json.loads(data)["token"]
headers = {"Authorization": f"Bearer {token}"}
for i in range(n):
    conn.request("GET", f"{url.path}/items/{i}", headers=headers)
    r = conn.getresponse()
    data = r.read()
    assert r.status == 200, r.status
    ids = [it["id"] for it in json.loads(data)["items"] if it["kind"] == "b"]
    assert ids == [f"{i}-1", f"{i}-4", f"{i}-7", f"{i}-10"], f"item {i}: kind b is {ids}"
conn.close()
